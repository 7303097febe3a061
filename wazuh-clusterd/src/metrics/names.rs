//! Every metric the daemon exports, with its help text: the core's (reported through the
//! `metrics` facade, [`wazuh_cluster_core::telemetry`]), the connections' and the figures read
//! at each scrape. [`CATALOG`] is the dashboard list the README shows.

use wazuh_cluster_core::telemetry as core;

use crate::net::{TRANSPORT_BYTES_TOTAL, TRANSPORT_MESSAGES_TOTAL};

/// Gauge: a peer's clock offset in seconds (peer minus this node), label `peer`.
pub const CLOCK_SKEW_SECONDS: &str = "wazuh_cluster_clock_skew_seconds";
/// Gauge: 1 when this node is synchronized (see the `operations` module), else 0.
pub const SYNCHRONIZED: &str = "wazuh_cluster_synchronized";
/// Gauge: 1, labels `node`, `role`, `cluster`, `version`.
pub const NODE_INFO: &str = "wazuh_cluster_node_info";
/// Gauge: workers connected to this master.
pub const CONNECTED_WORKERS: &str = "wazuh_cluster_connected_workers";
/// Gauge: 1 when this worker is connected to its master.
pub const MASTER_CONNECTED: &str = "wazuh_cluster_master_connected";
/// Gauge: agents by `node` they report to and `status`.
pub const AGENTS: &str = "wazuh_cluster_agents";

/// Gauge: bytes of a node-wide memory budget, labels `budget` and `kind` (`used`, `limit`).
pub const MEMORY_BUDGET_BYTES: &str = "wazuh_cluster_memory_budget_bytes";

/// What kind of metric a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Only goes up.
    Counter,
    /// Goes up and down.
    Gauge,
    /// Distribution of observations.
    Histogram,
}

/// One exported metric.
#[derive(Debug, Clone, Copy)]
pub struct MetricSpec {
    /// The exported name.
    pub name: &'static str,
    /// Its kind.
    pub kind: MetricKind,
    /// Its labels.
    pub labels: &'static str,
    /// What it measures.
    pub help: &'static str,
}

const fn spec(
    name: &'static str,
    kind: MetricKind,
    labels: &'static str,
    help: &'static str,
) -> MetricSpec {
    MetricSpec {
        name,
        kind,
        labels,
        help,
    }
}

/// Every metric, reported through the facade or set at scrape time.
pub const CATALOG: [MetricSpec; 14] = [
    spec(
        core::TASK_DURATION_SECONDS,
        MetricKind::Histogram,
        "task, peer",
        "Duration of cluster tasks (integrity_check, integrity_sync, agent_info, agent_groups, agent_groups_full)",
    ),
    spec(
        core::SYNC_BYTES_TOTAL,
        MetricKind::Counter,
        "task, peer, direction",
        "Bytes moved by integrity checks and syncs",
    ),
    spec(
        core::SYNC_FILES_TOTAL,
        MetricKind::Counter,
        "peer, direction",
        "Files created, updated or removed by integrity syncs",
    ),
    spec(
        core::AGENT_SYNC_CHUNKS_TOTAL,
        MetricKind::Counter,
        "task, peer",
        "Agent-info and agent-groups chunks synchronized",
    ),
    spec(
        core::REJECTED_CONNECTIONS_TOTAL,
        MetricKind::Counter,
        "cause",
        "Connections or handshakes refused (per_address_limit, tls_handshake, undecryptable, replay, not_a_cluster_stream, duplicate_name, master_name, other_cluster, version, invalid_name, malformed_hello)",
    ),
    spec(
        TRANSPORT_BYTES_TOTAL,
        MetricKind::Counter,
        "peer, direction",
        "Message payload bytes sent to and received from each peer",
    ),
    spec(
        TRANSPORT_MESSAGES_TOTAL,
        MetricKind::Counter,
        "peer, direction",
        "Messages sent to and received from each peer",
    ),
    spec(
        CLOCK_SKEW_SECONDS,
        MetricKind::Gauge,
        "peer",
        "Estimated clock offset of each peer (peer minus this node), from Fernet timestamps",
    ),
    spec(
        SYNCHRONIZED,
        MetricKind::Gauge,
        "",
        "1 when this node is synchronized (master listening; worker connected with its first integrity check done)",
    ),
    spec(
        NODE_INFO,
        MetricKind::Gauge,
        "node, role, cluster, version",
        "Always 1: this node's name, role, cluster and announced version",
    ),
    spec(
        CONNECTED_WORKERS,
        MetricKind::Gauge,
        "",
        "Workers connected to this master (0 on a worker)",
    ),
    spec(
        MASTER_CONNECTED,
        MetricKind::Gauge,
        "",
        "1 when this worker is connected to its master (0 on the master)",
    ),
    spec(
        MEMORY_BUDGET_BYTES,
        MetricKind::Gauge,
        "budget, kind",
        "Node-wide memory budgets: bytes used and the limit (divided_messages: incomplete divided messages over every connection of a master)",
    ),
    spec(
        AGENTS,
        MetricKind::Gauge,
        "node, status",
        "Agents by the node they report to and their status (the master sees every agent, a worker its own)",
    ),
];
