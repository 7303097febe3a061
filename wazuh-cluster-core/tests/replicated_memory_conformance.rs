//! The in-memory Raft log store and state machine pass openraft's storage conformance suite.

use openraft::StorageError;
use openraft::testing::log::{StoreBuilder, Suite};
use wazuh_cluster_core::replicated::RegistryRaftConfig;
use wazuh_cluster_core::replicated::memory::{MemoryLogStore, MemoryStateMachine};

struct Builder;

impl StoreBuilder<RegistryRaftConfig, MemoryLogStore, MemoryStateMachine> for Builder {
    async fn build(
        &self,
    ) -> Result<((), MemoryLogStore, MemoryStateMachine), StorageError<RegistryRaftConfig>> {
        Ok(((), MemoryLogStore::new(), MemoryStateMachine::new()))
    }
}

#[tokio::test]
async fn memory_store_passes_openraft_suite() {
    Suite::test_all(Builder)
        .await
        .unwrap_or_else(|e| panic!("openraft storage suite failed: {e}"));
}
