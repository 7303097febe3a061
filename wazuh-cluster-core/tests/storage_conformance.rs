//! The in-memory storage passes the storage conformance suite.

use wazuh_cluster_core::testing::{MemoryStorage, storage_suite};

#[tokio::test]
async fn memory_storage_passes_the_suite() {
    storage_suite::run_all(|| async { MemoryStorage::new() }).await;
}
