//! What the Raft log carries: one change to what only the master owns (the agent registry and
//! the file manifest it pushes), and what applying it answered.
//!
//! A command is decided before it is proposed: the leader draws the key and reads the time, so
//! that applying it is the same on every node. Values that can be checked when decoded (id, IP,
//! key) are typed; names, groups and manifest entries are checked by the state machine, which
//! answers a refusal instead of changing anything.

use serde::{Deserialize, Serialize};

use super::manifest::ManifestEntry;
use super::refusal::CommandRefused;
use crate::agents::{AgentId, AgentIp, AgentKey};

/// One change to the replicated registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum RegistryCommand {
    /// Registers an agent. With `id: None` the registry gives the next id; a given id must not
    /// be lower than that (ids only increase, so an old agent's leftovers are never taken for
    /// a new one).
    RegisterAgent {
        /// The id to use, or `None` for the next one.
        id: Option<AgentId>,
        /// Its unique name.
        name: String,
        /// `any`, or an address no other agent has.
        ip: AgentIp,
        /// Its key, drawn by the leader.
        key: AgentKey,
        /// Existing groups, in priority order; empty means `default`.
        groups: Vec<String>,
        /// The leader's time when it proposed, seconds since the Unix epoch.
        registered_at: i64,
    },
    /// Removes an agent.
    DeleteAgent {
        /// The agent.
        id: AgentId,
    },
    /// Creates a group.
    CreateGroup {
        /// Its name.
        name: String,
    },
    /// Adds an existing group to an agent's groups (last in priority).
    AssignGroup {
        /// The agent.
        id: AgentId,
        /// The group.
        group: String,
    },
    /// Removes a group from an agent's groups (an agent left without any goes back to
    /// `default`).
    UnassignGroup {
        /// The agent.
        id: AgentId,
        /// The group.
        group: String,
    },
    /// Adds or replaces manifest entries, all or none.
    SetManifestEntries {
        /// The entries.
        entries: Vec<ManifestEntry>,
    },
    /// Removes manifest entries; paths that are not in the manifest are skipped.
    RemoveManifestEntries {
        /// The paths.
        paths: Vec<String>,
    },
}

/// What applying a log entry changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "applied", rename_all = "snake_case")]
pub enum Applied {
    /// A Raft entry of its own (blank or membership): the registry did not change.
    NoCommand,
    /// The agent was registered with this id.
    Registered {
        /// Its id.
        id: AgentId,
    },
    /// The agent was removed.
    Deleted {
        /// Its id.
        id: AgentId,
    },
    /// The group was created.
    GroupCreated {
        /// Its name.
        name: String,
    },
    /// The agent's groups are now these.
    GroupsChanged {
        /// The agent.
        id: AgentId,
        /// Its groups, in priority order.
        groups: Vec<String>,
    },
    /// These manifest entries were set.
    ManifestSet {
        /// Their paths.
        paths: Vec<String>,
    },
    /// These manifest entries were removed (those that existed).
    ManifestRemoved {
        /// Their paths.
        paths: Vec<String>,
    },
}

/// The answer to one log entry: what changed, or why nothing did. A refusal is a committed
/// entry like any other (every node refuses it the same way), not a Raft failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandResponse(pub Result<Applied, CommandRefused>);

/// One line for logs: the operation and its subject, never the key.
impl std::fmt::Display for RegistryCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RegistryCommand::RegisterAgent { id, name, ip, .. } => match id {
                Some(id) => write!(f, "register agent {id} {name:?} ({ip})"),
                None => write!(f, "register agent {name:?} ({ip})"),
            },
            RegistryCommand::DeleteAgent { id } => write!(f, "delete agent {id}"),
            RegistryCommand::CreateGroup { name } => write!(f, "create group {name:?}"),
            RegistryCommand::AssignGroup { id, group } => {
                write!(f, "assign agent {id} to group {group:?}")
            }
            RegistryCommand::UnassignGroup { id, group } => {
                write!(f, "unassign agent {id} from group {group:?}")
            }
            RegistryCommand::SetManifestEntries { entries } => {
                write!(f, "set {} manifest entries", entries.len())
            }
            RegistryCommand::RemoveManifestEntries { paths } => {
                write!(f, "remove {} manifest entries", paths.len())
            }
        }
    }
}
