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
use super::store::AgentStore;
use super::strings::{StringInbox, send_string};
use super::sync_stats::{GroupsSend, SyncStatsBook};
use crate::clock::Clock;
use crate::master::MasterConn;
use crate::session::{Handler, HandlerResult, Reply, Request, RequestError, SessionHandle};
use crate::storage::StorageError;
use crate::transfer::TaskSpawner;

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
    let sid = send_string(session, &sync.encode()).await?;
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
        self.spawner.spawn(async move {
            let sent = match store.agent_groups().await {
                Ok(all) => {
                    if let Some(worker) = &worker {
                        book.groups_sending(worker, GroupsSend::Full, clock.wall());
                    }
                    let sync = groups_envelope(&all, &all);
                    push_groups(&session, names::SYN_G_M_W_C, &sync)
                        .await
                        .map_err(GroupsSyncError::from)
                }
                Err(error) => Err(GroupsSyncError::from(error)),
            };
            if let Err(error) = sent {
                tracing::error!(tag = tag.as_str(), subtag, "{error}");
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
        for (id, groups) in ready {
            self.store.set_agent_groups(id, &groups).await?;
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
        let mut applied = 0u64;
        if full {
            let listed: BTreeSet<AgentId> = rows.iter().map(|r| AgentId(r.id)).collect();
            let held = self.store.agent_groups().await?;
            for (id, _) in held {
                if !listed.contains(&id) {
                    self.store.set_agent_groups(id, &[]).await?;
                }
            }
            self.state().pending.clear();
        }
        for row in rows {
            let id = AgentId(row.id);
            if keys.contains(id) {
                self.store.set_agent_groups(id, &row.groups).await?;
                self.state().pending.remove(&id);
                applied += 1;
            } else {
                self.state().pending.insert(id, row.groups.clone());
            }
        }
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
                let text = error.to_string();
                tracing::error!(tag, subtag = "Agent-groups recv", "{text}");
                let _ = session.request(err_command, text).await;
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
                tracing::error!(tag, subtag = "Agent-groups recv", "{error}");
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
