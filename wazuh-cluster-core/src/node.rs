//! What identifies a node of the cluster and what the node list shows about it.

use std::fmt;
use std::time::SystemTime;

/// The role of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeType {
    /// The source of truth; workers connect to it.
    Master,
    /// A node that connects to the master (Wazuh 3.x called it `client`).
    Worker,
}

impl NodeType {
    /// The word Wazuh uses on the wire and in `cluster_control -l`.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeType::Master => "master",
            NodeType::Worker => "worker",
        }
    }
}

impl fmt::Display for NodeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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
