//! The `get_health` reply ([`HealthReply`], `wazuh4-protocol.md` section 8), built from the
//! master's node list. Only workers have `status`. Dates are `%Y-%m-%dT%H:%M:%S.%fZ` in UTC,
//! `"n/a"` for never.
//!
//! Real values: `last_keep_alive`; `sync_integrity_free`, `last_check_integrity` and
//! `last_sync_integrity` from the master's integrity state ([`HealthData::collect`]), with
//! `total_files` the counts of the last check's comparison (as Wazuh fills them); and
//! `n_active_agents`, the agents whose last agent-info says `active` on that node;
//! `last_sync_agentinfo`, `last_sync_agentgroup`, `last_sync_full_agentgroup` and
//! `sync_agent_info_free` from the master agents' per-worker sync stats
//! ([`MasterAgents::sync_stats`]); a sync that never happened is `"n/a"` with 0 chunks.
//!
//! [`HealthModule`] answers the workers' `get_health` on the master's cluster connections; the
//! control socket's `get_health` calls [`master_health`] on the master too.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use futures_util::future::BoxFuture;
use serde_json::Value;
use wazuh_cluster_core::agents::{
    AgentStore, ConnectionStatus, MasterAgents, SyncRun, WorkerAgentSync,
};
use wazuh_cluster_core::integrity::stats::IntegrityStats;
use wazuh_cluster_core::integrity::{MasterIntegrity, WorkerIntegrityStatus};
use wazuh_cluster_core::master::MasterConn;
use wazuh_cluster_core::session::{DuplicateRoute, Handler, HandlerResult, Request, Router};
use wazuh_cluster_core::{MasterHandle, MasterRole, Module, ModuleContext, NodeInfo, NodeType};
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::{WazuhException, error_codes};

use super::protocol::health::{
    AgentGroupsSync, AgentInfoSync, FileCounts, HealthReply, IntegritySync, MasterPeriod, NEVER,
    NodeHealth, NodeHealthInfo, WorkerHealthStatus,
};
use super::protocol::json_reply;

/// Which nodes `get_health` reports (its payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeFilter {
    /// `null` or nothing: every node.
    All,
    /// `{}`: every worker, not the master.
    Workers,
    /// A list of names (or one name).
    Names(Vec<String>),
}

impl NodeFilter {
    /// Reads the payload of `get_health`.
    pub fn parse(payload: &[u8]) -> Result<Self, Box<WazuhException>> {
        if payload.iter().all(u8::is_ascii_whitespace) {
            return Ok(NodeFilter::All);
        }
        let bad = |extra: String| {
            Box::new(WazuhException::cluster(error_codes::BAD_JSON).with_extra_message(extra))
        };
        let value: Value = serde_json::from_slice(payload).map_err(|e| bad(e.to_string()))?;
        match value {
            Value::Null => Ok(NodeFilter::All),
            Value::Object(map) if map.is_empty() => Ok(NodeFilter::Workers),
            Value::String(name) => Ok(NodeFilter::Names(vec![name])),
            Value::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    Value::String(name) => Ok(name),
                    other => Err(bad(format!(
                        "filter_node holds {other}; it must list node names"
                    ))),
                })
                .collect::<Result<_, _>>()
                .map(NodeFilter::Names),
            other => Err(bad(format!(
                "the get_health filter is {other}; it must be null, {{}} or a list of node names"
            ))),
        }
    }

    fn includes(&self, node: &NodeInfo) -> bool {
        match self {
            NodeFilter::All => true,
            NodeFilter::Workers => node.node_type == NodeType::Worker,
            NodeFilter::Names(names) => names.contains(&node.name),
        }
    }
}

/// A date as Wazuh's health shows it.
pub fn format_date(time: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(time)
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// What the master knows about its workers besides the node list.
#[derive(Debug, Clone, Default)]
pub struct HealthData {
    /// Integrity state per worker that ever asked for a check.
    pub integrity: BTreeMap<String, WorkerIntegrityStatus>,
    /// Active agents per node they report to.
    pub active_agents: BTreeMap<String, usize>,
    /// Last agent-info and agent-groups syncs per worker that ever synced agents.
    pub agent_sync: BTreeMap<String, WorkerAgentSync>,
}

impl HealthData {
    /// Reads the integrity state and the agent sync stats of the master's modules and counts
    /// active agents in `store` by node.
    pub async fn collect(
        integrity: &MasterIntegrity,
        agents: &MasterAgents,
        store: &dyn AgentStore,
    ) -> Result<Self, Box<WazuhException>> {
        let integrity = integrity.statuses();
        let counts = store.status_counts().await.map_err(|error| {
            Box::new(
                WazuhException::cluster(error_codes::CLUSTER).with_extra_message(format!(
                    "cannot read the agents' status from the cluster database: {error}"
                )),
            )
        })?;
        let mut active_agents = BTreeMap::new();
        for row in counts {
            if let (true, Some(node)) = (row.status == ConnectionStatus::Active.as_str(), row.node)
            {
                *active_agents.entry(node).or_insert(0) += row.count;
            }
        }
        Ok(Self {
            integrity,
            active_agents,
            agent_sync: agents.all_sync_stats(),
        })
    }
}

fn date_or_never(time: Option<SystemTime>) -> String {
    time.map_or_else(|| NEVER.to_owned(), format_date)
}

fn master_period(stats: Option<&IntegrityStats>) -> MasterPeriod {
    MasterPeriod {
        date_start_master: date_or_never(stats.map(|s| s.started)),
        date_end_master: date_or_never(stats.map(|s| s.finished)),
    }
}

fn agent_info_sync(run: Option<&SyncRun>) -> AgentInfoSync {
    AgentInfoSync {
        date_start_master: date_or_never(run.map(|r| r.started)),
        date_end_master: date_or_never(run.map(|r| r.finished)),
        n_synced_chunks: run.map_or(0, |r| r.chunks),
    }
}

fn agent_groups_sync(run: Option<&SyncRun>) -> AgentGroupsSync {
    AgentGroupsSync {
        date_start: date_or_never(run.map(|r| r.started)),
        date_end: date_or_never(run.map(|r| r.finished)),
        n_synced_chunks: run.map_or(0, |r| r.chunks),
    }
}

fn worker_status(
    node: &NodeInfo,
    integrity: Option<&WorkerIntegrityStatus>,
    agents: Option<&WorkerAgentSync>,
) -> WorkerHealthStatus {
    let check = integrity.and_then(|i| i.last_check.as_ref());
    let sync = master_period(integrity.and_then(|i| i.last_sync.as_ref()));
    let counts = check.map(|c| c.counts).unwrap_or_default();
    WorkerHealthStatus {
        sync_integrity_free: integrity.is_none_or(|i| i.lock_free),
        sync_agent_info_free: agents.is_none_or(|a| !a.receiving_agent_info),
        last_check_integrity: master_period(check),
        last_sync_integrity: IntegritySync {
            date_start_master: sync.date_start_master,
            date_end_master: sync.date_end_master,
            total_extra_valid: 0,
            total_files: FileCounts {
                missing: counts.missing,
                shared: counts.shared,
                extra: counts.extra,
                extra_valid: 0,
            },
        },
        last_sync_agentinfo: agent_info_sync(agents.and_then(|a| a.agent_info.as_ref())),
        last_sync_agentgroup: agent_groups_sync(agents.and_then(|a| a.agent_groups.as_ref())),
        last_sync_full_agentgroup: agent_groups_sync(
            agents.and_then(|a| a.agent_groups_full.as_ref()),
        ),
        last_keep_alive: date_or_never(node.last_keepalive),
    }
}

/// The reply of `get_health` over `nodes`; `n_connected_nodes` counts the workers the filter
/// keeps, as Wazuh's does (the master first, as [`MasterHandle::nodes`] lists).
pub fn health(nodes: &[NodeInfo], data: &HealthData, filter: &NodeFilter) -> HealthReply {
    let n_connected_nodes = nodes
        .iter()
        .filter(|n| n.node_type == NodeType::Worker && filter.includes(n))
        .count();
    let nodes = nodes
        .iter()
        .filter(|n| filter.includes(n))
        .map(|node| {
            let info = NodeHealthInfo {
                name: node.name.clone(),
                node_type: node.node_type.as_str().to_owned(),
                version: node.version.clone(),
                ip: node.address.clone(),
                n_active_agents: data.active_agents.get(&node.name).copied().unwrap_or(0),
            };
            let status = (node.node_type == NodeType::Worker).then(|| {
                worker_status(
                    node,
                    data.integrity.get(&node.name),
                    data.agent_sync.get(&node.name),
                )
            });
            (node.name.clone(), NodeHealth { info, status })
        })
        .collect();
    HealthReply {
        n_connected_nodes,
        nodes,
    }
}

/// The reply of `get_health` on the master of `integrity` and `agents`, whose agent-info rows
/// are in `store`, for the request `payload` (the filter).
pub async fn master_health(
    master: &MasterHandle,
    integrity: &MasterIntegrity,
    agents: &MasterAgents,
    store: &dyn AgentStore,
    payload: &[u8],
) -> Result<HealthReply, WazuhException> {
    let filter = NodeFilter::parse(payload).map_err(|e| *e)?;
    let data = HealthData::collect(integrity, agents, store)
        .await
        .map_err(|e| *e)?;
    Ok(health(&master.nodes(), &data, &filter))
}

/// The health module of a master: answers `get_health` from workers (a worker forwards its
/// operator's `cluster_control -i`).
pub struct HealthModule {
    master: MasterHandle,
    integrity: Arc<MasterIntegrity>,
    agents: Arc<MasterAgents>,
    agent_store: Arc<dyn AgentStore>,
}

impl HealthModule {
    /// The health of the master of `ctx`, from its `integrity` and `agents` modules and the
    /// agent-info rows of `agent_store`.
    pub fn new(
        ctx: ModuleContext<MasterRole>,
        integrity: Arc<MasterIntegrity>,
        agents: Arc<MasterAgents>,
        agent_store: Arc<dyn AgentStore>,
    ) -> Arc<Self> {
        Arc::new(Self {
            master: ctx.node,
            integrity,
            agents,
            agent_store,
        })
    }
}

struct ClusterHealthHandler(Arc<HealthModule>);

#[async_trait]
impl Handler<MasterConn> for ClusterHealthHandler {
    async fn handle(&self, _conn: &MasterConn, request: Request) -> HandlerResult {
        let module = &self.0;
        let reply = master_health(
            &module.master,
            &module.integrity,
            &module.agents,
            module.agent_store.as_ref(),
            &request.payload,
        )
        .await?;
        json_reply(&reply)
    }
}

impl Module<MasterRole> for HealthModule {
    fn install(self: Arc<Self>, router: &mut Router<MasterConn>) -> Result<(), DuplicateRoute> {
        router.route(names::GET_HEALTH, ClusterHealthHandler(self))?;
        Ok(())
    }

    fn run(self: Arc<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;

    fn node(name: &str, node_type: NodeType) -> NodeInfo {
        NodeInfo {
            name: name.into(),
            node_type,
            version: "4.9.2".into(),
            address: "10.0.0.1".into(),
            connected_since: SystemTime::UNIX_EPOCH,
            last_keepalive: (node_type == NodeType::Worker)
                .then(|| SystemTime::UNIX_EPOCH + Duration::new(1_727_784_000, 5_000)),
        }
    }

    #[test]
    fn master_has_info_only_and_workers_have_status() {
        let nodes = [node("m", NodeType::Master), node("w1", NodeType::Worker)];
        let reply =
            serde_json::to_value(health(&nodes, &HealthData::default(), &NodeFilter::All)).unwrap();
        assert_eq!(reply["n_connected_nodes"], 1);
        assert_eq!(reply["nodes"]["m"]["info"]["type"], "master");
        assert!(reply["nodes"]["m"].get("status").is_none());
        assert_eq!(
            reply["nodes"]["w1"]["status"]["last_keep_alive"],
            "2024-10-01T12:00:00.000005Z"
        );
        assert_eq!(
            reply["nodes"]["w1"]["status"]["last_check_integrity"]["date_end_master"],
            NEVER
        );
    }

    #[test]
    fn filters_follow_wazuh() {
        let nodes = [
            node("m", NodeType::Master),
            node("w1", NodeType::Worker),
            node("w2", NodeType::Worker),
        ];
        let names = |f: &NodeFilter| -> Vec<String> {
            serde_json::to_value(health(&nodes, &HealthData::default(), f)).unwrap()["nodes"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect()
        };
        assert_eq!(
            names(&NodeFilter::parse(b"null").unwrap()),
            ["m", "w1", "w2"]
        );
        assert_eq!(names(&NodeFilter::parse(b"{}").unwrap()), ["w1", "w2"]);
        assert_eq!(
            names(&NodeFilter::parse(br#"["m","w2"]"#).unwrap()),
            ["m", "w2"]
        );
        assert_eq!(NodeFilter::parse(b"[1]").unwrap_err().code, 3036);
        assert_eq!(NodeFilter::parse(b"{not json").unwrap_err().code, 3036);
    }

    #[test]
    fn integrity_and_agents_fill_the_worker_status() {
        use wazuh_cluster_core::integrity::ComparisonCounts;
        use wazuh_cluster_core::integrity::stats::IntegrityTask;

        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_727_784_000);
        let check = IntegrityStats {
            task: IntegrityTask::Check,
            started: start,
            finished: start + Duration::from_millis(12),
            elapsed: Duration::from_millis(12),
            files: 9,
            counts: ComparisonCounts {
                missing: 2,
                shared: 1,
                extra: 3,
            },
            bytes: 0,
        };
        let mut data = HealthData::default();
        data.integrity.insert(
            "w1".into(),
            WorkerIntegrityStatus {
                lock_free: false,
                locked_since: Some(start),
                last_check: Some(check),
                last_sync: None,
                zip_limit: 1,
                inbox_bytes: 0,
                repeated_checks: 0,
            },
        );
        data.active_agents.insert("w1".into(), 4);
        data.agent_sync.insert(
            "w1".into(),
            WorkerAgentSync {
                agent_info: Some(SyncRun {
                    started: start,
                    finished: start + Duration::from_millis(12),
                    chunks: 3,
                }),
                agent_groups: None,
                agent_groups_full: Some(SyncRun {
                    started: start,
                    finished: start + Duration::from_secs(1),
                    chunks: 7,
                }),
                receiving_agent_info: true,
            },
        );
        let nodes = [node("m", NodeType::Master), node("w1", NodeType::Worker)];
        let reply = serde_json::to_value(health(&nodes, &data, &NodeFilter::All)).unwrap();
        let status = &reply["nodes"]["w1"]["status"];
        assert_eq!(
            status["last_sync_agentinfo"],
            json!({
                "date_start_master": "2024-10-01T12:00:00.000000Z",
                "date_end_master": "2024-10-01T12:00:00.012000Z",
                "n_synced_chunks": 3
            })
        );
        assert_eq!(
            status["last_sync_agentgroup"],
            json!({"date_start": NEVER, "date_end": NEVER, "n_synced_chunks": 0})
        );
        assert_eq!(
            status["last_sync_full_agentgroup"]["date_end"],
            "2024-10-01T12:00:01.000000Z"
        );
        assert_eq!(status["last_sync_full_agentgroup"]["n_synced_chunks"], 7);
        assert_eq!(status["sync_agent_info_free"], false);
        assert_eq!(
            status["last_check_integrity"]["date_end_master"],
            "2024-10-01T12:00:00.012000Z"
        );
        assert_eq!(status["last_sync_integrity"]["date_end_master"], NEVER);
        assert_eq!(
            status["last_sync_integrity"]["total_files"],
            json!({"missing": 2, "shared": 1, "extra": 3, "extra_valid": 0})
        );
        assert_eq!(status["sync_integrity_free"], false);
        assert_eq!(reply["nodes"]["w1"]["info"]["n_active_agents"], 4);
        assert_eq!(reply["nodes"]["m"]["info"]["n_active_agents"], 0);
    }
}
