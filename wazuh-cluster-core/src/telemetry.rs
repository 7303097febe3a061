//! What the core reports about its work, through the [`metrics`] facade crate.
//!
//! The core only *emits*: each task calls one function here where it already builds its stats
//! struct ([`IntegrityStats`], [`SyncRun`]), and the [`metrics`] macros hand the figure to
//! whatever recorder the embedding process installed. Without a recorder (the default, and in
//! this crate's tests) every call is a no-op costing an atomic load. The reference daemon
//! installs one that feeds Prometheus families (`wazuh-clusterd`'s `metrics` module).
//!
//! Why the facade and not an observer trait: an observer would have to be threaded through the
//! master and worker builders and every task's context; the facade needs one line where a figure
//! is produced and nothing else, and an embedder may plug any `metrics` exporter. The price is a
//! process-wide recorder: tests that check figures install a local one with
//! [`metrics::with_local_recorder`].
//!
//! Names (the exported names; counters end in `_total`):
//!
//! | name | kind | labels |
//! |---|---|---|
//! | [`TASK_DURATION_SECONDS`] | histogram | `task`, `peer` |
//! | [`SYNC_BYTES_TOTAL`] | counter | `task`, `peer`, `direction` |
//! | [`SYNC_FILES_TOTAL`] | counter | `peer`, `direction` |
//! | [`AGENT_SYNC_CHUNKS_TOTAL`] | counter | `task`, `peer` |
//! | [`REJECTED_CONNECTIONS_TOTAL`] | counter | `cause` |
//!
//! `task` is one of [`task`]'s values; `peer` the worker's name on the master, `master` on a
//! worker; `direction` is `sent` or `received`.

use crate::agents::SyncRun;
use crate::integrity::stats::{IntegrityStats, IntegrityTask};

/// Histogram of task durations in seconds.
pub const TASK_DURATION_SECONDS: &str = "wazuh_cluster_task_duration_seconds";
/// Counter of bytes moved by a task (integrity containers, the worker's metadata file).
pub const SYNC_BYTES_TOTAL: &str = "wazuh_cluster_sync_bytes_total";
/// Counter of files created, updated or removed by integrity syncs.
pub const SYNC_FILES_TOTAL: &str = "wazuh_cluster_sync_files_total";
/// Counter of agent-info and agent-groups chunks synchronized.
pub const AGENT_SYNC_CHUNKS_TOTAL: &str = "wazuh_cluster_agent_sync_chunks_total";
/// Counter of connections or handshakes refused, by cause.
pub const REJECTED_CONNECTIONS_TOTAL: &str = "wazuh_cluster_rejected_connections_total";

/// Values of the `task` label.
pub mod task {
    /// `[Integrity check]`.
    pub const INTEGRITY_CHECK: &str = "integrity_check";
    /// `[Integrity sync]`.
    pub const INTEGRITY_SYNC: &str = "integrity_sync";
    /// `[Agent-info sync]`.
    pub const AGENT_INFO: &str = "agent_info";
    /// `[Agent-groups send]`.
    pub const AGENT_GROUPS: &str = "agent_groups";
    /// `[Agent-groups send full]`.
    pub const AGENT_GROUPS_FULL: &str = "agent_groups_full";
}

/// The `peer` label a worker gives its master.
pub const MASTER_PEER: &str = "master";

/// Which way bytes or files moved, seen from the reporting node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// This node sent them.
    Sent,
    /// This node received them.
    Received,
}

impl Direction {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Sent => "sent",
            Direction::Received => "received",
        }
    }
}

/// Reports an integrity check or sync with `peer`.
pub(crate) fn integrity(peer: &str, stats: &IntegrityStats, direction: Direction) {
    let task = match stats.task {
        IntegrityTask::Check => task::INTEGRITY_CHECK,
        IntegrityTask::Sync => task::INTEGRITY_SYNC,
    };
    metrics::histogram!(TASK_DURATION_SECONDS, "task" => task, "peer" => peer.to_owned())
        .record(stats.elapsed.as_secs_f64());
    metrics::counter!(SYNC_BYTES_TOTAL, "task" => task, "peer" => peer.to_owned(),
        "direction" => direction.as_str())
    .increment(stats.bytes);
    if stats.task == IntegrityTask::Sync {
        metrics::counter!(SYNC_FILES_TOTAL, "peer" => peer.to_owned(),
            "direction" => direction.as_str())
        .increment(stats.files as u64);
    }
}

/// Reports an agent-info or agent-groups run (`task` from [`task`]) with `peer`.
pub(crate) fn agent_sync(task: &'static str, peer: &str, run: &SyncRun) {
    metrics::histogram!(TASK_DURATION_SECONDS, "task" => task, "peer" => peer.to_owned())
        .record(run.elapsed().as_secs_f64());
    metrics::counter!(AGENT_SYNC_CHUNKS_TOTAL, "task" => task, "peer" => peer.to_owned())
        .increment(run.chunks);
}

/// Reports a refused connection or handshake; `cause` is a short snake_case word.
pub fn rejected(cause: &'static str) {
    metrics::counter!(REJECTED_CONNECTIONS_TOTAL, "cause" => cause).increment(1);
}

/// The `cause` of a `hello` refused with Wazuh error `code`.
pub(crate) fn hello_rejection_cause(code: u32) -> &'static str {
    use wazuh_cluster_proto::payload::error_codes;
    match code {
        error_codes::DUPLICATE_WORKER => "duplicate_name",
        error_codes::WORKER_NAMED_AS_MASTER => "master_name",
        error_codes::OTHER_CLUSTER => "other_cluster",
        error_codes::VERSION_MISMATCH => "version",
        error_codes::INVALID_NODE_NAME => "invalid_name",
        _ => "malformed_hello",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_codes_have_causes() {
        assert_eq!(hello_rejection_cause(3028), "duplicate_name");
        assert_eq!(hello_rejection_cause(3031), "version");
        assert_eq!(hello_rejection_cause(3060), "invalid_name");
        assert_eq!(hello_rejection_cause(1000), "malformed_hello");
    }
}
