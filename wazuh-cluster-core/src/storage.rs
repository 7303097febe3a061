//! The cluster database, part one: the nodes that join and leave.
//!
//! DESIGN.md draws one `Storage` for nodes, agents, file sync states and task runs. The core
//! splits it into one trait per concern, each with its own obligations and conformance suite:
//! [`Storage`] (nodes, here), [`crate::SyncStateStore`] (per worker and file
//! sync state) and [`crate::agents::AgentStore`] (registry, agent-info, groups). A backend
//! implements all three (the daemon's SQLite one does, on one database file), but a feature can
//! grow its tables without breaking the others' backends, and an embedder that runs only part of
//! the cluster implements only that part.

use std::time::SystemTime;

use async_trait::async_trait;

use crate::node::NodeType;

/// A node known to the cluster database: a worker that completed `hello` on this master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRecord {
    /// Node name (`node_name` of its configuration), unique in the cluster.
    pub name: String,
    /// Master or worker.
    pub node_type: NodeType,
    /// Wazuh version the node announced.
    pub version: String,
    /// Address the node connected from (an IP, as `cluster_control -l` shows it).
    pub address: String,
    /// When its current session started.
    pub connected_since: SystemTime,
}

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub struct StorageError {
    /// The operation that failed, e.g. `"record node worker01"`.
    pub operation: String,
    /// The backend's error.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
    /// What kind of failure it was, which says what to do.
    pub kind: StorageErrorKind,
}

/// What kind of failure a [`StorageError`] is: a caller tells an operation cut by the node's
/// orderly stop ([`StorageErrorKind::Closed`]) from a real failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageErrorKind {
    /// The backend failed (an I/O error, a damaged file, a constraint...).
    Failed,
    /// The store was closed: the node is stopping and the operation was not done.
    Closed,
    /// Every connection of the store stayed busy for this long (the operation waited for one
    /// and gave up): the node is overloaded.
    Busy(std::time::Duration),
}

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (operation, source) = (&self.operation, &self.source);
        match self.kind {
            StorageErrorKind::Failed => write!(
                f,
                "cluster database {operation} failed: {source}; check the database's health and \
                 free space"
            ),
            StorageErrorKind::Closed => write!(
                f,
                "cluster database {operation} not done: the database closed as the node stops \
                 ({source})"
            ),
            StorageErrorKind::Busy(waited) => write!(
                f,
                "cluster database {operation} failed: every connection stayed busy for \
                 {waited:?} ({source}); the node is overloaded: give it more CPU or a faster \
                 disk, or connect fewer workers or agents to it"
            ),
        }
    }
}

impl StorageError {
    /// Wraps a backend error with the operation it interrupted.
    pub fn new(
        operation: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self {
            operation: operation.into(),
            source: source.into(),
            kind: StorageErrorKind::Failed,
        }
    }

    /// This error as one of `kind`.
    pub fn with_kind(self, kind: StorageErrorKind) -> Self {
        Self { kind, ..self }
    }

    /// Whether the operation was cut by the store's closing (the node is stopping), not by a
    /// failure.
    pub fn is_closed(&self) -> bool {
        self.kind == StorageErrorKind::Closed
    }
}

/// The cluster database.
///
/// Obligations of an implementation (the conformance suite in `testing::storage_suite` checks
/// them):
/// - Every write is atomic: after a crash the database holds the old or the new state, never a
///   mix, and a write that returned `Ok` survives a restart of the node.
/// - Writes from concurrent tasks are serialized; a read sees every write that completed before it
///   started.
/// - [`Storage::record_node`] replaces any record with the same name (a reconnecting worker).
/// - [`Storage::remove_node`] of an unknown name is not an error.
/// - [`Storage::nodes`] lists records ordered by name.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// Records that `node` joined, replacing an earlier record of the same name.
    async fn record_node(&self, node: NodeRecord) -> Result<(), StorageError>;

    /// Records that the node `name` left.
    async fn remove_node(&self, name: &str) -> Result<(), StorageError>;

    /// Every recorded node, ordered by name.
    async fn nodes(&self) -> Result<Vec<NodeRecord>, StorageError>;
}
