//! Timers and rules of the master and the worker, with Wazuh's defaults (`cluster.json`,
//! `wazuh4-protocol.md` section 9). Every field is public and may be overridden.

use std::time::Duration;

use wazuh_cluster_proto::payload::ContainerLimits;

use crate::integrity::ZipLimitConfig;
use crate::transfer::InboxLimits;

/// Timers shared by both roles (`communication` in `cluster.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// How long a request waits for its reply (`timeout_cluster_request`, 20 s).
    pub request_timeout: Duration,
    /// At most this many inbound requests are handled at once per connection; further messages
    /// wait to be read until one finishes.
    pub max_concurrent_requests: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(20),
            max_concurrent_requests: 64,
        }
    }
}

/// Which worker versions a master accepts in `hello`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VersionRule {
    /// The version string must equal the master's, patch included (what Wazuh does; needed to
    /// join clusters of Python nodes).
    #[default]
    Exact,
    /// `major.minor` must equal the master's; the patch level may differ.
    SameMinor,
}

impl VersionRule {
    /// Whether a worker announcing `worker` may join a master running `master`.
    pub fn accepts(self, master: &str, worker: &str) -> bool {
        match self {
            VersionRule::Exact => master == worker,
            VersionRule::SameMinor => {
                fn major_minor(v: &str) -> Option<(&str, &str)> {
                    let mut parts = v.trim_start_matches('v').split('.');
                    Some((parts.next()?, parts.next()?))
                }
                matches!((major_minor(master), major_minor(worker)), (Some(m), Some(w)) if m == w)
            }
        }
    }
}

/// Configuration of a master node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterConfig {
    /// This node's name (`node_name`).
    pub node_name: String,
    /// The cluster's name (`name`).
    pub cluster_name: String,
    /// The version this node announces (Wazuh's `__version__`, e.g. `4.9.2`).
    pub version: String,
    /// How worker versions are compared with [`MasterConfig::version`].
    pub version_rule: VersionRule,
    /// This node's address, shown in the node list.
    pub address: String,
    /// Period of the keepalive reaper (`check_worker_lastkeepalive`, 60 s).
    pub check_worker_lastkeepalive: Duration,
    /// Silence after which a worker is disconnected (`max_allowed_time_without_keepalive`, 120 s).
    pub max_allowed_time_without_keepalive: Duration,
    /// Silence after which a session is stale: a worker that says `hello` under the name of a
    /// session silent for longer replaces it instead of getting error 3028 (the worker's
    /// `keep_alive`, 60 s).
    pub stale_session_after: Duration,
    /// A connection that has not completed `hello` within this time is closed (30 s, as Wazuh
    /// 4.14.7's `PRE_AUTH_PAYLOAD_TIMEOUT`; 4.9.2 never closes them).
    pub hello_deadline: Duration,
    /// Request/reply timers.
    pub session: SessionConfig,
}

impl MasterConfig {
    /// Wazuh's defaults for a master called `node_name` in cluster `cluster_name` running
    /// `version`.
    pub fn new(
        node_name: impl Into<String>,
        cluster_name: impl Into<String>,
        version: impl Into<String>,
    ) -> Self {
        Self {
            node_name: node_name.into(),
            cluster_name: cluster_name.into(),
            version: version.into(),
            version_rule: VersionRule::Exact,
            address: "0.0.0.0".to_owned(),
            check_worker_lastkeepalive: Duration::from_secs(60),
            max_allowed_time_without_keepalive: Duration::from_secs(120),
            stale_session_after: Duration::from_secs(60),
            hello_deadline: Duration::from_secs(30),
            session: SessionConfig::default(),
        }
    }
}

/// Configuration of a worker node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerConfig {
    /// This node's name (`node_name`).
    pub node_name: String,
    /// The cluster's name (`name`).
    pub cluster_name: String,
    /// The version this node announces in `hello`.
    pub version: String,
    /// Pause before reconnecting after a failure or a disconnection (`connection_retry`, 10 s).
    pub connection_retry: Duration,
    /// Period of `echo-c keepalive` (`keep_alive`, 60 s).
    pub keep_alive: Duration,
    /// Consecutive keepalive failures after which the worker disconnects
    /// (`max_failed_keepalive_attempts`, 2).
    pub max_failed_keepalive_attempts: u32,
    /// Request/reply timers.
    pub session: SessionConfig,
}

impl WorkerConfig {
    /// Wazuh's defaults for a worker called `node_name` in cluster `cluster_name` running
    /// `version`.
    pub fn new(
        node_name: impl Into<String>,
        cluster_name: impl Into<String>,
        version: impl Into<String>,
    ) -> Self {
        Self {
            node_name: node_name.into(),
            cluster_name: cluster_name.into(),
            version: version.into(),
            connection_retry: Duration::from_secs(10),
            keep_alive: Duration::from_secs(60),
            max_failed_keepalive_attempts: 2,
            session: SessionConfig::default(),
        }
    }
}

/// Timers and limits of the file integrity synchronization (`cluster.json` `intervals` and
/// `communication`), shared by both roles; each role reads its own fields.
#[derive(Debug, Clone, PartialEq)]
pub struct IntegrityConfig {
    /// Worker: period of the integrity check (`sync_integrity`, 9 s).
    pub sync_integrity: Duration,
    /// Master: period of the recalculation of its table, which also opens a new permission
    /// cycle (`recalculate_integrity`, 8 s).
    pub recalculate_integrity: Duration,
    /// Master: a worker's integrity lock is a lease that expires after this long
    /// (`max_locked_integrity_time`, 1000 s).
    pub max_locked_integrity_time: Duration,
    /// Both: how long a receiver waits for a file after its task started
    /// (`timeout_receiving_file`, 120 s); the receiver then sends `cancel_task`.
    pub timeout_receiving_file: Duration,
    /// Both: a rehash of every file (instead of only changed stats) runs this often, to catch
    /// a change that kept size and modification time (not in Wazuh, which rehashes on mtime).
    pub full_rehash_period: Duration,
    /// Master: the adaptive container limit (`max_zip_size` 1 GiB, `min_zip_size` 30 MiB,
    /// `zip_limit_tolerance` 0.2).
    pub zip_limit: ZipLimitConfig,
    /// Both: largest received container and most held at once.
    pub inbox: InboxLimits,
    /// Both: bounds of decoding a received container.
    pub container_limits: ContainerLimits,
}

impl Default for IntegrityConfig {
    fn default() -> Self {
        let zip_limit = ZipLimitConfig::default();
        Self {
            sync_integrity: Duration::from_secs(9),
            recalculate_integrity: Duration::from_secs(8),
            max_locked_integrity_time: Duration::from_secs(1000),
            timeout_receiving_file: zip_limit.timeout_receiving_file,
            full_rehash_period: Duration::from_secs(3600),
            inbox: InboxLimits {
                max_file_size: zip_limit.max_zip_size,
                max_files: 4,
            },
            container_limits: ContainerLimits {
                max_decompressed: zip_limit.max_zip_size.saturating_mul(2),
                max_entries: 1_000_000,
            },
            zip_limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_rule_compares_patch_and_same_minor_does_not() {
        assert!(VersionRule::Exact.accepts("4.9.2", "4.9.2"));
        assert!(!VersionRule::Exact.accepts("4.9.2", "4.9.1"));
        assert!(VersionRule::SameMinor.accepts("4.9.2", "4.9.1"));
        assert!(!VersionRule::SameMinor.accepts("4.9.2", "4.10.0"));
        assert!(!VersionRule::SameMinor.accepts("4.9.2", "garbage"));
    }
}
