//! From `ossec.conf`'s [`ClusterConfig`] to the core's master and worker configurations.

use wazuh_cluster_core::agents::AgentsConfig;
use wazuh_cluster_core::{IntegrityConfig, MasterConfig, SessionConfig, VersionRule, WorkerConfig};

use crate::config::{ClusterConfig, VersionCheck};

fn session(config: &ClusterConfig) -> SessionConfig {
    SessionConfig {
        request_timeout: config.intervals.timeout_cluster_request,
        ..SessionConfig::default()
    }
}

/// The master's settings: names, version and its rule, the master's address (the first
/// `<node>`), the keepalive reaper's timers. A session silent for two keepalive periods is stale
/// (a restarted worker may take its name over): a live worker is never silent longer than one
/// period plus latency, so two mean it missed a keepalive.
pub fn master_config(config: &ClusterConfig) -> MasterConfig {
    let intervals = &config.intervals;
    let mut master = MasterConfig::new(&config.node_name, &config.name, &config.version);
    master.version_rule = match config.version_check {
        VersionCheck::Exact => VersionRule::Exact,
        VersionCheck::Minor => VersionRule::SameMinor,
    };
    master.address = config.master_address().to_string();
    master.check_worker_lastkeepalive = intervals.check_worker_lastkeepalive;
    master.max_allowed_time_without_keepalive = intervals.max_allowed_time_without_keepalive;
    master.stale_session_after = intervals.keep_alive.saturating_mul(2);
    master.session = session(config);
    master
}

/// The worker's settings: names, version, reconnection and keepalive timers.
pub fn worker_config(config: &ClusterConfig) -> WorkerConfig {
    let intervals = &config.intervals;
    let mut worker = WorkerConfig::new(&config.node_name, &config.name, &config.version);
    worker.connection_retry = intervals.connection_retry;
    worker.keep_alive = intervals.keep_alive;
    worker.max_failed_keepalive_attempts = intervals.max_failed_keepalive_attempts;
    worker.session = session(config);
    worker
}

/// The integrity timers of both roles from `<intervals>`: `sync_integrity` (worker),
/// `recalculate_integrity` and `max_locked_integrity_time` (master), `timeout_receiving_file`
/// (both). Sizes and limits keep Wazuh's defaults.
pub fn integrity_config(config: &ClusterConfig) -> IntegrityConfig {
    let intervals = &config.intervals;
    IntegrityConfig {
        sync_integrity: intervals.sync_integrity,
        recalculate_integrity: intervals.recalculate_integrity,
        max_locked_integrity_time: intervals.max_locked_integrity_time,
        timeout_receiving_file: intervals.timeout_receiving_file,
        ..IntegrityConfig::default()
    }
}

/// The agent timers from `<intervals>`: `sync_agent_info` and `keys_check_interval` (worker),
/// `sync_agent_groups`, `agent_group_start_delay` and `agents_disconnection_time` (master), and
/// `timeout_cluster_request` for a worker's forwarded requests. The agent-groups mismatch limit
/// keeps Wazuh's default (5).
pub fn agents_config(config: &ClusterConfig) -> AgentsConfig {
    let intervals = &config.intervals;
    AgentsConfig {
        sync_agent_info: intervals.sync_agent_info,
        sync_agent_groups: intervals.sync_agent_groups,
        agent_group_start_delay: intervals.agent_group_start_delay,
        disconnect_after: intervals.agents_disconnection_time,
        keys_check_interval: intervals.keys_check_interval,
        forward_timeout: intervals.timeout_cluster_request,
        ..AgentsConfig::default()
    }
}
