//! The conformance suite of [`SyncStateStore`]: the in-memory table and the daemon's SQLite one
//! run [`run_all`]. Each check gets a fresh, empty store and panics with its name on a
//! violation.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::sync_state::{FileSyncState, SyncStateQuery, SyncStateRecord, SyncStateStore};

fn record(node: &str, file: &str, state: FileSyncState, nanos: u64) -> SyncStateRecord {
    SyncStateRecord {
        node: node.to_owned(),
        file: file.to_owned(),
        state,
        changed: SystemTime::UNIX_EPOCH + Duration::from_nanos(1_727_784_000_000_000_000 + nanos),
    }
}

/// Runs every check, each on a store `build` makes fresh.
pub async fn run_all<S, F, Fut>(build: F)
where
    S: SyncStateStore,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    written_records_are_read_back_exactly(build().await).await;
    a_record_replaces_the_same_node_and_file(build().await).await;
    queries_filter_by_node_and_file_in_order(build().await).await;
    forget_node_removes_only_that_node(build().await).await;
    concurrent_batches_are_all_kept(Arc::new(build().await)).await;
}

/// Every state and the nanoseconds of `changed` survive a write and a read.
pub async fn written_records_are_read_back_exactly(store: impl SyncStateStore) {
    let written = vec![
        record("w1", "etc/client.keys", FileSyncState::Pending, 1),
        record(
            "w1",
            "etc/rules/a.xml",
            FileSyncState::Synchronized,
            123_456_789,
        ),
        record("w1", "etc/shared/g/agent.conf", FileSyncState::Failed, 7),
        record(
            "w1",
            "etc/shared/old/agent.conf",
            FileSyncState::Deleted,
            999_999_999,
        ),
    ];
    store.set_states(&written).await.expect("set_states");
    assert_eq!(
        store.states(&SyncStateQuery::all()).await.expect("states"),
        written,
        "sync state suite: written_records_are_read_back_exactly"
    );
}

/// A later record of the same node and file replaces the earlier one.
pub async fn a_record_replaces_the_same_node_and_file(store: impl SyncStateStore) {
    let first = record("w1", "etc/client.keys", FileSyncState::Pending, 1);
    let second = record("w1", "etc/client.keys", FileSyncState::Synchronized, 2);
    store.set_states(&[first]).await.expect("set_states");
    store
        .set_states(std::slice::from_ref(&second))
        .await
        .expect("set_states");
    assert_eq!(
        store.states(&SyncStateQuery::all()).await.expect("states"),
        vec![second],
        "sync state suite: a_record_replaces_the_same_node_and_file"
    );
}

/// Queries by node, by file and by both return the matching records ordered by node then file.
pub async fn queries_filter_by_node_and_file_in_order(store: impl SyncStateStore) {
    let records = [
        record("w2", "etc/rules/b.xml", FileSyncState::Pending, 1),
        record("w1", "etc/rules/b.xml", FileSyncState::Synchronized, 2),
        record("w1", "etc/client.keys", FileSyncState::Failed, 3),
        record("w2", "etc/client.keys", FileSyncState::Synchronized, 4),
    ];
    store.set_states(&records).await.expect("set_states");
    let keys = |rows: Vec<SyncStateRecord>| {
        rows.into_iter()
            .map(|r| format!("{}:{}", r.node, r.file))
            .collect::<Vec<_>>()
    };
    let all = store.states(&SyncStateQuery::all()).await.expect("states");
    assert_eq!(
        keys(all),
        [
            "w1:etc/client.keys",
            "w1:etc/rules/b.xml",
            "w2:etc/client.keys",
            "w2:etc/rules/b.xml"
        ],
        "sync state suite: queries_filter_by_node_and_file_in_order (all)"
    );
    let w2 = store
        .states(&SyncStateQuery::node("w2"))
        .await
        .expect("states");
    assert_eq!(
        keys(w2),
        ["w2:etc/client.keys", "w2:etc/rules/b.xml"],
        "sync state suite: queries_filter_by_node_and_file_in_order (node)"
    );
    let keys_file = store
        .states(&SyncStateQuery::file("etc/client.keys"))
        .await
        .expect("states");
    assert_eq!(
        keys_file,
        vec![records[2].clone(), records[3].clone()],
        "sync state suite: queries_filter_by_node_and_file_in_order (file)"
    );
    let both = SyncStateQuery {
        node: Some("w1".into()),
        file: Some("etc/rules/b.xml".into()),
    };
    assert_eq!(
        store.states(&both).await.expect("states"),
        vec![records[1].clone()],
        "sync state suite: queries_filter_by_node_and_file_in_order (both)"
    );
    let none = store
        .states(&SyncStateQuery::node("w9"))
        .await
        .expect("states");
    assert!(
        none.is_empty(),
        "sync state suite: queries_filter_by_node_and_file_in_order (unknown node)"
    );
}

/// Forgetting a node removes its records and keeps the others; an unknown node is fine.
pub async fn forget_node_removes_only_that_node(store: impl SyncStateStore) {
    let keep = record("w2", "etc/client.keys", FileSyncState::Pending, 1);
    store
        .set_states(&[
            record("w1", "etc/client.keys", FileSyncState::Pending, 1),
            keep.clone(),
        ])
        .await
        .expect("set_states");
    store.forget_node("w1").await.expect("forget_node");
    store
        .forget_node("nobody")
        .await
        .expect("sync state suite: forget_node of an unknown node");
    assert_eq!(
        store.states(&SyncStateQuery::all()).await.expect("states"),
        vec![keep],
        "sync state suite: forget_node_removes_only_that_node"
    );
}

/// Batches written by concurrent tasks are all kept.
pub async fn concurrent_batches_are_all_kept<S: SyncStateStore>(store: Arc<S>) {
    let writes = (0..8).map(|i| {
        let store = store.clone();
        async move {
            let batch: Vec<SyncStateRecord> = (0..10)
                .map(|f| {
                    record(
                        &format!("w{i}"),
                        &format!("etc/shared/g/{f}"),
                        FileSyncState::Pending,
                        f,
                    )
                })
                .collect();
            store.set_states(&batch).await
        }
    });
    for result in futures_util::future::join_all(writes).await {
        result.expect("set_states");
    }
    assert_eq!(
        store
            .states(&SyncStateQuery::all())
            .await
            .expect("states")
            .len(),
        80,
        "sync state suite: concurrent_batches_are_all_kept"
    );
}
