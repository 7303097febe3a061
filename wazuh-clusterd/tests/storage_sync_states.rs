//! The SQLite file sync states against the core's sync-state conformance suite, in memory and
//! on a file, plus survival across a reopen.

use std::time::{Duration, SystemTime};

use wazuh_cluster_core::testing::sync_state_suite;
use wazuh_cluster_core::{FileSyncState, SyncStateQuery, SyncStateRecord, SyncStateStore};
use wazuh_clusterd::storage::SqliteStorage;

#[tokio::test]
async fn in_memory_passes_the_sync_state_suite() {
    sync_state_suite::run_all(|| async { SqliteStorage::in_memory().await.expect("in memory") })
        .await;
}

#[tokio::test]
async fn file_passes_the_sync_state_suite() {
    let dir = tempfile::tempdir().unwrap();
    let counter = std::sync::atomic::AtomicUsize::new(0);
    let base = dir.path().to_path_buf();
    sync_state_suite::run_all(|| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path = base.join(format!("db{n}/cluster.db"));
        async move { SqliteStorage::open(&path).await.expect("open file") }
    })
    .await;
}

#[tokio::test]
async fn states_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let record = SyncStateRecord {
        node: "worker01".into(),
        file: "etc/client.keys".into(),
        state: FileSyncState::Synchronized,
        changed: SystemTime::UNIX_EPOCH + Duration::new(1_727_784_000, 5),
    };
    let store = SqliteStorage::open_in_home(dir.path()).await.unwrap();
    store
        .set_states(std::slice::from_ref(&record))
        .await
        .unwrap();
    store.close().await;
    let reopened = SqliteStorage::open_in_home(dir.path()).await.unwrap();
    assert_eq!(
        reopened.states(&SyncStateQuery::all()).await.unwrap(),
        vec![record]
    );
    reopened.close().await;
}
