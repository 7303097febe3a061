//! The `get_health` reply (`wazuh4-protocol.md` section 8), from the master's node list.
//!
//! `{"n_connected_nodes": <workers>, "nodes": {name: {"info": {...}, "status": {...}}}}`; only
//! workers have `status`. Dates are `%Y-%m-%dT%H:%M:%S.%fZ` in UTC, `"n/a"` for never. The
//! synchronization tasks (integrity, agent-info, agent-groups) are not wired into this build's
//! status yet, so their dates are `"n/a"` and their counters 0; `last_keep_alive` is real.

use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use async_trait::async_trait;
use serde_json::{Map, Value, json};
use wazuh_cluster_core::master::MasterConn;
use wazuh_cluster_core::session::{Handler, HandlerResult, Reply, Request};
use wazuh_cluster_core::{MasterHandle, NodeInfo, NodeType};
use wazuh_cluster_proto::payload::{WazuhException, error_codes};

/// What Wazuh shows for a date that never happened.
pub const NEVER: &str = "n/a";

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

fn worker_status(node: &NodeInfo) -> Value {
    let last_keep_alive = node
        .last_keepalive
        .map_or_else(|| NEVER.to_owned(), format_date);
    json!({
        "sync_integrity_free": true,
        "sync_agent_info_free": true,
        "last_check_integrity": {"date_start_master": NEVER, "date_end_master": NEVER},
        "last_sync_integrity": {
            "date_start_master": NEVER,
            "date_end_master": NEVER,
            "total_extra_valid": 0,
            "total_files": {"missing": 0, "shared": 0, "extra": 0, "extra_valid": 0}
        },
        "last_sync_agentinfo": {"date_start_master": NEVER, "date_end_master": NEVER, "n_synced_chunks": 0},
        "last_sync_agentgroup": {"date_start": NEVER, "date_end": NEVER, "n_synced_chunks": 0},
        "last_sync_full_agentgroup": {"date_start": NEVER, "date_end": NEVER, "n_synced_chunks": 0},
        "last_keep_alive": last_keep_alive,
    })
}

/// The reply of `get_health` over `nodes`; `n_connected_nodes` counts the workers the filter
/// keeps, as Wazuh's does (the master first, as [`MasterHandle::nodes`] lists).
pub fn health(nodes: &[NodeInfo], filter: &NodeFilter) -> Value {
    let connected = nodes
        .iter()
        .filter(|n| n.node_type == NodeType::Worker && filter.includes(n))
        .count();
    let mut entries = Map::new();
    for node in nodes.iter().filter(|n| filter.includes(n)) {
        let mut entry = Map::new();
        entry.insert(
            "info".into(),
            json!({
                "name": node.name,
                "type": node.node_type.as_str(),
                "version": node.version,
                "ip": node.address,
                "n_active_agents": 0,
            }),
        );
        if node.node_type == NodeType::Worker {
            entry.insert("status".into(), worker_status(node));
        }
        entries.insert(node.name.clone(), Value::Object(entry));
    }
    json!({"n_connected_nodes": connected, "nodes": entries})
}

/// The master's handler of `get_health` from workers (a worker forwards its operator's
/// `cluster_control -i`). It reads the node list through the master's handle, which exists only
/// once the master is built: set it with [`ClusterHealthHandler::set_master`] before serving.
#[derive(Debug, Clone, Default)]
pub struct ClusterHealthHandler {
    master: Arc<OnceLock<MasterHandle>>,
}

impl ClusterHealthHandler {
    /// A handler waiting for its master.
    pub fn new() -> Self {
        Self::default()
    }

    /// Gives the handler the master it reports on; later calls are ignored.
    pub fn set_master(&self, master: MasterHandle) {
        let _ = self.master.set(master);
    }
}

#[async_trait]
impl Handler<MasterConn> for ClusterHealthHandler {
    async fn handle(&self, _conn: &MasterConn, request: Request) -> HandlerResult {
        let Some(master) = self.master.get() else {
            return Err(WazuhException::cluster(error_codes::CLUSTER)
                .with_extra_message("the master is still starting; retry in a moment"));
        };
        let filter = NodeFilter::parse(&request.payload).map_err(|e| *e)?;
        Ok(Some(Reply::ok(
            health(&master.nodes(), &filter).to_string(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

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
        let reply = health(&nodes, &NodeFilter::All);
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
            health(&nodes, f)["nodes"]
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
}
