//! What can go wrong with agents, with a code for each kind (Wazuh's API codes where Wazuh has
//! the same error) so that a worker can hand the master's answer back unchanged.

use crate::storage::StorageError;

/// Codes of [`AgentError`], as carried in forwarded answers (`{"error": code, "message": ..}`).
pub mod codes {
    /// A value (id, name, IP, key) is malformed.
    pub const INVALID_VALUE: u32 = 1700;
    /// The agent does not exist (Wazuh 1701).
    pub const AGENT_NOT_FOUND: u32 = 1701;
    /// An agent with this name exists (Wazuh 1705).
    pub const DUPLICATE_NAME: u32 = 1705;
    /// An agent with this IP exists (Wazuh 1706).
    pub const DUPLICATE_IP: u32 = 1706;
    /// The group does not exist (Wazuh 1710).
    pub const GROUP_NOT_FOUND: u32 = 1710;
    /// The group exists already (Wazuh 1711).
    pub const GROUP_EXISTS: u32 = 1711;
    /// The group name is malformed (Wazuh 1722).
    pub const INVALID_GROUP_NAME: u32 = 1722;
    /// The agent is not in the group (Wazuh 1734).
    pub const NOT_IN_GROUP: u32 = 1734;
    /// The agent is already in the group (Wazuh 1751).
    pub const ALREADY_IN_GROUP: u32 = 1751;
    /// The agent is not in this node's `client.keys`.
    pub const NOT_IN_CLIENT_KEYS: u32 = 1760;
    /// A worker could not reach its master (Wazuh 3023, worker not connected).
    pub const MASTER_UNREACHABLE: u32 = 3023;
    /// With failover: a change was not committed by a quorum of master-eligible nodes.
    pub const NOT_COMMITTED: u32 = 3071;
    /// Anything unexpected: storage, files, protocol (Wazuh 1000).
    pub const INTERNAL: u32 = 1000;
}

/// Why an agent operation was refused or failed. Refusals change nothing.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The id is not a number.
    #[error("agent id {value:?} is not a number; give the id as digits, such as 001")]
    InvalidId {
        /// The refused text.
        value: String,
    },
    /// The name has wrong characters or length.
    #[error(
        "agent name {name:?} refused: use 2 to 128 characters among letters, digits, '.', '_' and '-'"
    )]
    InvalidName {
        /// The refused name.
        name: String,
    },
    /// The IP is neither `any` nor an address.
    #[error("agent IP {value:?} refused: give an IPv4 or IPv6 address, or 'any'")]
    InvalidIp {
        /// The refused text.
        value: String,
    },
    /// The key is not 64 hex characters.
    #[error("agent key refused: a key is 64 hexadecimal characters")]
    InvalidKey,
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
        id: String,
    },
    /// Another agent has this IP.
    #[error(
        "there is already an agent with IP {ip} (id {id}); use another IP, 'any', or remove agent {id} first"
    )]
    DuplicateIp {
        /// The IP.
        ip: String,
        /// The agent that has it.
        id: String,
    },
    /// No agent has this id.
    #[error("agent {id} does not exist; list the agents to find its id")]
    NotFound {
        /// The id.
        id: String,
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
        id: String,
        /// The group.
        group: String,
    },
    /// The agent is not in the group.
    #[error("agent {id} does not belong to group {group:?}")]
    NotInGroup {
        /// The agent.
        id: String,
        /// The group.
        group: String,
    },
    /// A status report names an agent this node has no key for.
    #[error(
        "agent {id} is not in the client.keys of node {node}; register it on the master first (or wait for its key to reach this node)"
    )]
    NotInClientKeys {
        /// The agent.
        id: String,
        /// This node.
        node: String,
    },
    /// A worker could not get an answer from its master; nothing was done.
    #[error(
        "the master cannot be reached ({reason}); nothing was registered or changed, retry once the worker is connected"
    )]
    MasterUnreachable {
        /// Why.
        reason: String,
    },
    /// With failover: a registry change was not committed by a quorum of master-eligible
    /// nodes (this node lost leadership, or no quorum answered in time).
    #[error("{what} was not committed: {reason}")]
    NotCommitted {
        /// The change.
        what: String,
        /// Why, and what to do.
        reason: String,
    },
    /// The master refused or failed a forwarded request; its code and message.
    #[error("the master answered error {code}: {message}")]
    Master {
        /// The master's code (see [`codes`]).
        code: u32,
        /// The master's message.
        message: String,
    },
    /// The agent database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A file of the registry could not be read or written.
    #[error("could not {action} {path}: {reason}")]
    Files {
        /// What was being done (`write`, `read`, `remove`).
        action: &'static str,
        /// The file.
        path: String,
        /// The error.
        reason: String,
    },
    /// A peer sent something this node cannot read.
    #[error("malformed {what}: {reason}")]
    Protocol {
        /// What was malformed.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

impl AgentError {
    /// The error's code (see [`codes`]); a master's error keeps the master's code.
    pub fn code(&self) -> u32 {
        use AgentError::*;
        match self {
            InvalidId { .. } | InvalidName { .. } | InvalidIp { .. } | InvalidKey => {
                codes::INVALID_VALUE
            }
            InvalidGroupName { .. } => codes::INVALID_GROUP_NAME,
            DuplicateName { .. } => codes::DUPLICATE_NAME,
            DuplicateIp { .. } => codes::DUPLICATE_IP,
            NotFound { .. } => codes::AGENT_NOT_FOUND,
            GroupNotFound { .. } => codes::GROUP_NOT_FOUND,
            GroupExists { .. } => codes::GROUP_EXISTS,
            AlreadyInGroup { .. } => codes::ALREADY_IN_GROUP,
            NotInGroup { .. } => codes::NOT_IN_GROUP,
            NotInClientKeys { .. } => codes::NOT_IN_CLIENT_KEYS,
            MasterUnreachable { .. } => codes::MASTER_UNREACHABLE,
            NotCommitted { .. } => codes::NOT_COMMITTED,
            Master { code, .. } => *code,
            Storage(_) | Files { .. } | Protocol { .. } => codes::INTERNAL,
        }
    }
}
