//! What identifies a node of the cluster and what the node list shows about it.

use std::time::SystemTime;

pub use wazuh_cluster_proto::payload::NodeType;

/// One row of the node list (`cluster_control -l`, `get_nodes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// Node name.
    pub name: String,
    /// Master or worker.
    pub node_type: NodeType,
    /// Version the node runs (for workers: the one announced in `hello`).
    pub version: String,
    /// The node's address (for workers: the IP they connected from).
    pub address: String,
    /// When the node's session started (for the master: when it started serving).
    pub connected_since: SystemTime,
    /// Last keepalive received from the node (`None` for the master).
    pub last_keepalive: Option<SystemTime>,
}
