//! Replay protection for received messages, with the shared key alone.
//!
//! A frame's header (counter, command) is not authenticated by Fernet: only the payload token
//! is. What a node can still check:
//!
//! - **Age.** A token older than the guard's maximum age, or more than
//!   [`MAX_CLOCK_SKEW`](crate::fernet::MAX_CLOCK_SKEW) seconds in the future, is refused
//!   ([`Fernet::decrypt_fresh`]). Wazuh never checks it; nodes' clocks must agree within 60 s.
//! - **Tokens seen before.** Every token carries a random IV, so an honest peer never sends the
//!   same token twice. [`SeenTokens`], shared by every connection of a node, remembers the HMAC
//!   tag of each token accepted within the maximum age and refuses it when it comes again, on
//!   any connection. Past the maximum age the age check refuses it.
//! - **Counters within a connection.** Each side numbers its requests from one counter that
//!   grows by one per request (Wazuh starts it at a random value and wraps at 2^32); a reply
//!   reuses the counter of the request it answers, from the *other* side's sequence. So the
//!   peer's requests (any command but `ok`, `err`, `ok-m`, `ok-c`) must come with counters
//!   strictly after the previous one (serial-number order, RFC 1982: up to 2^31 ahead), and a
//!   repeated or older counter is refused. Replies are matched to pending requests by the
//!   session, which drops a second reply to the same request.
//!
//! What this leaves possible: a node's memory of tokens is lost when it restarts, so a token
//! captured less than the maximum age before a restart can be replayed once after it; a token a
//! master sent to one worker can be replayed to another worker by whoever can pose as the
//! master to it; and the unauthenticated header lets an attacker on the path reorder or drop
//! messages. Mutual TLS (`<tls>`) closes these: a peer without a certificate of the cluster CA
//! cannot open a session, and TLS authenticates every byte of the stream, header included.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::command::{Command, names};
use crate::fernet::{Fernet, FernetError};

/// Most token tags a node remembers; past it the oldest are forgotten first.
pub const MAX_SEEN_TOKENS: usize = 1 << 18;

/// Why a message was refused as a replay.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// The same token was already accepted by this node.
    #[error(
        "its Fernet token (unix time {time}) was already received by this node: a replayed message"
    )]
    SeenToken {
        /// The token's timestamp.
        time: u64,
    },
    /// A request's counter is not after the previous request's.
    #[error(
        "request counter {counter} is not after the previous request's {previous}: a repeated \
         or replayed message"
    )]
    RepeatedCounter {
        /// The counter received.
        counter: u32,
        /// The previous request's counter.
        previous: u32,
    },
}

/// The tags of the tokens a node accepted within the maximum age, shared by its connections.
#[derive(Debug, Default)]
pub struct SeenTokens {
    inner: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    tags: HashSet<[u8; 32]>,
    /// Tags by arrival, with their token times, to forget the old ones.
    order: VecDeque<(u64, [u8; 32])>,
}

impl SeenTokens {
    /// An empty memory, to share between the connections of a node.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Records `tag` (of a token from `time`), forgetting tokens older than `max_age` at `now`;
    /// `false` when it was already there.
    fn insert(&self, tag: [u8; 32], time: u64, now: u64, max_age: u64) -> bool {
        let mut seen = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let Seen { tags, order } = &mut *seen;
        while let Some(&(oldest, old_tag)) = order.front() {
            if oldest.saturating_add(max_age) >= now && order.len() < MAX_SEEN_TOKENS {
                break;
            }
            order.pop_front();
            tags.remove(&old_tag);
        }
        if !tags.insert(tag) {
            return false;
        }
        order.push_back((time, tag));
        true
    }

    /// Tags remembered.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .tags
            .len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The replay checks of one connection's receiving side.
#[derive(Debug, Clone)]
pub struct ReplayGuard {
    max_age: u64,
    seen: Arc<SeenTokens>,
    last_request: Option<u32>,
}

impl ReplayGuard {
    /// Checks tokens against `max_age` (whole seconds, at least 1) and `seen` (the node's).
    pub fn new(max_age: Duration, seen: Arc<SeenTokens>) -> Self {
        Self {
            max_age: max_age.as_secs().max(1),
            seen,
            last_request: None,
        }
    }

    /// The maximum age of a token, in seconds.
    pub fn max_age_secs(&self) -> u64 {
        self.max_age
    }

    /// Opens `token` at unix time `now`: age, then signature and decryption, then whether it
    /// was seen before.
    pub(crate) fn open(
        &self,
        fernet: &Fernet,
        token: &[u8],
        now: u64,
    ) -> Result<Result<Vec<u8>, ReplayError>, FernetError> {
        let opened = fernet.decrypt_fresh(token, now, self.max_age)?;
        if !self.seen.insert(opened.tag, opened.time, now, self.max_age) {
            return Ok(Err(ReplayError::SeenToken { time: opened.time }));
        }
        Ok(Ok(opened.plaintext))
    }

    /// Checks the counter of a received message of `command`.
    pub fn check_counter(&mut self, counter: u32, command: &Command) -> Result<(), ReplayError> {
        if [names::OK, names::ERR, names::OK_M, names::OK_C].contains(command) {
            return Ok(());
        }
        if let Some(previous) = self.last_request {
            let ahead = counter.wrapping_sub(previous);
            if ahead == 0 || ahead >= 1 << 31 {
                return Err(ReplayError::RepeatedCounter { counter, previous });
            }
        }
        self.last_request = Some(counter);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "abcdefghijklmnopqrstuvwxyz012345";

    #[test]
    fn requests_must_move_forward_across_the_wrap_and_replies_are_free() {
        let mut guard = ReplayGuard::new(Duration::from_secs(300), SeenTokens::new());
        let hello = names::HELLO;
        guard.check_counter(u32::MAX - 1, &hello).unwrap();
        guard.check_counter(u32::MAX, &names::ECHO_C).unwrap();
        guard.check_counter(0, &names::ECHO_C).unwrap();
        guard.check_counter(5, &names::ECHO_C).unwrap();
        assert_eq!(
            guard.check_counter(5, &names::ECHO_C),
            Err(ReplayError::RepeatedCounter {
                counter: 5,
                previous: 5
            })
        );
        assert!(guard.check_counter(4, &names::ECHO_C).is_err());
        assert!(guard.check_counter(u32::MAX, &names::ECHO_C).is_err());
        // Replies carry our own counters, in any order.
        guard.check_counter(77, &names::OK).unwrap();
        guard.check_counter(3, &names::ERR).unwrap();
        guard.check_counter(6, &names::ECHO_C).unwrap();
    }

    #[test]
    fn a_token_is_accepted_once_per_node_and_only_while_young() {
        let fernet = Fernet::from_cluster_key(KEY).unwrap();
        let seen = SeenTokens::new();
        let first = ReplayGuard::new(Duration::from_secs(300), seen.clone());
        let other_connection = ReplayGuard::new(Duration::from_secs(300), seen.clone());
        let token = fernet.encrypt(b"remove agent 001", 1_000);
        assert_eq!(
            first.open(&fernet, &token, 1_010).unwrap().unwrap(),
            b"remove agent 001"
        );
        assert_eq!(
            other_connection.open(&fernet, &token, 1_020).unwrap(),
            Err(ReplayError::SeenToken { time: 1_000 })
        );
        assert!(matches!(
            first.open(&fernet, &token, 1_301),
            Err(FernetError::Expired { .. })
        ));
        let fresh = fernet.encrypt(b"x", 2_000);
        first.open(&fernet, &fresh, 2_000).unwrap().unwrap();
        assert_eq!(
            seen.len(),
            1,
            "the old tag was forgotten once too old to matter"
        );
        let future = fernet.encrypt(b"x", 3_000);
        assert!(matches!(
            first.open(&fernet, &future, 2_000),
            Err(FernetError::FromTheFuture { .. })
        ));
    }
}
