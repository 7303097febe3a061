//! A node-wide cap on bytes peers make a node hold, shared fairly by the connections: the
//! divided messages being joined by every connection's [`Reassembler`](crate::Reassembler) (each
//! connection's own limits, 256 MiB per message and 10 in flight, still allow gigabytes per
//! connection, so a node caps the sum), and, with a budget of their own, the strings being
//! received (`new_str` / `str_upd`, in the core crate's agents module).
//!
//! Fair sharing: every authenticated connection (a *peer*) is guaranteed `cap / peers` bytes.
//! - A frame that keeps its connection within that guarantee is always kept, even when the
//!   node's budget is full: the connections then holding more than their guarantee are
//!   *squeezed* (for as long as they still do): their next frame is refused and their receive
//!   timer closes them
//!   ([`Reassembler::over_fair_share`](crate::Reassembler::over_fair_share)), which gives back
//!   what they hold. One peer alone may fill the whole budget, but it cannot keep another peer
//!   from its share.
//! - Beyond its guarantee a connection uses what is left of the budget; a frame that would pass
//!   the cap is refused and its connection closes before its bytes are kept.
//!
//! A connection that has not authenticated yet is guaranteed nothing (it never counts as a peer,
//! so a flood of connections without the key cannot shrink the real workers' shares). The sum
//! may pass the cap only by frames kept within a guarantee while squeezed connections still hold
//! theirs, at most `2 x cap`, until the squeezed connections' next frame or receive timer tick.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// Bytes held by incomplete divided messages on a node, and the most allowed. Cloning shares it.
#[derive(Debug, Clone)]
pub struct NodeBudget {
    state: Arc<Mutex<State>>,
    cap: usize,
}

#[derive(Debug, Default)]
struct State {
    used: usize,
    peers: usize,
    next_id: u64,
    shares: HashMap<u64, ShareState>,
}

#[derive(Debug, Default)]
struct ShareState {
    held: usize,
    peer: bool,
    /// Held more than its guarantee when a peer took its own from a full budget.
    squeezed: bool,
}

impl State {
    /// What an authenticated connection is guaranteed now.
    fn guarantee(&self, cap: usize, peer: bool) -> usize {
        if peer { cap / self.peers.max(1) } else { 0 }
    }

    /// Whether `share` must give back what it holds: it held more than its guarantee when a
    /// peer took its own from a full budget, and it still does.
    fn squeezed(&self, cap: usize, share: &ShareState) -> bool {
        share.squeezed && share.held > self.guarantee(cap, share.peer)
    }

    /// After a peer took its guarantee from a full budget: every share over its own is
    /// squeezed, the others are not.
    fn mark_squeezed(&mut self, cap: usize) {
        let peer_share = self.guarantee(cap, true);
        for share in self.shares.values_mut() {
            let own = if share.peer { peer_share } else { 0 };
            share.squeezed = share.held > own;
        }
    }
}

/// Why bytes were not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The node's budget is full and this connection is past its guarantee.
    Full {
        /// Bytes held on the node.
        used: usize,
    },
    /// This connection holds more than its fair share while another peer needs its own.
    Squeezed {
        /// Bytes this connection holds.
        held: usize,
        /// Its fair share now.
        share: usize,
        /// Authenticated connections sharing the budget.
        peers: usize,
    },
}

impl NodeBudget {
    /// A budget of `cap` bytes.
    pub fn new(cap: usize) -> Self {
        Self {
            state: Arc::new(Mutex::new(State::default())),
            cap,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update leaves the state consistent, so a panic elsewhere cannot spoil it.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Bytes held now, over every connection.
    pub fn used(&self) -> usize {
        self.lock().used
    }

    /// The cap.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Authenticated connections sharing the budget now.
    pub fn peers(&self) -> usize {
        self.lock().peers
    }

    /// A new connection's share: it holds nothing and is guaranteed nothing until
    /// [`BudgetShare::set_peer`] counts it.
    pub fn share(&self) -> BudgetShare {
        let mut state = self.lock();
        let id = state.next_id;
        state.next_id += 1;
        state.shares.insert(id, ShareState::default());
        BudgetShare {
            budget: self.clone(),
            id,
        }
    }
}

/// One connection's part of a [`NodeBudget`]; dropping it gives back what it holds.
#[derive(Debug)]
pub struct BudgetShare {
    budget: NodeBudget,
    id: u64,
}

impl BudgetShare {
    /// The node's budget this share belongs to.
    pub fn budget(&self) -> &NodeBudget {
        &self.budget
    }

    /// Counts this connection as an authenticated peer (guaranteed its share) or not.
    pub fn set_peer(&self, peer: bool) {
        let mut state = self.budget.lock();
        let Some(share) = state.shares.get_mut(&self.id) else {
            return;
        };
        if share.peer == peer {
            return;
        }
        share.peer = peer;
        if peer {
            state.peers += 1;
        } else {
            state.peers -= 1;
        }
    }

    /// Keeps `bytes` more for this connection, or says why not (nothing kept).
    pub fn take(&self, bytes: usize) -> Result<(), Refusal> {
        let cap = self.budget.cap;
        let mut state = self.budget.lock();
        let Some(share) = state.shares.get(&self.id) else {
            return Err(Refusal::Full { used: state.used });
        };
        let (held, peer) = (share.held, share.peer);
        let guarantee = state.guarantee(cap, peer);
        if state.squeezed(cap, share) {
            return Err(Refusal::Squeezed {
                held,
                share: guarantee,
                peers: state.peers,
            });
        }
        let within_guarantee = held.saturating_add(bytes) <= guarantee;
        let fits = state.used.saturating_add(bytes) <= cap;
        if !fits && !within_guarantee {
            return Err(Refusal::Full { used: state.used });
        }
        state.used += bytes;
        if let Some(share) = state.shares.get_mut(&self.id) {
            share.held += bytes;
        }
        if !fits {
            state.mark_squeezed(cap);
        }
        Ok(())
    }

    /// Gives back `bytes` kept before.
    pub fn give_back(&self, bytes: usize) {
        let mut state = self.budget.lock();
        state.used = state.used.saturating_sub(bytes);
        if let Some(share) = state.shares.get_mut(&self.id) {
            share.held = share.held.saturating_sub(bytes);
        }
    }

    /// Whether this connection must give back what it holds (see the module's docs).
    pub fn is_squeezed(&self) -> bool {
        let state = self.budget.lock();
        state
            .shares
            .get(&self.id)
            .is_some_and(|share| state.squeezed(self.budget.cap, share))
    }
}

impl Drop for BudgetShare {
    fn drop(&mut self) {
        let mut state = self.budget.lock();
        if let Some(share) = state.shares.remove(&self.id) {
            state.used = state.used.saturating_sub(share.held);
            if share.peer {
                state.peers -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_alone_may_fill_the_budget() {
        let budget = NodeBudget::new(100);
        let hog = budget.share();
        hog.set_peer(true);
        assert_eq!(hog.take(100), Ok(()));
        assert_eq!(hog.take(1), Err(Refusal::Full { used: 100 }));
    }

    #[test]
    fn a_newcomer_gets_its_share_and_squeezes_the_hog() {
        let budget = NodeBudget::new(100);
        let hog = budget.share();
        hog.set_peer(true);
        hog.take(100).unwrap();
        let honest = budget.share();
        honest.set_peer(true);
        assert_eq!(budget.peers(), 2);
        // Within its guarantee of 50: kept although the budget is full.
        assert_eq!(honest.take(30), Ok(()));
        assert_eq!(budget.used(), 130);
        assert!(hog.is_squeezed());
        assert!(!honest.is_squeezed());
        assert_eq!(
            hog.take(1),
            Err(Refusal::Squeezed {
                held: 100,
                share: 50,
                peers: 2
            })
        );
        // Past its guarantee the honest peer uses only what is left.
        assert_eq!(honest.take(30), Err(Refusal::Full { used: 130 }));
        drop(hog);
        assert_eq!(budget.used(), 30);
        assert_eq!(budget.peers(), 1);
        assert_eq!(honest.take(70), Ok(()));
    }

    #[test]
    fn a_squeezed_share_is_released_once_back_within_its_guarantee() {
        let budget = NodeBudget::new(100);
        let hog = budget.share();
        hog.set_peer(true);
        hog.take(90).unwrap();
        let honest = budget.share();
        honest.set_peer(true);
        honest.take(20).unwrap();
        assert!(hog.is_squeezed());
        hog.give_back(90);
        assert!(!hog.is_squeezed());
        assert_eq!(hog.take(10), Ok(()));
    }

    #[test]
    fn connections_without_the_key_are_guaranteed_nothing_and_do_not_shrink_shares() {
        let budget = NodeBudget::new(100);
        let honest = budget.share();
        honest.set_peer(true);
        let strangers: Vec<BudgetShare> = (0..50).map(|_| budget.share()).collect();
        assert_eq!(budget.peers(), 1);
        assert_eq!(strangers[0].take(60), Ok(()));
        // The honest peer's guarantee is the whole budget: kept, and the stranger squeezed.
        assert_eq!(honest.take(100), Ok(()));
        assert!(strangers[0].is_squeezed());
        assert_eq!(strangers[1].take(1), Err(Refusal::Full { used: 160 }));
        drop(strangers);
        assert_eq!(budget.used(), 100);
    }

    #[test]
    fn dropping_a_share_gives_everything_back() {
        let budget = NodeBudget::new(100);
        let share = budget.share();
        share.set_peer(true);
        share.take(40).unwrap();
        drop(share);
        assert_eq!((budget.used(), budget.peers()), (0, 0));
    }
}
