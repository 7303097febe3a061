//! Agent-groups, master → workers: the envelope `global set-agent-groups` by string transfer,
//! then `syn_g_m_w <sid>` (changed agents) or `syn_g_m_w_c <sid>` (all agents, after the worker
//! asked with `syn_w_g_c`). The worker answers `syn_w_g_e` / `syn_wgc_e`.
//!
//! Differences from Wazuh, on purpose:
//! - The master sends its global hash every period even when no agent changed (an empty data
//!   list), so a worker that missed a push notices the drift without waiting for the next
//!   change.
//! - A worker applies a row only for an agent in its current `client.keys`; the others wait,
//!   in memory, until the key arrives (Wazuh #29708: groups before keys). The hash compares
//!   what is applied, so a worker waiting for keys counts mismatches, and a full resync comes
//!   only after `agent_groups_mismatch_limit` consecutive ones.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use wazuh_cluster_proto::Command;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::{
    AgentGroups, AgentGroupsChunk, AgentGroupsSync, DEFAULT_CHUNK_BYTES, SetDataError, SyncResult,
};

use super::client_keys::ClientKeys;
use super::error::AgentError;
use super::groups::global_groups_hash;
use super::keys_reader::KeysReader;
use super::model::AgentId;
use super::shared_read::SharedRead;
use super::store::AgentStore;
use super::strings::{StringInbox, send_string};
use super::sync_stats::{GroupsSend, SyncStatsBook};
use crate::clock::Clock;
use crate::master::MasterConn;
use crate::session::{Handler, HandlerResult, Reply, Request, RequestError, SessionHandle};
use crate::storage::StorageError;
use crate::transfer::TaskSpawner;

/// Agents whose groups a worker writes in one store call: thousands per write instead of
/// one (on SQLite, 5,000 one by one took 1.3 s, 50,000 in batches 30 ms, measured here), yet
/// few enough that the writes of agent-info between two batches do not wait long.
const GROUPS_WRITE_BATCH: usize = 5_000;

/// Largest chunk a worker accepts.
pub const MAX_GROUPS_CHUNK: usize = 4 * DEFAULT_CHUNK_BYTES;

/// The envelope of these assignments, carrying the hash of `all`.
pub fn groups_envelope(
    rows: &[(AgentId, Vec<String>)],
    all: &[(AgentId, Vec<String>)],
) -> AgentGroupsSync {
    let hash = global_groups_hash(all.iter().map(|(id, g)| (*id, g.as_slice())));
    let agents: Vec<AgentGroups> = rows
        .iter()
        .map(|(id, groups)| AgentGroups {
            id: id.0,
            groups: groups.clone(),
        })
        .collect();
    if agents.is_empty() {
        return AgentGroupsSync {
            chunks: vec![vec![AgentGroupsChunk {
                data: Vec::new(),
                hash,
            }]],
        };
    }
    AgentGroupsSync::from_agents(&agents, hash.as_ref(), DEFAULT_CHUNK_BYTES)
}

/// Sends an envelope with `command` (`syn_g_m_w` or `syn_g_m_w_c`).
pub async fn push_groups(
    session: &SessionHandle,
    command: Command,
    sync: &AgentGroupsSync,
) -> Result<(), RequestError> {
    push_encoded(session, command, &sync.encode()).await
}

/// Sends an encoded envelope with `command`.
async fn push_encoded(
    session: &SessionHandle,
    command: Command,
    envelope: &[u8],
) -> Result<(), RequestError> {
    let sid = send_string(session, envelope).await?;
    session.request(command, sid.to_string()).await?;
    Ok(())
}

/// Why agent-groups were not sent to a worker or not applied by it (the text is logged, and
/// a worker sends it back to the master in `syn_w_g_err` / `syn_wgc_err`).
#[derive(Debug, thiserror::Error)]
pub enum GroupsSyncError {
    /// The envelope is malformed.
    #[error(transparent)]
    Decode(#[from] SetDataError),
    /// The node's `client.keys` could not be read.
    #[error(transparent)]
    Keys(#[from] AgentError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StorageError),
    /// The envelope could not be sent.
    #[error(transparent)]
    Send(#[from] RequestError),
}

impl GroupsSyncError {
    /// Whether the work was cut by the node's stop or the peer going away (the store closed,
    /// the connection closed before the reply), not by a failure.
    pub fn is_cut(&self) -> bool {
        match self {
            Self::Store(error) => error.is_closed(),
            Self::Send(error) => matches!(error, RequestError::Closed { .. }),
            Self::Decode(_) | Self::Keys(_) => false,
        }
    }

    /// Logs the error under `tag` and `subtag`: a warning naming what was cut when
    /// [`is_cut`](Self::is_cut), an error otherwise.
    pub fn log(&self, tag: &str, subtag: &str) {
        if self.is_cut() {
            tracing::warn!(tag, subtag, "Stopped before the end: {self}");
        } else {
            tracing::error!(tag, subtag, "{self}");
        }
    }
}

/// The master's `syn_w_g_c` handler: sends that worker every assignment.
pub struct FullResyncHandler {
    /// The master's agents.
    pub store: Arc<dyn AgentStore>,
    /// Runs the sending beside the master (it ends with the master).
    pub spawner: TaskSpawner,
    /// The master's clock (dates of the sync stats).
    pub clock: Arc<dyn Clock>,
    /// Per-worker sync stats.
    pub(crate) book: Arc<SyncStatsBook>,
    /// The encoded envelope of every assignment, shared by the workers that ask at once.
    pub(crate) envelopes: Arc<SharedRead<Vec<u8>>>,
}

#[async_trait]
impl Handler<MasterConn> for FullResyncHandler {
    async fn handle(&self, ctx: &MasterConn, request: Request) -> HandlerResult {
        let store = self.store.clone();
        let session = request.session.clone();
        let (clock, book) = (self.clock.clone(), self.book.clone());
        let worker = ctx.worker_name();
        let tag = ctx.tag();
        let subtag = GroupsSend::Full.subtag();
        let envelopes = self.envelopes.clone();
        self.spawner.spawn(async move {
            let read = envelopes
                .get(|| async {
                    let all = store.agent_groups().await?;
                    Ok::<_, StorageError>(groups_envelope(&all, &all).encode())
                })
                .await;
            let sent = match read {
                Ok(envelope) => {
                    if let Some(worker) = &worker {
                        book.groups_sending(worker, GroupsSend::Full, clock.wall());
                    }
                    push_encoded(&session, names::SYN_G_M_W_C, &envelope)
                        .await
                        .map_err(GroupsSyncError::from)
                }
                Err(error) => Err(GroupsSyncError::from(error)),
            };
            if let Err(error) = sent {
                error.log(&tag, subtag);
                if let Some(worker) = &worker {
                    book.groups_failed(worker, GroupsSend::Full);
                }
            }
        });
        Ok(Some(Reply::ok(&b"<SendEntireAgentGroupsTask>"[..])))
    }
}

/// The master's handler of a worker's answer to an agent-groups send: `syn_w_g_e` /
/// `syn_wgc_e` (applied; the payload is the worker's result) or `syn_w_g_err` / `syn_wgc_err`
/// (refused). It records the run in the per-worker sync stats, logs
/// `[Worker w1] [Agent-groups send] Finished in 0.012s. Updated 3 chunks.` (or the error),
/// and answers `ok Thanks`.
pub struct GroupsResultHandler {
    /// Which send this answers.
    pub send: GroupsSend,
    /// Whether this is the refusal (`..._err`).
    pub refused: bool,
    /// The master's clock (dates of the sync stats).
    pub clock: Arc<dyn Clock>,
    /// Per-worker sync stats.
    pub(crate) book: Arc<SyncStatsBook>,
}

#[async_trait]
impl Handler<MasterConn> for GroupsResultHandler {
    async fn handle(&self, ctx: &MasterConn, request: Request) -> HandlerResult {
        let tag = ctx.tag();
        let subtag = self.send.subtag();
        let worker = ctx.worker_name();
        if self.refused {
            let text = String::from_utf8_lossy(&request.payload);
            tracing::error!(
                tag = tag.as_str(),
                subtag,
                "The worker refused the groups: {text}"
            );
            if let Some(worker) = &worker {
                self.book.groups_failed(worker, self.send);
            }
        } else {
            let chunks = SyncResult::decode(&request.payload).map_or(0, |r| r.updated_chunks);
            if let Some(worker) = &worker {
                let run = self
                    .book
                    .groups_applied(worker, self.send, self.clock.wall(), chunks);
                tracing::info!(
                    tag = tag.as_str(),
                    subtag,
                    "Finished in {:.3}s. Updated {chunks} chunks.",
                    run.elapsed().as_secs_f64().max(0.001)
                );
            }
        }
        Ok(Some(Reply::ok(&b"Thanks"[..])))
    }
}

/// The worker's state of agent-groups: rows waiting for keys, consecutive hash mismatches.
pub struct GroupsReceiver {
    store: Arc<dyn AgentStore>,
    keys: Arc<KeysReader>,
    inbox: Arc<StringInbox>,
    mismatch_limit: u32,
    state: Mutex<ReceiverState>,
    tag: String,
    clock: Arc<dyn Clock>,
}

#[derive(Default)]
struct ReceiverState {
    pending: BTreeMap<AgentId, Vec<String>>,
    mismatches: u32,
}

impl GroupsReceiver {
    /// A receiver applying to `store`, checking `keys`, full resync after `mismatch_limit`;
    /// `clock` times each apply (`time_spent` of the result).
    pub fn new(
        store: Arc<dyn AgentStore>,
        keys: Arc<KeysReader>,
        inbox: Arc<StringInbox>,
        mismatch_limit: u32,
        tag: String,
        clock: Arc<dyn Clock>,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            keys,
            inbox,
            mismatch_limit: mismatch_limit.max(1),
            state: Mutex::default(),
            tag,
            clock,
        })
    }

    fn state(&self) -> MutexGuard<'_, ReceiverState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Agents whose groups wait for their key.
    pub fn pending(&self) -> Vec<AgentId> {
        self.state().pending.keys().copied().collect()
    }

    /// Applies the waiting rows whose key is now in `keys`, and forgets waiting rows of
    /// agents that `keys` no longer lists but did before (`removed`).
    pub async fn on_keys(
        &self,
        keys: &ClientKeys,
        removed: &BTreeSet<AgentId>,
    ) -> Result<(), StorageError> {
        let ready: Vec<(AgentId, Vec<String>)> = {
            let mut state = self.state();
            state.pending.retain(|id, _| !removed.contains(id));
            let ids: Vec<AgentId> = state
                .pending
                .keys()
                .copied()
                .filter(|id| keys.contains(*id))
                .collect();
            ids.into_iter()
                .filter_map(|id| state.pending.remove(&id).map(|g| (id, g)))
                .collect()
        };
        for batch in ready.chunks(GROUPS_WRITE_BATCH) {
            self.store.set_groups_of(batch).await?;
        }
        Ok(())
    }

    async fn apply(
        &self,
        sync: &AgentGroupsSync,
        full: bool,
    ) -> Result<SyncResult, GroupsSyncError> {
        let started = self.clock.now();
        let keys = self.keys.current().await?;
        let rows: Vec<&AgentGroups> = sync.chunks.iter().flatten().flat_map(|c| &c.data).collect();
        let mut writes: Vec<(AgentId, Vec<String>)> = Vec::new();
        if full {
            let listed: BTreeSet<AgentId> = rows.iter().map(|r| AgentId(r.id)).collect();
            let held = self.store.agent_groups().await?;
            writes.extend(
                held.into_iter()
                    .filter(|(id, _)| !listed.contains(id))
                    .map(|(id, _)| (id, Vec::new())),
            );
        }
        let mut waiting: Vec<(AgentId, Vec<String>)> = Vec::new();
        let mut applied = 0u64;
        for row in rows {
            let id = AgentId(row.id);
            if keys.contains(id) {
                writes.push((id, row.groups.clone()));
                applied += 1;
            } else {
                waiting.push((id, row.groups.clone()));
            }
        }
        for batch in writes.chunks(GROUPS_WRITE_BATCH) {
            self.store.set_groups_of(batch).await?;
        }
        let mut state = self.state();
        if full {
            state.pending.clear();
        }
        for (id, _) in &writes {
            state.pending.remove(id);
        }
        state.pending.extend(waiting);
        drop(state);
        Ok(SyncResult {
            updated_chunks: applied,
            error_messages: Vec::new(),
            time_spent: (self.clock.now() - started).as_secs_f64(),
        })
    }

    /// Whether this worker's applied assignments hash like `sync`'s.
    async fn matches(&self, sync: &AgentGroupsSync) -> Result<bool, StorageError> {
        let held = self.store.agent_groups().await?;
        let own = global_groups_hash(held.iter().map(|(id, g)| (*id, g.as_slice())));
        Ok(own.as_ref() == sync.last_hash())
    }

    async fn receive(self: Arc<Self>, session: SessionHandle, data: Vec<u8>, full: bool) {
        let (ok_command, err_command) = if full {
            (names::SYN_WGC_E, names::SYN_WGC_ERR)
        } else {
            (names::SYN_W_G_E, names::SYN_W_G_ERR)
        };
        let tag = self.tag.as_str();
        let outcome = match AgentGroupsSync::decode(&data, MAX_GROUPS_CHUNK) {
            Ok(sync) => self.apply(&sync, full).await.map(|r| (sync, r)),
            Err(error) => Err(GroupsSyncError::from(error)),
        };
        let sync = match outcome {
            Ok((sync, result)) => {
                let _ = session.request(ok_command, result.encode()).await;
                sync
            }
            Err(error) => {
                error.log(tag, "Agent-groups recv");
                // Work cut by this node's stop is no refusal of the master's groups.
                if !error.is_cut() {
                    let _ = session.request(err_command, error.to_string()).await;
                }
                return;
            }
        };
        if full {
            self.state().mismatches = 0;
            return;
        }
        let matched = match self.matches(&sync).await {
            Ok(matched) => matched,
            Err(error) => {
                GroupsSyncError::from(error).log(tag, "Agent-groups recv");
                return;
            }
        };
        let ask_full = {
            let mut state = self.state();
            if matched {
                state.mismatches = 0;
                false
            } else {
                state.mismatches += 1;
                if state.mismatches >= self.mismatch_limit {
                    state.mismatches = 0;
                    true
                } else {
                    false
                }
            }
        };
        if ask_full {
            tracing::info!(
                tag,
                subtag = "Agent-groups recv",
                "Groups hash differs from the master's; asking for every agent's groups."
            );
            let _ = session.request(names::SYN_W_G_C, Vec::new()).await;
        }
    }
}

/// The worker's `syn_g_m_w` (periodic) or `syn_g_m_w_c` (full) handler.
pub struct GroupsHandler {
    /// The receiver.
    pub receiver: Arc<GroupsReceiver>,
    /// Whether this is the full resync.
    pub full: bool,
    /// Runs the applying beside the worker (it ends with the worker).
    pub spawner: TaskSpawner,
}

#[async_trait]
impl<Ctx: Send + Sync + 'static> Handler<Ctx> for GroupsHandler {
    async fn handle(&self, _ctx: &Ctx, request: Request) -> HandlerResult {
        let (sid, data) = self.receiver.inbox.take(&request.payload)?;
        let receiver = self.receiver.clone();
        self.spawner
            .spawn(receiver.receive(request.session.clone(), data, self.full));
        Ok(Some(Reply::ok(sid.to_string())))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::storage::StorageErrorKind;

    /// A send cut by the closed connection or a write cut by the closed store is a cut (a
    /// warning); a timeout or a failing store stays an error.
    #[test]
    fn only_a_close_is_a_cut() {
        let store = |kind| StorageError::new("set the groups of agent 1888", "x").with_kind(kind);
        let closed = RequestError::Closed {
            command: names::NEW_STR,
        };
        assert!(GroupsSyncError::from(closed).is_cut());
        assert!(GroupsSyncError::from(store(StorageErrorKind::Closed)).is_cut());
        let timeout = RequestError::Timeout {
            command: names::NEW_STR,
            timeout: Duration::from_secs(1),
        };
        assert!(!GroupsSyncError::from(timeout).is_cut());
        assert!(!GroupsSyncError::from(store(StorageErrorKind::Failed)).is_cut());
        let busy = store(StorageErrorKind::Busy(Duration::from_secs(600)));
        assert!(!GroupsSyncError::from(busy).is_cut());
    }
}
