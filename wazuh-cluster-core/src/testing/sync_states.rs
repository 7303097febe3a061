//! [`SyncStateStore`] in memory, for tests and the harness.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use crate::storage::StorageError;
use crate::sync_state::{SyncStateQuery, SyncStateRecord, SyncStateStore};

/// The sync-state table in memory, keyed by `(node, file)`.
#[derive(Debug, Default)]
pub struct MemorySyncStates {
    records: Mutex<BTreeMap<(String, String), SyncStateRecord>>,
}

impl MemorySyncStates {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    fn records(&self) -> MutexGuard<'_, BTreeMap<(String, String), SyncStateRecord>> {
        self.records
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl SyncStateStore for MemorySyncStates {
    async fn set_states(&self, records: &[SyncStateRecord]) -> Result<(), StorageError> {
        let mut table = self.records();
        for record in records {
            table.insert((record.node.clone(), record.file.clone()), record.clone());
        }
        Ok(())
    }

    async fn states(&self, query: &SyncStateQuery) -> Result<Vec<SyncStateRecord>, StorageError> {
        Ok(self
            .records()
            .values()
            .filter(|r| query.matches(r))
            .cloned()
            .collect())
    }

    async fn forget_node(&self, node: &str) -> Result<(), StorageError> {
        self.records().retain(|(n, _), _| n != node);
        Ok(())
    }
}
