//! String transfer for the agent tasks, both ways: the receiving inbox behind `new_str` /
//! `str_upd` (ids chosen at random, limits checked before any allocation, strings of closed
//! sessions dropped) and [`send_string`], the sending side.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::{
    DEFAULT_MAX_STRING, StringStore, WazuhException, error_codes, new_str_payload, parse_new_str,
    parse_string_id, str_upd_requests, string_id_payload,
};

use crate::session::{Handler, HandlerResult, Reply, Request, RequestError, SessionHandle};

/// Most strings one session may have pending at once.
pub const MAX_PENDING_PER_SESSION: usize = 8;
/// Most bytes one session may have declared across its pending strings: one string of the
/// largest size, a quarter of the node's budget, so one peer cannot starve the others.
pub const MAX_DECLARED_PER_SESSION: u64 = DEFAULT_MAX_STRING;
/// Most strings pending on the node, from every session.
pub const MAX_PENDING: usize = 1024;

struct Inner {
    store: StringStore,
    /// The session that declared each pending string, and the bytes it declared.
    owners: HashMap<u32, (SessionHandle, u64)>,
    rng: StdRng,
}

/// Strings being received on one node, from any of its sessions. Budgets, checked before
/// anything is stored: 256 MiB a string and 1 GiB declared on the node ([`StringStore`]), at
/// most [`MAX_PENDING_PER_SESSION`] strings and [`MAX_DECLARED_PER_SESSION`] bytes per session,
/// [`MAX_PENDING`] strings on the node; strings of closed sessions are dropped.
pub struct StringInbox {
    inner: Mutex<Inner>,
}

impl StringInbox {
    /// An inbox with Wazuh's limits (256 MiB a string); ids from `seed`, or the OS.
    pub fn new(seed: Option<u64>) -> Arc<Self> {
        Arc::new(Self {
            inner: Mutex::new(Inner {
                store: StringStore::default(),
                owners: HashMap::new(),
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
        inner.owners.remove(&id);
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
            inner.store.remove(id);
            inner.owners.remove(&id);
        }
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
        let id = loop {
            let id = inner.rng.random::<u32>();
            if !inner.owners.contains_key(&id) {
                break id;
            }
        };
        inner.store.start(id, declared).map_err(|e| {
            WazuhException::cluster(error_codes::MESSAGE_TOO_LARGE)
                .with_extra_message(e.to_string())
        })?;
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
