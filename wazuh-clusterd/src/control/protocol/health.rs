//! `get_health`: its reply ([`HealthReply`]), as the master builds it and `cluster_control -i`
//! reads it (`wazuh4-protocol.md` section 8).
//!
//! `{"n_connected_nodes": <workers>, "nodes": {name: {"info": {...}, "status": {...}}}}`; only
//! workers have `status`. Every date is a string, `%Y-%m-%dT%H:%M:%S.%fZ` in UTC or [`NEVER`].
//! The syncs the master runs name their dates `date_start_master`/`date_end_master`
//! ([`MasterPeriod`], [`IntegritySync`], [`AgentInfoSync`]); the agent-groups syncs name them
//! `date_start`/`date_end` ([`AgentGroupsSync`]), as Wazuh does.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What Wazuh shows for a date that never happened.
pub const NEVER: &str = "n/a";

/// Reply of `get_health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthReply {
    /// The workers the filter kept.
    pub n_connected_nodes: usize,
    /// The nodes the filter kept, by name.
    pub nodes: BTreeMap<String, NodeHealth>,
}

/// One node of the `get_health` reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeHealth {
    /// What the node is.
    pub info: NodeHealthInfo,
    /// How its syncs with the master went: workers only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<WorkerHealthStatus>,
}

/// The `info` of a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeHealthInfo {
    /// Its name.
    pub name: String,
    /// `master` or `worker`.
    #[serde(rename = "type")]
    pub node_type: String,
    /// Its Wazuh version.
    pub version: String,
    /// Its address.
    pub ip: String,
    /// The agents whose last agent-info says `active` on this node.
    pub n_active_agents: usize,
}

/// The `status` of a worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerHealthStatus {
    /// No integrity sync with the worker is under way.
    pub sync_integrity_free: bool,
    /// The master is not receiving the worker's agent-info.
    pub sync_agent_info_free: bool,
    /// The last integrity check.
    pub last_check_integrity: MasterPeriod,
    /// The last integrity sync.
    pub last_sync_integrity: IntegritySync,
    /// The last agent-info sync.
    pub last_sync_agentinfo: AgentInfoSync,
    /// The last agent-groups sync.
    pub last_sync_agentgroup: AgentGroupsSync,
    /// The last full agent-groups sync.
    pub last_sync_full_agentgroup: AgentGroupsSync,
    /// The worker's last keepalive.
    pub last_keep_alive: String,
}

/// When a task the master runs started and ended (`last_check_integrity`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterPeriod {
    /// Start, or [`NEVER`].
    pub date_start_master: String,
    /// End, or [`NEVER`].
    pub date_end_master: String,
}

/// The last integrity sync (`last_sync_integrity`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegritySync {
    /// Start, or [`NEVER`].
    pub date_start_master: String,
    /// End, or [`NEVER`].
    pub date_end_master: String,
    /// Wazuh's count of extra-valid files (always 0 here: agent-groups files go by their sync).
    pub total_extra_valid: usize,
    /// What the last check's comparison counted.
    pub total_files: FileCounts,
}

/// The files of an integrity comparison (`total_files`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCounts {
    /// Files the worker lacks.
    pub missing: usize,
    /// Files both have with different contents.
    pub shared: usize,
    /// Files only the worker has.
    pub extra: usize,
    /// Extra files the master takes from the worker (always 0 here).
    pub extra_valid: usize,
}

/// The last agent-info sync (`last_sync_agentinfo`), dated by the master.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentInfoSync {
    /// Start, or [`NEVER`].
    pub date_start_master: String,
    /// End, or [`NEVER`].
    pub date_end_master: String,
    /// Chunks received.
    pub n_synced_chunks: u64,
}

/// The last agent-groups sync (`last_sync_agentgroup`, `last_sync_full_agentgroup`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentGroupsSync {
    /// Start, or [`NEVER`].
    pub date_start: String,
    /// End, or [`NEVER`].
    pub date_end: String,
    /// Chunks sent.
    pub n_synced_chunks: u64,
}

/// A `get_health` reply as Wazuh writes it: a master and a worker `w` that checked once.
#[cfg(test)]
pub(crate) fn example_json() -> serde_json::Value {
    serde_json::json!({"n_connected_nodes": 1, "nodes": {
        "m": {"info": {"name": "m", "type": "master", "version": "4.9.2", "ip": "10.0.0.1", "n_active_agents": 0}},
        "w": {"info": {"name": "w", "type": "worker", "version": "4.9.2", "ip": "10.0.0.2", "n_active_agents": 0},
              "status": {"sync_integrity_free": true, "sync_agent_info_free": true,
                "last_check_integrity": {"date_start_master": "2025-08-18T17:06:28.638405Z", "date_end_master": "2025-08-18T17:06:28.651010Z"},
                "last_sync_integrity": {"date_start_master": "n/a", "date_end_master": "n/a", "total_extra_valid": 0,
                    "total_files": {"missing": 0, "shared": 1, "extra": 0, "extra_valid": 0}},
                "last_sync_agentinfo": {"date_start_master": "n/a", "date_end_master": "n/a", "n_synced_chunks": 0},
                "last_sync_agentgroup": {"date_start": "n/a", "date_end": "n/a", "n_synced_chunks": 0},
                "last_sync_full_agentgroup": {"date_start": "n/a", "date_end": "n/a", "n_synced_chunks": 0},
                "last_keep_alive": "2025-08-18T17:05:40.275469Z"}}}})
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn info(name: &str, node_type: &str, ip: &str) -> NodeHealthInfo {
        NodeHealthInfo {
            name: name.into(),
            node_type: node_type.into(),
            version: "4.9.2".into(),
            ip: ip.into(),
            n_active_agents: 0,
        }
    }

    fn worker() -> NodeHealth {
        let groups = AgentGroupsSync {
            date_start: NEVER.into(),
            date_end: NEVER.into(),
            n_synced_chunks: 0,
        };
        NodeHealth {
            info: info("w", "worker", "10.0.0.2"),
            status: Some(WorkerHealthStatus {
                sync_integrity_free: true,
                sync_agent_info_free: true,
                last_check_integrity: MasterPeriod {
                    date_start_master: "2025-08-18T17:06:28.638405Z".into(),
                    date_end_master: "2025-08-18T17:06:28.651010Z".into(),
                },
                last_sync_integrity: IntegritySync {
                    date_start_master: NEVER.into(),
                    date_end_master: NEVER.into(),
                    total_extra_valid: 0,
                    total_files: FileCounts {
                        missing: 0,
                        shared: 1,
                        extra: 0,
                        extra_valid: 0,
                    },
                },
                last_sync_agentinfo: AgentInfoSync {
                    date_start_master: NEVER.into(),
                    date_end_master: NEVER.into(),
                    n_synced_chunks: 0,
                },
                last_sync_agentgroup: groups.clone(),
                last_sync_full_agentgroup: groups,
                last_keep_alive: "2025-08-18T17:05:40.275469Z".into(),
            }),
        }
    }

    #[test]
    fn the_reply_round_trips_with_wazuhs_names() {
        let master = NodeHealth {
            info: info("m", "master", "10.0.0.1"),
            status: None,
        };
        let reply = HealthReply {
            n_connected_nodes: 1,
            nodes: BTreeMap::from([("m".into(), master), ("w".into(), worker())]),
        };
        assert_eq!(serde_json::to_value(&reply).unwrap(), example_json());
        let text = serde_json::to_string(&reply).unwrap();
        assert!(
            text.starts_with(r#"{"n_connected_nodes":1,"nodes":{"m":{"info":{"name":"m","type":"master","version":"4.9.2","ip":"10.0.0.1","n_active_agents":0}},"w""#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<HealthReply>(&text).unwrap(), reply);
    }

    #[test]
    fn a_status_with_the_wrong_date_names_does_not_parse() {
        let mut value = serde_json::to_value(worker()).unwrap();
        value["status"]["last_sync_agentgroup"] =
            json!({"date_start_master": "n/a", "date_end_master": "n/a", "n_synced_chunks": 0});
        let error = serde_json::from_value::<NodeHealth>(value).unwrap_err();
        assert!(
            error.to_string().contains("missing field `date_start`"),
            "{error}"
        );
    }
}
