//! The node-wide budget of strings being received, shared fairly by the sessions that send them
//! (the rule of [`NodeBudget`]: every session is guaranteed `cap / sessions`; a session within
//! its guarantee is always served, and the sessions then holding more than theirs are
//! *squeezed*: the inbox drops their pending strings until they are back within it). So four
//! hostile workers declaring the largest strings cannot keep an honest worker's agent-info out.

use wazuh_cluster_proto::{BudgetShare, NodeBudget, Refusal};

use crate::session::SessionHandle;

/// Bytes of strings a node keeps for all its sessions together, and so the largest string it
/// accepts: 128 MiB. A session alone may use all of it; with others each is guaranteed its fair
/// part. Wazuh allows strings of 256 MiB (`MAX_TOTAL_SIZE`); the largest a worker sends is its
/// agent-info, a few hundred bytes per agent, so 128 MiB holds the agent-info of well over
/// 100,000 agents on one worker, and a hostile worker can make the node hold half what it could
/// in Wazuh.
pub const NODE_STRING_BUDGET: usize = 128 << 20;

/// Each sending session's part of the node's string budget.
pub(crate) struct SessionShares {
    budget: NodeBudget,
    shares: Vec<(SessionHandle, BudgetShare)>,
}

impl SessionShares {
    /// Shares of a budget of `cap` bytes.
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            budget: NodeBudget::new(cap),
            shares: Vec::new(),
        }
    }

    /// Forgets the sessions that closed: they no longer count in the fair share (their strings
    /// are dropped by the inbox, which gives their bytes back here).
    pub(crate) fn forget_closed(&mut self) {
        self.shares.retain(|(session, _)| !session.is_closed());
    }

    fn share_of(&mut self, session: &SessionHandle) -> &BudgetShare {
        let index = match self
            .shares
            .iter()
            .position(|(s, _)| s.same_session(session))
        {
            Some(index) => index,
            None => {
                let share = self.budget.share();
                // Only sessions past `hello` reach the string handlers.
                share.set_peer(true);
                self.shares.push((session.clone(), share));
                self.shares.len() - 1
            }
        };
        &self.shares[index].1
    }

    /// Keeps `bytes` for `session`, or says why not (nothing kept).
    pub(crate) fn take(&mut self, session: &SessionHandle, bytes: u64) -> Result<(), Refusal> {
        let bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
        self.share_of(session).take(bytes)
    }

    /// Gives back `bytes` kept for `session` (a string taken, dropped or refused).
    pub(crate) fn give_back(&mut self, session: &SessionHandle, bytes: u64) {
        if let Some((_, share)) = self.shares.iter().find(|(s, _)| s.same_session(session)) {
            share.give_back(usize::try_from(bytes).unwrap_or(usize::MAX));
        }
    }

    /// Whether `session` holds more than its fair share while another session needs its own.
    pub(crate) fn is_squeezed(&self, session: &SessionHandle) -> bool {
        self.shares
            .iter()
            .find(|(s, _)| s.same_session(session))
            .is_some_and(|(_, share)| share.is_squeezed())
    }

    /// The node's cap.
    pub(crate) fn cap(&self) -> usize {
        self.budget.cap()
    }
}
