//! The agent commands of the control socket: their names and JSON payloads, shared by the
//! daemon (which answers them) and the tools (`cluster_control -a`, `manage_agents`,
//! `agent_groups`, `wazuh-agent-sim`) that send them.
//!
//! | command       | request payload                                         | `ok` reply |
//! |---------------|---------------------------------------------------------|------------|
//! | `agent_list`  | `{"filter_node": [..]?, "filter_status": [..]?}`        | `{"items": [AgentRow..], "totalItems": n}` |
//! | `agent_add`   | `{"name": "web1", "ip": "any", "groups": ["g"]?}`       | `{"id", "name", "ip", "key", "key_line"}` |
//! | `agent_del`   | `{"id": "001"}`                                         | `{"id": "001"}` |
//! | `group_add`   | `{"group": "g"}`                                        | `{"group": "g"}` |
//! | `group_join`  | `{"id": "001", "group": "g"}`                           | `{"id", "group"}` |
//! | `group_leave` | `{"id": "001", "group": "g"}`                           | `{"id", "group"}` |
//! | `group_list`  | `{"local": true?}`                                      | `{"items": [{"name", "agents": ["001"..]}..]}` |
//! | `agent_stat`  | `{"id": "001" \| "ids": [..], "event": "keepalive" \| "disconnected", "version"?, "os"?}` | `{"accepted": n, "refused": [{"id", "code", "message"}..]}` |
//!
//! Every command works the same on the master and on a worker: a worker's management requests
//! go to the master (the node's `AgentApi` forwards them) and `agent_list` is asked of the
//! master over the cluster connection. A refusal is Wazuh's `err` reply, a `WazuhError`
//! exception whose `code` is the agent error's (1701 unknown agent, 1705 duplicate name, 1710
//! unknown group, 3023 master unreachable...) and whose message is the error's own text.
//! `agent_stat` with `id` answers a refusal as an error; with `ids` it reports each one.
//! `group_list` with `"local": true` answers from this node's own store instead: on a worker,
//! the assignments the master pushed to it (`syn_g_m_w`), only groups that have agents.

use serde::{Deserialize, Serialize};
use wazuh_cluster_proto::Command;

/// List the agents with their status and the node they report to.
pub const AGENT_LIST: Command = Command::from_static("agent_list");
/// Register an agent.
pub const AGENT_ADD: Command = Command::from_static("agent_add");
/// Delete an agent.
pub const AGENT_DEL: Command = Command::from_static("agent_del");
/// Create a group.
pub const GROUP_ADD: Command = Command::from_static("group_add");
/// Add a group to an agent.
pub const GROUP_JOIN: Command = Command::from_static("group_join");
/// Remove a group from an agent.
pub const GROUP_LEAVE: Command = Command::from_static("group_leave");
/// List the groups and their agents.
pub const GROUP_LIST: Command = Command::from_static("group_list");
/// Report what the local manager saw of agents (keepalive or disconnection).
pub const AGENT_STAT: Command = Command::from_static("agent_stat");

/// Payload of `agent_list`: absent or empty filters keep everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListAgents {
    /// Only agents reporting to these nodes.
    #[serde(default)]
    pub filter_node: Option<Vec<String>>,
    /// Only agents with these statuses (`active`, `disconnected`, `never_connected`,
    /// `pending`).
    #[serde(default)]
    pub filter_status: Option<Vec<String>>,
}

/// One agent of the `agent_list` reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRow {
    /// Id, zero-padded (`001`).
    pub id: String,
    /// Name.
    pub name: String,
    /// `any` or an address.
    pub ip: String,
    /// `active`, `disconnected`, `never_connected` or `pending`.
    pub status: String,
    /// Agent version, if it reported one.
    pub version: Option<String>,
    /// Operating system, if it reported one.
    pub os: Option<String>,
    /// The node it reports to, once it reported.
    pub node_name: Option<String>,
    /// Its groups in priority order.
    pub groups: Vec<String>,
    /// Its last keepalive, seconds since the Unix epoch.
    pub last_keepalive: Option<i64>,
}

/// Reply of `agent_list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentList {
    /// The agents, ascending by id.
    pub items: Vec<AgentRow>,
    /// How many.
    #[serde(rename = "totalItems")]
    pub total_items: usize,
}

/// Payload of `agent_add`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddAgent {
    /// Name.
    pub name: String,
    /// `any` (the default) or an address.
    #[serde(default = "any_ip")]
    pub ip: String,
    /// Groups (none means `default`).
    #[serde(default)]
    pub groups: Vec<String>,
}

fn any_ip() -> String {
    "any".to_owned()
}

/// Reply of `agent_add`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedAgent {
    /// The new id.
    pub id: String,
    /// Name.
    pub name: String,
    /// IP text.
    pub ip: String,
    /// Its key (64 hex characters).
    pub key: String,
    /// The `client.keys` line to give the agent: `ID NAME IP KEY`.
    pub key_line: String,
}

/// Payload and reply of `agent_del`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRef {
    /// The agent's id.
    pub id: String,
}

/// Payload and reply of `group_add`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRef {
    /// The group.
    pub group: String,
}

/// Payload and reply of `group_join` and `group_leave`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// The agent's id.
    pub id: String,
    /// The group.
    pub group: String,
}

/// Payload of `group_list` (absent or `{}`: the registry's groups, asked of the master by a
/// worker).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListGroups {
    /// `true`: the group assignments this node's own store holds (on a worker, those received
    /// with `syn_g_m_w`), listing only groups that have agents.
    #[serde(default)]
    pub local: bool,
}

/// One group of the `group_list` reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRow {
    /// The group.
    pub name: String,
    /// The agents in it, ascending by id.
    pub agents: Vec<String>,
}

/// Reply of `group_list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupList {
    /// The groups, sorted by name.
    pub items: Vec<GroupRow>,
}

/// What happened to an agent, in `agent_stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportEvent {
    /// It connected or sent a keepalive.
    Keepalive,
    /// It disconnected.
    Disconnected,
}

/// Payload of `agent_stat`: one agent (`id`) or several (`ids`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    /// One agent: a refusal is answered as an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Several agents: each refusal is listed in the reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<String>>,
    /// What happened.
    pub event: ReportEvent,
    /// Agent version (`Wazuh v4.9.2`), with a keepalive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Operating system, with a keepalive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
}

/// An agent whose report was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedReport {
    /// The agent.
    pub id: String,
    /// The agent error's code.
    pub code: u32,
    /// Why.
    pub message: String,
}

/// Reply of `agent_stat`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportOutcome {
    /// How many reports were recorded.
    pub accepted: usize,
    /// The refused ones.
    pub refused: Vec<RefusedReport>,
}
