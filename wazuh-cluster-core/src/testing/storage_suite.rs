//! The conformance suite of [`Storage`]: every backend (in-memory, the daemon's SQLite) runs
//! [`run_all`] and is held to the same contract. Each check gets a fresh, empty store from the
//! builder and panics with the check's name on a violation.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::node::NodeType;
use crate::storage::{NodeRecord, Storage};

fn record(name: &str, version: &str) -> NodeRecord {
    NodeRecord {
        name: name.to_owned(),
        node_type: NodeType::Worker,
        version: version.to_owned(),
        address: "10.0.0.2".to_owned(),
        connected_since: SystemTime::UNIX_EPOCH + Duration::from_secs(1_727_784_000),
    }
}

/// Runs every check, each on a store `build` makes fresh.
pub async fn run_all<S, F, Fut>(build: F)
where
    S: Storage,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    recorded_node_is_listed(build().await).await;
    record_replaces_the_same_name(build().await).await;
    removed_node_is_not_listed(build().await).await;
    removing_an_unknown_node_is_ok(build().await).await;
    nodes_are_ordered_by_name(build().await).await;
    concurrent_records_are_all_kept(Arc::new(build().await)).await;
}

/// A recorded node is listed with every field intact.
pub async fn recorded_node_is_listed(store: impl Storage) {
    let node = record("worker01", "4.9.2");
    store.record_node(node.clone()).await.expect("record_node");
    assert_eq!(
        store.nodes().await.expect("nodes"),
        vec![node],
        "storage suite: recorded_node_is_listed"
    );
}

/// Recording a name again replaces its record.
pub async fn record_replaces_the_same_name(store: impl Storage) {
    store
        .record_node(record("w", "4.9.1"))
        .await
        .expect("record_node");
    store
        .record_node(record("w", "4.9.2"))
        .await
        .expect("record_node");
    assert_eq!(
        store.nodes().await.expect("nodes"),
        vec![record("w", "4.9.2")],
        "storage suite: record_replaces_the_same_name"
    );
}

/// A removed node is no longer listed; the others stay.
pub async fn removed_node_is_not_listed(store: impl Storage) {
    store
        .record_node(record("a", "4.9.2"))
        .await
        .expect("record_node");
    store
        .record_node(record("b", "4.9.2"))
        .await
        .expect("record_node");
    store.remove_node("a").await.expect("remove_node");
    assert_eq!(
        store.nodes().await.expect("nodes"),
        vec![record("b", "4.9.2")],
        "storage suite: removed_node_is_not_listed"
    );
}

/// Removing a name never recorded succeeds and changes nothing.
pub async fn removing_an_unknown_node_is_ok(store: impl Storage) {
    store
        .record_node(record("a", "4.9.2"))
        .await
        .expect("record_node");
    store
        .remove_node("nobody")
        .await
        .expect("storage suite: removing_an_unknown_node_is_ok");
    assert_eq!(store.nodes().await.expect("nodes").len(), 1);
}

/// Nodes are listed ordered by name, whatever the order they were recorded in.
pub async fn nodes_are_ordered_by_name(store: impl Storage) {
    for name in ["w3", "w1", "w2"] {
        store
            .record_node(record(name, "4.9.2"))
            .await
            .expect("record_node");
    }
    let names: Vec<String> = store
        .nodes()
        .await
        .expect("nodes")
        .into_iter()
        .map(|n| n.name)
        .collect();
    assert_eq!(
        names,
        ["w1", "w2", "w3"],
        "storage suite: nodes_are_ordered_by_name"
    );
}

/// Records written by concurrent tasks are all kept.
pub async fn concurrent_records_are_all_kept<S: Storage>(store: Arc<S>) {
    let writes = (0..16).map(|i| {
        let store = store.clone();
        async move {
            store
                .record_node(record(&format!("w{i:02}"), "4.9.2"))
                .await
        }
    });
    for result in futures_util::future::join_all(writes).await {
        result.expect("record_node");
    }
    assert_eq!(
        store.nodes().await.expect("nodes").len(),
        16,
        "storage suite: concurrent_records_are_all_kept"
    );
}
