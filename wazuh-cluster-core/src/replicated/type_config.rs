//! openraft's type configuration for the replicated registry: what the log carries, node ids
//! and addresses, and the runtime.

use super::command::{CommandResponse, RegistryCommand};
use super::runtime::RaftRuntime;

openraft::declare_raft_types!(
    /// The replicated registry's Raft types: [`RegistryCommand`] entries answered by
    /// [`CommandResponse`], `u64` node ids, [`openraft::BasicNode`] addresses (`host:port` of
    /// the node's cluster port), [`RaftRuntime`].
    pub RegistryRaftConfig:
        D = RegistryCommand,
        R = CommandResponse,
        NodeId = u64,
        Node = openraft::BasicNode,
        AsyncRuntime = RaftRuntime,
);

/// A log entry.
pub type RegistryEntry = openraft::type_config::alias::EntryOf<RegistryRaftConfig>;
/// A log id (term, leader and index).
pub type RegistryLogId = openraft::type_config::alias::LogIdOf<RegistryRaftConfig>;
/// The membership as last applied, with the id of the entry that set it.
pub type RegistryMembership = openraft::type_config::alias::StoredMembershipOf<RegistryRaftConfig>;
/// A snapshot's metadata.
pub type RegistrySnapshotMeta = openraft::type_config::alias::SnapshotMetaOf<RegistryRaftConfig>;
/// A vote (term, candidate, committed or not).
pub type RegistryVote = openraft::type_config::alias::VoteOf<RegistryRaftConfig>;
/// A Raft node of the replicated registry over state machine `SM`.
pub type RegistryRaft<SM> = openraft::Raft<RegistryRaftConfig, SM>;
