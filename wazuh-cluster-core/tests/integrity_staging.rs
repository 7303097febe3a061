//! The worker's apply of a container staged while it arrives ([`ContainerStager`]), on
//! in-memory sources: the same result as an apply of the whole container, nothing visible
//! before it is complete and valid, nothing staged left behind.

use serde_json::json;
use wazuh_cluster_core::files::conformance::Fixture;
use wazuh_cluster_core::files::memory::MemoryFileSource;
use wazuh_cluster_core::files::{ClusterItems, FileSource};
use wazuh_cluster_core::integrity::{
    ContainerStager, MetadataTable, RefreshMode, build_sync_container, compare,
};
use wazuh_cluster_core::transfer::{MemorySpool, ReceivedFile, Spool};
use wazuh_cluster_proto::payload::{Blake2bHex, ContainerEncoder, ContainerLimits, sha256};

const SPOOLED: &str = "queue/cluster/w1/sync.zip";

fn source(files: &[(String, Vec<u8>)]) -> MemoryFileSource {
    let source = MemoryFileSource::new(ClusterItems::wazuh_default());
    for (path, content) in files {
        source.plant(path, content);
    }
    source
}

async fn table(source: &MemoryFileSource) -> MetadataTable {
    let mut table = MetadataTable::new();
    table
        .refresh(source, RefreshMode::Incremental)
        .await
        .unwrap();
    table
}

/// Receives `bytes` in pieces of `piece` bytes into a spool file, staging on `worker` after each
/// piece as the worker does; returns the stager and the complete file.
async fn receive<'a>(
    worker: &'a MemoryFileSource,
    bytes: &[u8],
    piece: usize,
) -> (ContainerStager<'a, MemoryFileSource>, ReceivedFile) {
    let mut stager = ContainerStager::new(worker, &ContainerLimits::default());
    let mut file = MemorySpool.create(SPOOLED).unwrap();
    for chunk in bytes.chunks(piece) {
        file.append(chunk).unwrap();
        stager.advance(&*file).await.unwrap();
    }
    (stager, ReceivedFile::new(SPOOLED, file, sha256(bytes)))
}

fn meta(content: &[u8]) -> serde_json::Value {
    json!({
        "mod_time": 1.0, "cluster_item_key": "etc/shared/", "merged": false,
        "merge_type": null, "merge_name": null, "hash": Blake2bHex::of(content).to_string(),
    })
}

#[tokio::test]
async fn a_staged_container_applies_as_a_whole_one_and_only_once_complete() {
    let files: Vec<(String, Vec<u8>)> = (0..1500)
        .map(|i| {
            let path = format!("etc/shared/g{}/f{i}.conf", i / 100);
            (path, format!("content {i}").repeat(i % 7 + 1).into_bytes())
        })
        .collect();
    let master = source(&files);
    let worker = source(&[(
        "etc/shared/stale/agent.conf".into(),
        b"to be removed".to_vec(),
    )]);
    let plan = compare(
        &table(&master).await.to_file_table(),
        &table(&worker).await.to_file_table(),
        master.items(),
    )
    .unwrap();
    let built = build_sync_container(&master, &plan, 1 << 30).await.unwrap();
    let (mut stager, file) = receive(&worker, &built.bytes, 1000).await;
    assert_eq!(
        worker.snapshot().len(),
        1,
        "nothing is visible before the container is complete"
    );
    assert!(worker.staged_count() > 0, "files were staged as they came");
    let plan = stager.finish(&file).await.unwrap();
    let mut recorded = MetadataTable::new();
    let report = stager
        .apply(plan, |applied| recorded.record_applied(applied))
        .await
        .unwrap();
    assert_eq!(
        (report.created, report.removed, report.errors.total()),
        (1500, 1, 0)
    );
    assert_eq!(worker.snapshot(), master.snapshot());
    assert_eq!(worker.staged_count(), 0, "every staged file was renamed");
    assert_eq!(
        recorded.to_file_table(),
        table(&worker).await.to_file_table(),
        "what the apply recorded is what a listing finds"
    );
    assert_eq!(worker.sync_count(), 1, "one durable point");
}

#[tokio::test]
async fn a_malformed_container_leaves_nothing_staged_or_changed() {
    let mut encoder = ContainerEncoder::new(1 << 20);
    encoder.add_file("etc/shared/a/agent.conf", b"a1").unwrap();
    encoder.add_file("etc/shared/b/agent.conf", b"b").unwrap();
    let first = encoder.finish(&json!({})).unwrap().bytes;
    // The same path twice: refused once the container is whole.
    let entry_end = first.windows(7).position(|w| w == b"|@@//@@").unwrap() + 8;
    let mut bytes = first[..entry_end].to_vec();
    bytes.extend_from_slice(&first);
    let worker = source(&[("etc/shared/a/agent.conf".into(), b"old".to_vec())]);
    let before = worker.snapshot();
    let (mut stager, file) = receive(&worker, &bytes, 7).await;
    assert!(stager.finish(&file).await.is_err(), "a duplicate path");
    assert_eq!(
        worker.staged_count(),
        3,
        "every file entry was staged before the end showed the duplicate"
    );
    assert_eq!(worker.snapshot(), before, "and none is visible");
    stager.abandon().await;
    assert_eq!(worker.staged_count(), 0);
    assert_eq!(worker.snapshot(), before);
    assert_eq!(worker.sync_count(), 0);
}

#[tokio::test]
async fn a_corrupt_body_fails_alone_and_unlisted_files_are_discarded() {
    let metadata = json!({
        "missing": {
            "etc/shared/a/agent.conf": meta(b"a"),
            "etc/shared/b/agent.conf": meta(b"b"),
        },
        "shared": {},
        "extra": {},
    });
    let mut bytes = b"etc/shared/a/agent.conf|//@@//|not zlib|@@//@@|".to_vec();
    let mut encoder = ContainerEncoder::new(1 << 20);
    encoder.add_file("etc/shared/b/agent.conf", b"b").unwrap();
    encoder
        .add_file("etc/shared/unlisted/agent.conf", b"u")
        .unwrap();
    bytes.extend(encoder.finish(&metadata).unwrap().bytes);
    let worker = source(&[]);
    let (mut stager, file) = receive(&worker, &bytes, 64).await;
    let plan = stager.finish(&file).await.unwrap();
    let report = stager.apply(plan, |_| {}).await.unwrap();
    assert_eq!(
        (report.created, report.errors.creating, report.unlisted),
        (1, 1, 1)
    );
    assert_eq!(worker.contents("etc/shared/a/agent.conf"), None);
    assert_eq!(worker.contents("etc/shared/unlisted/agent.conf"), None);
    assert_eq!(
        worker.contents("etc/shared/b/agent.conf").as_deref(),
        Some(&b"b"[..])
    );
    assert_eq!(worker.staged_count(), 0, "the unlisted file was discarded");
}
