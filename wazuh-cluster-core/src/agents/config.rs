//! Timers and limits of the agent tasks, with Wazuh's defaults.

use std::time::Duration;

/// Configuration of the agent tasks of a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentsConfig {
    /// Period of the worker's agent-info sync (`sync_agent_info`, 10 s).
    pub sync_agent_info: Duration,
    /// Period of the master's agent-groups push (`sync_agent_groups`, 10 s).
    pub sync_agent_groups: Duration,
    /// Delay before the master's first agent-groups push (`agent_group_start_delay`, 30 s).
    pub agent_group_start_delay: Duration,
    /// Consecutive hash mismatches before a worker asks for every agent's groups
    /// (`agent_groups_mismatch_limit`, 5).
    pub agent_groups_mismatch_limit: u32,
    /// An active agent silent for longer is marked `disconnected` on the master (Wazuh's
    /// `agents_disconnection_time`, 10 min).
    pub disconnect_after: Duration,
    /// How often a worker looks at its `client.keys` for removed and new agents (2 s).
    pub keys_check_interval: Duration,
    /// How long a worker waits for the master's answer to a forwarded request (20 s).
    pub forward_timeout: Duration,
}

impl Default for AgentsConfig {
    fn default() -> Self {
        Self {
            sync_agent_info: Duration::from_secs(10),
            sync_agent_groups: Duration::from_secs(10),
            agent_group_start_delay: Duration::from_secs(30),
            agent_groups_mismatch_limit: 5,
            disconnect_after: Duration::from_secs(600),
            keys_check_interval: Duration::from_secs(2),
            forward_timeout: Duration::from_secs(20),
        }
    }
}
