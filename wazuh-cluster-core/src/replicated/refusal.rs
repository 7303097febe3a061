//! Why the replicated registry refused a command. A refusal changes nothing and is the same on
//! every node; its code is the one the agent API already uses for the same error.

use serde::{Deserialize, Serialize};

use crate::agents::error::codes;
use crate::agents::{AgentError, AgentId};

/// A refused command, as a value carried in the command's response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "refused", rename_all = "snake_case")]
pub enum CommandRefused {
    /// The agent name has wrong characters or length.
    #[error(
        "agent name {name:?} refused: use 2 to 128 characters among letters, digits, '.', '_' and '-'"
    )]
    InvalidName {
        /// The refused name.
        name: String,
    },
    /// The group name has wrong characters or length.
    #[error(
        "group name {name:?} refused: use 1 to 255 characters among letters, digits, '.', '_' and '-'"
    )]
    InvalidGroupName {
        /// The refused name.
        name: String,
    },
    /// Another agent has this name.
    #[error(
        "there is already an agent named {name:?} (id {id}); choose another name or remove agent {id} first"
    )]
    DuplicateName {
        /// The name.
        name: String,
        /// The agent that has it.
        id: AgentId,
    },
    /// Another agent has this IP.
    #[error(
        "there is already an agent with IP {ip} (id {id}); use another IP, 'any', or remove agent {id} first"
    )]
    DuplicateIp {
        /// The IP.
        ip: String,
        /// The agent that has it.
        id: AgentId,
    },
    /// A given id is lower than the next free one (ids only increase).
    #[error(
        "agent id {id} refused: ids only increase and the next free id is {next}; register without an id or with {next} or more"
    )]
    IdNotIncreasing {
        /// The refused id.
        id: AgentId,
        /// The lowest id a registration may use.
        next: AgentId,
    },
    /// `000` is the manager, and the highest id is taken: no id is left to give.
    #[error("agent id {id} refused: agent ids run from 001 to 4294967294")]
    IdOutOfRange {
        /// The refused or exhausted id.
        id: AgentId,
    },
    /// No agent has this id.
    #[error("agent {id} does not exist; list the agents to find its id")]
    NotFound {
        /// The id.
        id: AgentId,
    },
    /// No group has this name.
    #[error("group {group:?} does not exist; create it first")]
    GroupNotFound {
        /// The group.
        group: String,
    },
    /// The group exists.
    #[error("group {group:?} already exists")]
    GroupExists {
        /// The group.
        group: String,
    },
    /// The agent is in the group already.
    #[error("agent {id} already belongs to group {group:?}")]
    AlreadyInGroup {
        /// The agent.
        id: AgentId,
        /// The group.
        group: String,
    },
    /// The agent is not in the group.
    #[error("agent {id} does not belong to group {group:?}")]
    NotInGroup {
        /// The agent.
        id: AgentId,
        /// The group.
        group: String,
    },
    /// A manifest path is absolute, climbs out, or has empty components.
    #[error(
        "manifest path {path:?} refused: give a relative path with '/' between non-empty names, without '.' or '..'"
    )]
    InvalidManifestPath {
        /// The refused path.
        path: String,
    },
    /// A manifest hash is not blake2b-512 lowercase hex.
    #[error(
        "manifest entry {path:?} refused: its hash must be 128 lowercase hex characters (blake2b-512)"
    )]
    InvalidManifestHash {
        /// The entry's path.
        path: String,
    },
    /// A manifest mode has bits beyond the permission bits.
    #[error("manifest entry {path:?} refused: mode {mode:o} is not within 0o7777")]
    InvalidManifestMode {
        /// The entry's path.
        path: String,
        /// The refused mode.
        mode: u32,
    },
}

impl CommandRefused {
    /// The agent API's code for this refusal ([`codes`]).
    pub fn code(&self) -> u32 {
        use CommandRefused::*;
        match self {
            InvalidName { .. }
            | IdNotIncreasing { .. }
            | IdOutOfRange { .. }
            | InvalidManifestPath { .. }
            | InvalidManifestHash { .. }
            | InvalidManifestMode { .. } => codes::INVALID_VALUE,
            InvalidGroupName { .. } => codes::INVALID_GROUP_NAME,
            DuplicateName { .. } => codes::DUPLICATE_NAME,
            DuplicateIp { .. } => codes::DUPLICATE_IP,
            NotFound { .. } => codes::AGENT_NOT_FOUND,
            GroupNotFound { .. } => codes::GROUP_NOT_FOUND,
            GroupExists { .. } => codes::GROUP_EXISTS,
            AlreadyInGroup { .. } => codes::ALREADY_IN_GROUP,
            NotInGroup { .. } => codes::NOT_IN_GROUP,
        }
    }
}

/// The agent API's error for a refusal: its code and message, as a forwarded master answer.
impl From<CommandRefused> for AgentError {
    fn from(refused: CommandRefused) -> Self {
        AgentError::Master {
            code: refused.code(),
            message: refused.to_string(),
        }
    }
}
