//! [`Storage`] in memory, for tests and the harness (survives a node restart when the harness
//! keeps the same instance, as a disk would).

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::storage::{NodeRecord, Storage, StorageError};

/// The cluster database in memory.
#[derive(Debug, Default)]
pub struct MemoryStorage {
    nodes: Mutex<BTreeMap<String, NodeRecord>>,
}

impl MemoryStorage {
    /// An empty database.
    pub fn new() -> Self {
        Self::default()
    }

    fn nodes_map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, NodeRecord>> {
        self.nodes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl Storage for MemoryStorage {
    async fn record_node(&self, node: NodeRecord) -> Result<(), StorageError> {
        self.nodes_map().insert(node.name.clone(), node);
        Ok(())
    }

    async fn remove_node(&self, name: &str) -> Result<(), StorageError> {
        self.nodes_map().remove(name);
        Ok(())
    }

    async fn nodes(&self) -> Result<Vec<NodeRecord>, StorageError> {
        Ok(self.nodes_map().values().cloned().collect())
    }
}
