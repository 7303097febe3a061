//! String transfer for the agent tasks, both ways: the receiving inbox behind `new_str` /
//! `str_upd` (ids chosen at random, limits checked before any allocation, strings of closed
//! sessions dropped) and [`send_string`], the sending side.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use wazuh_cluster_proto::Refusal;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::{
    StringStore, WazuhException, error_codes, new_str_payload, parse_new_str, parse_string_id,
    str_upd_requests, string_id_payload,
};

use super::string_shares::{NODE_STRING_BUDGET, SessionShares};
use crate::session::{Handler, HandlerResult, Reply, Request, RequestError, SessionHandle};

/// Most strings one session may have pending at once.
pub const MAX_PENDING_PER_SESSION: usize = 8;
/// Most bytes one session may have declared across its pending strings: the node's whole
/// [`NODE_STRING_BUDGET`], which sessions share fairly.
pub const MAX_DECLARED_PER_SESSION: u64 = NODE_STRING_BUDGET as u64;
/// Most strings pending on the node, from every session.
pub const MAX_PENDING: usize = 1024;

struct Inner {
    store: StringStore,
    /// The session that declared each pending string, and the bytes it declared.
    owners: HashMap<u32, (SessionHandle, u64)>,
    /// The node's budget of declared bytes, shared fairly by the sessions.
    shares: SessionShares,
    rng: StdRng,
}

impl Inner {
    /// Drops the pending string `id` and gives its bytes back.
    fn drop_string(&mut self, id: u32) {
        self.store.remove(id);
        if let Some((session, declared)) = self.owners.remove(&id) {
            self.shares.give_back(&session, declared);
        }
    }

    /// Drops the pending strings of every session squeezed out of its fair share, in id order,
    /// until each is back within it; returns how many were dropped.
    fn drop_squeezed(&mut self) -> usize {
        let mut ids: Vec<u32> = self
            .owners
            .iter()
            .filter(|(_, (session, _))| self.shares.is_squeezed(session))
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        let mut dropped = 0;
        for id in ids {
            let still = self
                .owners
                .get(&id)
                .is_some_and(|(session, _)| self.shares.is_squeezed(session));
            if still {
                self.drop_string(id);
                dropped += 1;
            }
        }
        dropped
    }
}

/// Strings being received on one node, from any of its sessions. Budgets, checked before
/// anything is stored: [`NODE_STRING_BUDGET`] a string ([`StringStore`]) and declared on
/// the node and shared fairly by the sessions (a session over its fair share when another needs
/// its own has its pending strings dropped: see [`NODE_STRING_BUDGET`]'s module), at most
/// [`MAX_PENDING_PER_SESSION`] strings and [`MAX_DECLARED_PER_SESSION`] bytes per session,
/// [`MAX_PENDING`] strings on the node; strings of closed sessions are dropped.
pub struct StringInbox {
    inner: Mutex<Inner>,
}

impl StringInbox {
    /// An inbox with the node's limits ([`NODE_STRING_BUDGET`]); ids from `seed`, or the OS.
    pub fn new(seed: Option<u64>) -> Arc<Self> {
        Arc::new(Self {
            inner: Mutex::new(Inner {
                // The node's total is the fair-share budget's (which may pass its cap by at
                // most itself while squeezed strings are being dropped).
                store: StringStore::new(NODE_STRING_BUDGET as u64, 2 * NODE_STRING_BUDGET as u64),
                owners: HashMap::new(),
                shares: SessionShares::new(NODE_STRING_BUDGET),
                rng: match seed {
                    Some(seed) => StdRng::seed_from_u64(seed),
                    None => StdRng::from_os_rng(),
                },
            }),
        })
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes the complete string `id` (the payload of `syn_a_w_m`, `syn_g_m_w`...); error 3035
    /// if it is unknown or incomplete.
    #[allow(clippy::result_large_err)] // the error is what a handler answers (`HandlerResult`)
    pub fn take(&self, payload: &[u8]) -> Result<(u32, Vec<u8>), WazuhException> {
        let id = parse_string_id(payload).map_err(|e| {
            WazuhException::cluster(error_codes::STRING_NOT_FOUND).with_extra_message(e.to_string())
        })?;
        let mut inner = self.inner();
        let data = inner.store.take(id).ok_or_else(|| {
            WazuhException::cluster(error_codes::STRING_NOT_FOUND)
                .with_extra_message(format!("string {id} is unknown or incomplete"))
        })?;
        if let Some((session, declared)) = inner.owners.remove(&id) {
            inner.shares.give_back(&session, declared);
        }
        Ok((id, data))
    }

    #[allow(clippy::result_large_err)] // the error is what a handler answers (`HandlerResult`)
    fn start(&self, declared: u64, session: SessionHandle) -> Result<u32, WazuhException> {
        let mut inner = self.inner();
        let closed: Vec<u32> = inner
            .owners
            .iter()
            .filter(|(_, (s, _))| s.is_closed())
            .map(|(id, _)| *id)
            .collect();
        for id in closed {
            inner.drop_string(id);
        }
        inner.shares.forget_closed();
        let (count, declared_before) = inner
            .owners
            .values()
            .filter(|(s, _)| s.same_session(&session))
            .fold((0, 0u64), |(n, bytes), (_, d)| (n + 1, bytes + d));
        let refuse = |why: String| {
            WazuhException::cluster(error_codes::MESSAGE_TOO_LARGE).with_extra_message(why)
        };
        if count >= MAX_PENDING_PER_SESSION {
            return Err(refuse(format!(
                "this connection already has {count} strings pending (at most \
                 {MAX_PENDING_PER_SESSION}); finish or abandon one first"
            )));
        }
        if declared_before + declared > MAX_DECLARED_PER_SESSION {
            return Err(refuse(format!(
                "this connection would have {} bytes of strings pending (at most \
                 {MAX_DECLARED_PER_SESSION}); finish or abandon one first",
                declared_before + declared
            )));
        }
        if inner.owners.len() >= MAX_PENDING {
            return Err(refuse(format!(
                "the node has {MAX_PENDING} strings pending; retry in a moment"
            )));
        }
        if let Err(refusal) = inner.shares.take(&session, declared) {
            return Err(refuse(refusal_text(refusal, declared, inner.shares.cap())));
        }
        inner.drop_squeezed();
        let id = loop {
            let id = inner.rng.random::<u32>();
            if !inner.owners.contains_key(&id) {
                break id;
            }
        };
        if let Err(e) = inner.store.start(id, declared) {
            inner.shares.give_back(&session, declared);
            return Err(refuse(e.to_string()));
        }
        inner.owners.insert(id, (session, declared));
        Ok(id)
    }

    #[allow(clippy::result_large_err)] // the error is what a handler answers (`HandlerResult`)
    fn update(&self, payload: &[u8]) -> Result<(), WazuhException> {
        self.inner().store.update(payload).map(|_| ()).map_err(|e| {
            WazuhException::cluster(error_codes::CLUSTER).with_extra_message(e.to_string())
        })
    }
}

/// Why a string of `declared` bytes was refused by the node's budget of `cap` bytes, for the
/// peer's error message.
fn refusal_text(refusal: Refusal, declared: u64, cap: usize) -> String {
    match refusal {
        Refusal::Full { used } => format!(
            "a string of {declared} bytes would pass the node's string budget ({used} of {cap} \
             bytes declared by other connections); finish pending strings or retry later"
        ),
        Refusal::Squeezed { held, share, peers } => format!(
            "this connection has {held} bytes of strings pending, over its fair share of \
             {share} bytes ({cap} bytes over {peers} connections); finish pending strings \
             first"
        ),
    }
}

/// The `new_str` handler of a node's inbox.
pub struct NewStrHandler(pub Arc<StringInbox>);

#[async_trait]
impl<Ctx: Send + Sync + 'static> Handler<Ctx> for NewStrHandler {
    async fn handle(&self, _ctx: &Ctx, request: Request) -> HandlerResult {
        let declared = parse_new_str(&request.payload).map_err(|e| {
            WazuhException::cluster(error_codes::CLUSTER).with_extra_message(e.to_string())
        })?;
        let id = self.0.start(declared, request.session.clone())?;
        Ok(Some(Reply::ok(string_id_payload(id))))
    }
}

/// The `str_upd` handler of a node's inbox.
pub struct StrUpdHandler(pub Arc<StringInbox>);

#[async_trait]
impl<Ctx: Send + Sync + 'static> Handler<Ctx> for StrUpdHandler {
    async fn handle(&self, _ctx: &Ctx, request: Request) -> HandlerResult {
        self.0.update(&request.payload)?;
        Ok(Some(Reply::ok(&b"String updated"[..])))
    }
}

/// Sends `data` with `new_str` then `str_upd`; answers the id the peer gave it.
pub async fn send_string(session: &SessionHandle, data: &[u8]) -> Result<u32, RequestError> {
    let reply = session
        .request(names::NEW_STR, new_str_payload(data.len() as u64))
        .await?;
    let id = parse_string_id(&reply.payload).map_err(|e| RequestError::Peer {
        command: names::NEW_STR,
        error: WazuhException::cluster(error_codes::CLUSTER).with_extra_message(e.to_string()),
    })?;
    for (command, payload) in str_upd_requests(id, data) {
        session.request(command, payload).await?;
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::detached_handle;

    const MIB: u64 = 1 << 20;

    #[test]
    fn four_hogs_cannot_keep_an_honest_workers_string_out() {
        let inbox = StringInbox::new(Some(7));
        let sessions: Vec<_> = (0..5).map(|_| detached_handle()).collect();
        let (hogs, honest) = (&sessions[..4], &sessions[4].0);
        // The first hog alone may declare the whole node budget...
        let hog_string = inbox
            .start(NODE_STRING_BUDGET as u64, hogs[0].0.clone())
            .unwrap();
        // ...the others are refused: the budget is full and they are past their fair share.
        for (hog, _) in &hogs[1..] {
            let refused = inbox
                .start(NODE_STRING_BUDGET as u64, hog.clone())
                .unwrap_err();
            assert_eq!(refused.code, error_codes::MESSAGE_TOO_LARGE);
            let text = refused.extra_message.unwrap_or_default();
            assert!(text.contains("string budget"), "{text}");
        }
        // The honest worker is within its guarantee (128 MiB over 5 sessions): served, and
        // the hog that held the whole budget loses its pending string.
        let honest_string = inbox.start(20 * MIB, honest.clone()).unwrap();
        let (_, update) = str_upd_requests(hog_string, b"data").next().unwrap();
        assert!(
            inbox.update(&update).is_err(),
            "the hog's string was dropped"
        );
        let data = vec![b'a'; 3000];
        for (_, update) in str_upd_requests(honest_string, &data) {
            inbox.update(&update).unwrap();
        }
        let short = vec![b'a'; 20 * MIB as usize - data.len()];
        for (_, update) in str_upd_requests(honest_string, &short) {
            inbox.update(&update).unwrap();
        }
        let (id, received) = inbox.take(honest_string.to_string().as_bytes()).unwrap();
        assert_eq!((id, received.len() as u64), (honest_string, 20 * MIB));
    }

    #[test]
    fn a_session_alone_may_use_the_whole_budget_and_gets_it_back() {
        let inbox = StringInbox::new(Some(7));
        let (worker, _open) = detached_handle();
        let first = inbox
            .start(NODE_STRING_BUDGET as u64, worker.clone())
            .unwrap();
        let other = detached_handle();
        assert!(
            inbox
                .start(NODE_STRING_BUDGET as u64 / 2 + 1, other.0.clone())
                .is_err()
        );
        // Dropping the first (its session closes) gives the whole budget back.
        drop(_open);
        inbox
            .start(NODE_STRING_BUDGET as u64, other.0.clone())
            .unwrap();
        let (_, update) = str_upd_requests(first, b"x").next().unwrap();
        assert!(
            inbox.update(&update).is_err(),
            "a closed session's string is gone"
        );
    }

    #[test]
    fn a_taken_string_gives_its_bytes_back() {
        let inbox = StringInbox::new(Some(7));
        let (worker, _open) = detached_handle();
        let id = inbox.start(4, worker.clone()).unwrap();
        for (_, update) in str_upd_requests(id, b"abcd") {
            inbox.update(&update).unwrap();
        }
        inbox.take(id.to_string().as_bytes()).unwrap();
        // The whole budget is free again for one string of the largest size.
        let (other, _other_open) = detached_handle();
        inbox.start(NODE_STRING_BUDGET as u64, worker).unwrap();
        assert!(
            inbox.start(1, other).is_ok(),
            "within the newcomer's guarantee"
        );
    }
}
