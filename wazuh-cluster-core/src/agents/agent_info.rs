//! Agent-info, worker → master: `syn_a_w_m_p` (permission), the `AgentInfoSync` envelope by
//! string transfer, `syn_a_w_m <sid>`, and the master's `syn_m_a_e` result.
//!
//! The master keeps a row only for a registered agent, only if it is newer than what it has
//! ([`AgentInfoRecord::supersedes`]: Wazuh #24401), and records the node as the name the
//! sending worker gave in its `hello` (a worker cannot speak for another node).

use std::sync::Arc;

use async_trait::async_trait;
use wazuh_cluster_proto::command::{Command, names};
use wazuh_cluster_proto::payload::{
    AgentInfoRow, AgentInfoSync, DEFAULT_CHUNK_BYTES, SyncResult, WazuhException, error_codes,
    permission_payload,
};

use super::model::{AgentId, AgentInfoRecord, ConnectionStatus};
use super::store::AgentStore;
use super::strings::{StringInbox, send_string};
use super::sync_stats::{SyncRun, SyncStatsBook};
use crate::clock::Clock;
use crate::master::MasterConn;
use crate::session::{Handler, HandlerResult, Reply, Request, RequestError, SessionHandle};
use crate::storage::StorageError;
use crate::transfer::TaskSpawner;

/// Largest chunk the master accepts (four times wazuh-db's 64 KB).
pub const MAX_INFO_CHUNK: usize = 4 * DEFAULT_CHUNK_BYTES;

/// A wire row as a stored record; `node` overrides the row's `node_name` when given.
pub fn record_from_row(row: &AgentInfoRow, node: Option<&str>) -> AgentInfoRecord {
    AgentInfoRecord {
        id: AgentId(row.id),
        status: row
            .connection_status
            .as_deref()
            .and_then(ConnectionStatus::parse)
            .unwrap_or(ConnectionStatus::Active),
        last_keepalive: row.last_keepalive,
        disconnection_time: row.disconnection_time,
        version: row.version.clone(),
        os: row.os_name.clone(),
        node: node.map(str::to_owned).or_else(|| row.node_name.clone()),
    }
}

/// A stored record as a wire row.
pub fn row_from_record(record: &AgentInfoRecord) -> AgentInfoRow {
    AgentInfoRow {
        id: record.id.0,
        os_name: record.os.clone(),
        version: record.version.clone(),
        node_name: record.node.clone(),
        last_keepalive: record.last_keepalive,
        connection_status: Some(record.status.as_str().to_owned()),
        disconnection_time: record.disconnection_time,
        ..AgentInfoRow::default()
    }
}

/// What one ingestion did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestStats {
    /// Rows received.
    pub received: usize,
    /// Rows written (newer than what was stored).
    pub written: usize,
    /// Rows of agents that are not registered, dropped.
    pub unknown: usize,
    /// Chunks the envelope held.
    pub chunks: usize,
}

/// How far ahead of the master's clock a reported time may be (Wazuh's clock-skew allowance).
/// Later times are taken as the master's `now`: a row dated in the future would otherwise
/// never be marked disconnected and would win every later update.
pub const MAX_FUTURE_SECS: i64 = 60;

/// Decodes an agent-info envelope and applies its rows of registered agents to `store`, with
/// `node` as the reporting node, in one store call ([`AgentStore::ingest_info`]). `now` is the
/// master's time (Unix seconds): times more than [`MAX_FUTURE_SECS`] after it become `now`.
pub async fn ingest(
    store: &dyn AgentStore,
    node: Option<&str>,
    envelope: &[u8],
    now: i64,
) -> Result<IngestStats, IngestError> {
    let sync = AgentInfoSync::decode(envelope, MAX_INFO_CHUNK).map_err(IngestError::Decode)?;
    let clamp = |time: Option<i64>| time.map(|t| if t > now + MAX_FUTURE_SECS { now } else { t });
    let records: Vec<AgentInfoRecord> = sync
        .chunks
        .iter()
        .flatten()
        .map(|row| {
            let mut record = record_from_row(row, node);
            record.last_keepalive = clamp(record.last_keepalive);
            record.disconnection_time = clamp(record.disconnection_time);
            record
        })
        .collect();
    let ingested = store
        .ingest_info(&records)
        .await
        .map_err(IngestError::Store)?;
    let stats = IngestStats {
        received: records.len(),
        written: ingested.written,
        unknown: ingested.unknown,
        chunks: sync.chunks.len(),
    };
    Ok(stats)
}

/// Why an agent-info envelope was not ingested.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The envelope is malformed (Wazuh 3036).
    #[error("agent-info envelope refused: {0}")]
    Decode(wazuh_cluster_proto::payload::SetDataError),
    /// The store failed.
    #[error(transparent)]
    Store(StorageError),
}

/// The master's `syn_a_w_m_p` handler: grants unless an envelope of the same worker is still
/// being ingested (Wazuh's `sync_agent_info_free`), so that at most one envelope of each
/// worker waits in the master's memory; a refused worker sends its rows on its next round.
pub struct InfoPermissionHandler {
    /// Per-worker sync stats (whether an ingest of the worker runs).
    pub(crate) book: Arc<SyncStatsBook>,
}

#[async_trait]
impl Handler<MasterConn> for InfoPermissionHandler {
    async fn handle(&self, ctx: &MasterConn, _request: Request) -> HandlerResult {
        let free = ctx
            .worker_name()
            .is_none_or(|worker| self.book.info_free(&worker));
        Ok(Some(Reply::ok(permission_payload(free))))
    }
}

/// The master's `syn_a_w_m` handler. As Wazuh, it answers `ok <sid>` at once and ingests
/// after, beside the master, then sends `syn_m_a_e` (or `syn_m_a_err`): a worker's request
/// never waits for the database, however long the ingests queue. It records each ingestion in
/// the per-worker sync stats and logs
/// `[Worker w1] [Agent-info sync] Finished in 0.012s. Updated 3 chunks.`
/// An envelope sent while the previous one of the same worker is still being ingested (the
/// worker did not ask permission) is refused.
pub struct InfoHandler {
    /// Received strings.
    pub inbox: Arc<StringInbox>,
    /// The master's agents.
    pub store: Arc<dyn AgentStore>,
    /// Runs the ingest and the answer beside the master (they end with the master).
    pub spawner: TaskSpawner,
    /// The master's clock (dates of the sync stats).
    pub clock: Arc<dyn Clock>,
    /// Per-worker sync stats.
    pub(crate) book: Arc<SyncStatsBook>,
}

#[async_trait]
impl Handler<MasterConn> for InfoHandler {
    async fn handle(&self, ctx: &MasterConn, request: Request) -> HandlerResult {
        let session = request.session.clone();
        let (sid, envelope) = match self.inbox.take(&request.payload) {
            Ok(taken) => taken,
            Err(error) => {
                let text = error.to_string();
                self.spawner.spawn(async move {
                    let _ = session.request(names::SYN_M_A_ERR, text).await;
                });
                return Err(error);
            }
        };
        let node = ctx.worker_name();
        if let Some(worker) = &node
            && !self.book.info_started(worker)
        {
            return Err(
                WazuhException::cluster(error_codes::CLUSTER).with_extra_message(format!(
                    "agent-info of worker {worker} refused: its previous envelope is still being \
                     ingested; ask permission (syn_a_w_m_p) and send again"
                )),
            );
        }
        let ingest = Ingest {
            store: self.store.clone(),
            clock: self.clock.clone(),
            book: self.book.clone(),
            node,
            tag: ctx.tag(),
        };
        self.spawner.spawn(async move {
            let (command, payload) = ingest.run(&envelope).await;
            let _ = session.request(command, payload).await;
        });
        Ok(Some(Reply::ok(sid.to_string())))
    }
}

/// One envelope's ingest after the master answered `syn_a_w_m`.
struct Ingest {
    store: Arc<dyn AgentStore>,
    clock: Arc<dyn Clock>,
    book: Arc<SyncStatsBook>,
    node: Option<String>,
    tag: String,
}

impl Ingest {
    /// Ingests `envelope`, records and logs it, and answers the command and payload that tell
    /// the worker (`syn_m_a_e` with the result, or `syn_m_a_err` with the error).
    async fn run(self, envelope: &[u8]) -> (Command, Vec<u8>) {
        let started = self.clock.now();
        let started_wall = self.clock.wall();
        let now = super::registry::unix_secs(started_wall);
        let outcome = ingest(self.store.as_ref(), self.node.as_deref(), envelope, now).await;
        if let Some(worker) = &self.node {
            let run = outcome.as_ref().ok().map(|stats| SyncRun {
                started: started_wall,
                finished: self.clock.wall(),
                chunks: stats.chunks as u64,
            });
            self.book.info_finished(worker, run);
        }
        let tag = self.tag.as_str();
        match outcome {
            Ok(stats) => {
                tracing::debug!(
                    tag,
                    subtag = "Agent-info sync",
                    "Received {} rows, {} newer, {} of unknown agents.",
                    stats.received,
                    stats.written,
                    stats.unknown
                );
                tracing::info!(
                    tag,
                    subtag = "Agent-info sync",
                    "Finished in {:.3}s. Updated {} chunks.",
                    (self.clock.now() - started).as_secs_f64().max(0.001),
                    stats.chunks
                );
                let result = SyncResult {
                    updated_chunks: stats.written as u64,
                    error_messages: Vec::new(),
                    time_spent: (self.clock.now() - started).as_secs_f64(),
                };
                (names::SYN_M_A_E, result.encode())
            }
            Err(error) => {
                let text = error.to_string();
                if matches!(&error, IngestError::Store(e) if e.is_closed()) {
                    tracing::warn!(
                        tag,
                        subtag = "Agent-info sync",
                        "Stopped before the end: {text}"
                    );
                } else {
                    tracing::error!(tag, subtag = "Agent-info sync", "{text}");
                }
                (names::SYN_M_A_ERR, text.into_bytes())
            }
        }
    }
}

/// The worker's handler of `syn_m_a_e` / `syn_m_a_err` (and the master's `syn_w_g_e`...):
/// answers `ok Thanks`.
pub struct ThanksHandler;

#[async_trait]
impl<Ctx: Send + Sync + 'static> Handler<Ctx> for ThanksHandler {
    async fn handle(&self, _ctx: &Ctx, _request: Request) -> HandlerResult {
        Ok(Some(Reply::ok(&b"Thanks"[..])))
    }
}

/// Sends `rows` to the master: permission, string, `syn_a_w_m`. Answers whether the master
/// took them (`false` when it refused permission).
pub async fn send_agent_info(
    session: &SessionHandle,
    rows: &[AgentInfoRow],
) -> Result<bool, RequestError> {
    let permission = session.request(names::SYN_A_W_M_P, Vec::new()).await?;
    if permission.payload.as_ref() != b"True" {
        return Ok(false);
    }
    let envelope = AgentInfoSync::from_rows(rows, DEFAULT_CHUNK_BYTES).encode();
    let sid = send_string(session, &envelope).await?;
    session.request(names::SYN_A_W_M, sid.to_string()).await?;
    Ok(true)
}
