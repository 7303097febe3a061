//! The body of `raft_snap`: the leader's vote and the whole snapshot.

use serde::{Deserialize, Serialize};

use super::registry::Registry;
use super::type_config::{RegistrySnapshotMeta, RegistryVote};

/// A snapshot sent to a peer too far behind for log entries.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotRpc {
    /// The sender's vote (its leadership).
    pub vote: RegistryVote,
    /// The snapshot's last entry and membership.
    pub meta: RegistrySnapshotMeta,
    /// The whole registry.
    pub registry: Registry,
}
