//! [`SyncStateStore`]: the per-worker, per-file synchronization states and their storage.

use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use async_trait::async_trait;

use crate::storage::StorageError;

/// Where the synchronization of one file to one worker stands (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileSyncState {
    /// Sent (or waiting for room in a container); the worker's next check tells the outcome.
    Pending,
    /// The worker's last check showed the master's content.
    Synchronized,
    /// The transfer failed, or the content sent did not reach the worker.
    Failed,
    /// Gone from the master and from the worker.
    Deleted,
}

impl FileSyncState {
    /// The word stored and shown: `pending`, `synchronized`, `failed`, `deleted`.
    pub fn as_str(self) -> &'static str {
        match self {
            FileSyncState::Pending => "pending",
            FileSyncState::Synchronized => "synchronized",
            FileSyncState::Failed => "failed",
            FileSyncState::Deleted => "deleted",
        }
    }
}

impl fmt::Display for FileSyncState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored state word is not one of the four.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("file sync state {value:?} is not one of pending, synchronized, failed, deleted")]
pub struct ParseSyncStateError {
    /// The refused word.
    pub value: String,
}

impl FromStr for FileSyncState {
    type Err = ParseSyncStateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(FileSyncState::Pending),
            "synchronized" => Ok(FileSyncState::Synchronized),
            "failed" => Ok(FileSyncState::Failed),
            "deleted" => Ok(FileSyncState::Deleted),
            other => Err(ParseSyncStateError {
                value: other.to_owned(),
            }),
        }
    }
}

/// The state of one file on one worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncStateRecord {
    /// The worker's name.
    pub node: String,
    /// The file, relative to the Wazuh home (`etc/shared/default/agent.conf`).
    pub file: String,
    /// Its state.
    pub state: FileSyncState,
    /// When the state last changed (calendar time).
    pub changed: SystemTime,
}

/// Which records [`SyncStateStore::states`] returns: those of one node, of one file, both, or
/// all (`None` matches everything).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncStateQuery {
    /// Only this worker.
    pub node: Option<String>,
    /// Only this file.
    pub file: Option<String>,
}

impl SyncStateQuery {
    /// Every record.
    pub fn all() -> Self {
        Self::default()
    }

    /// Every file of worker `node`.
    pub fn node(node: impl Into<String>) -> Self {
        Self {
            node: Some(node.into()),
            file: None,
        }
    }

    /// Every worker's record of `file`.
    pub fn file(file: impl Into<String>) -> Self {
        Self {
            node: None,
            file: Some(file.into()),
        }
    }

    /// Whether `record` matches.
    pub fn matches(&self, record: &SyncStateRecord) -> bool {
        self.node.as_ref().is_none_or(|n| *n == record.node)
            && self.file.as_ref().is_none_or(|f| *f == record.file)
    }
}

/// Where the master keeps the sync states.
///
/// Obligations of an implementation (the conformance suite in
/// `testing::sync_state_suite` checks them):
/// - [`SyncStateStore::set_states`] writes a batch atomically: after a crash all or none of it
///   is stored. A record replaces the earlier one of the same `(node, file)`.
/// - [`SyncStateStore::states`] returns the records the query matches, ordered by node then
///   file, with every field as written (`changed` to the nanosecond).
/// - [`SyncStateStore::forget_node`] removes every record of a node; an unknown node is not an
///   error.
/// - Concurrent calls are serialized; a read sees every write that completed before it started.
#[async_trait]
pub trait SyncStateStore: Send + Sync + 'static {
    /// Stores `records` in one transaction, replacing those with the same node and file.
    async fn set_states(&self, records: &[SyncStateRecord]) -> Result<(), StorageError>;

    /// The records `query` matches, ordered by node then file.
    async fn states(&self, query: &SyncStateQuery) -> Result<Vec<SyncStateRecord>, StorageError>;

    /// Removes every record of worker `node`.
    async fn forget_node(&self, node: &str) -> Result<(), StorageError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_their_words() {
        for state in [
            FileSyncState::Pending,
            FileSyncState::Synchronized,
            FileSyncState::Failed,
            FileSyncState::Deleted,
        ] {
            assert_eq!(state.as_str().parse::<FileSyncState>(), Ok(state));
        }
        assert_eq!(
            "done".parse::<FileSyncState>(),
            Err(ParseSyncStateError {
                value: "done".into()
            })
        );
    }
}
