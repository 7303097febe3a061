//! The in-memory sync-state table passes the sync-state conformance suite.

use wazuh_cluster_core::testing::{MemorySyncStates, sync_state_suite};

#[tokio::test]
async fn memory_sync_states_pass_the_suite() {
    sync_state_suite::run_all(|| async { MemorySyncStates::new() }).await;
}
