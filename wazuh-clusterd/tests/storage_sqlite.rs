//! The SQLite cluster database against the core's storage conformance suite, on a file and in
//! memory, plus what only a file shows (WAL, survival across reopen).

use std::time::{Duration, SystemTime};

use wazuh_cluster_core::testing::storage_suite;
use wazuh_cluster_core::{NodeRecord, NodeType, Storage};
use wazuh_clusterd::storage::SqliteStorage;

#[tokio::test]
async fn in_memory_passes_the_storage_suite() {
    storage_suite::run_all(|| async { SqliteStorage::in_memory().await.expect("in memory") }).await;
}

#[tokio::test]
async fn file_passes_the_storage_suite() {
    let dir = tempfile::tempdir().unwrap();
    let counter = std::sync::atomic::AtomicUsize::new(0);
    let base = dir.path().to_path_buf();
    storage_suite::run_all(|| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path = base.join(format!("db{n}/cluster.db"));
        async move { SqliteStorage::open(&path).await.expect("open file") }
    })
    .await;
}

#[tokio::test]
async fn file_is_in_wal_mode_and_keeps_records_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeRecord {
        name: "worker01".into(),
        node_type: NodeType::Worker,
        version: "4.9.2".into(),
        address: "127.0.0.1".into(),
        connected_since: SystemTime::UNIX_EPOCH + Duration::new(1_727_784_000, 123_456_789),
    };
    let store = SqliteStorage::open_in_home(dir.path()).await.unwrap();
    assert_eq!(store.journal_mode().await.unwrap(), "wal");
    store.record_node(node.clone()).await.unwrap();
    store.close().await;
    assert!(dir.path().join("var/db/cluster.db").is_file());
    let reopened = SqliteStorage::open_in_home(dir.path()).await.unwrap();
    assert_eq!(reopened.nodes().await.unwrap(), vec![node]);
    reopened.close().await;
}
