//! Comparison, the master's sync container and the worker's apply, on in-memory sources.

use std::sync::Arc;

use serde_json::json;
use wazuh_cluster_core::files::FileSource;
use wazuh_cluster_core::files::conformance::Fixture;
use wazuh_cluster_core::files::memory::{MemoryFileSource, OUTSIDE_VICTIM};
use wazuh_cluster_core::files::{ClusterItem, ClusterItems, Exclusions, FileSelection};
use wazuh_cluster_core::integrity::{
    BodyCache, CompareError, ComparisonCounts, ContainerPlan, Deferral, MetadataTable,
    ReceivedContainer, RefreshMode, TableEntry, apply_received, apply_sync, build_sync_container,
    compare, stream_sync_container,
};
use wazuh_cluster_core::transfer::{MemorySpool, ReceivedFile, Spool};
use wazuh_cluster_proto::payload::{
    Blake2bHex, ContainerFile, ContainerLimits, DecodedContainer, FileMetadata, FileTable,
    SkipReason, SyncPlanPaths, decode_container, sha256,
};

/// `bytes` as the worker holds a received container: in a spool file, indexed, its plan parsed.
fn received(bytes: &[u8]) -> (SyncPlanPaths, ReceivedContainer) {
    let mut file = MemorySpool.create("queue/cluster/w1/sync.zip").unwrap();
    for piece in bytes.chunks(1000) {
        file.append(piece).unwrap();
    }
    let file = ReceivedFile::new("queue/cluster/w1/sync.zip", file, sha256(bytes));
    let mut container = ReceivedContainer::open(file, &ContainerLimits::default()).unwrap();
    let plan: SyncPlanPaths = container.metadata().unwrap();
    plan.check_paths().unwrap();
    (plan, container)
}

fn meta(key: &str, content: &[u8]) -> FileMetadata {
    FileMetadata {
        mod_time: 1.0,
        cluster_item_key: key.into(),
        merged: false,
        merge_type: None,
        merge_name: None,
        hash: Blake2bHex::of(content),
    }
}

fn source(files: &[(&str, &[u8])]) -> MemoryFileSource {
    let source = MemoryFileSource::new(ClusterItems::wazuh_default());
    for (p, c) in files {
        source.plant(p, c);
    }
    source
}

/// The table a node keeps of `source` (the master compares against it where it is).
async fn refreshed(source: &MemoryFileSource) -> MetadataTable {
    let mut table = MetadataTable::new();
    table
        .refresh(source, RefreshMode::Incremental)
        .await
        .unwrap();
    table
}

/// `source`'s table as a worker sends it.
async fn table_of(source: &MemoryFileSource) -> FileTable {
    refreshed(source).await.to_file_table()
}

#[test]
fn compare_splits_like_wazuh_with_the_right_metadata() {
    let items = ClusterItems::wazuh_default();
    let master = FileTable::from([
        ("etc/client.keys".into(), meta("etc/", b"keys v2")),
        (
            "etc/shared/a/agent.conf".into(),
            meta("etc/shared/", b"same"),
        ),
        (
            "etc/shared/new/agent.conf".into(),
            meta("etc/shared/", b"new"),
        ),
    ]);
    let mut worker_keys = meta("etc/", b"keys v1");
    worker_keys.mod_time = 99.0;
    let worker = FileTable::from([
        ("etc/client.keys".into(), worker_keys),
        (
            "etc/shared/a/agent.conf".into(),
            meta("etc/shared/", b"same"),
        ),
        (
            "etc/shared/old/agent.conf".into(),
            meta("etc/shared/", b"old"),
        ),
    ]);
    let plan = compare(&master, &worker, &items).unwrap();
    let counts = ComparisonCounts::of(&plan);
    let plan = plan.to_sync_plan();
    assert_eq!(
        plan.missing.keys().collect::<Vec<_>>(),
        ["etc/shared/new/agent.conf"]
    );
    assert_eq!(plan.shared.keys().collect::<Vec<_>>(), ["etc/client.keys"]);
    assert_eq!(
        plan.shared["etc/client.keys"], master["etc/client.keys"],
        "shared carries the master's metadata"
    );
    assert_eq!(
        plan.extra.keys().collect::<Vec<_>>(),
        ["etc/shared/old/agent.conf"]
    );
    assert_eq!(
        plan.extra["etc/shared/old/agent.conf"],
        worker["etc/shared/old/agent.conf"]
    );
    assert_eq!(
        counts,
        ComparisonCounts {
            missing: 1,
            shared: 1,
            extra: 1
        }
    );
    assert!(ComparisonCounts::of(&compare(&master, &master, &items).unwrap()).is_empty());
}

#[test]
fn compare_refuses_unknown_items_and_drops_extra_valid() {
    let items = ClusterItems::wazuh_default();
    let worker = FileTable::from([("queue/x".into(), meta("queue/", b"x"))]);
    assert_eq!(
        compare(&FileTable::new(), &worker, &items),
        Err(CompareError::UnknownItem {
            path: "queue/x".into(),
            item_key: "queue/".into()
        })
    );
    let valid = ClusterItems::new(
        vec![ClusterItem {
            key: "etc/lists/".into(),
            files: FileSelection::All,
            recursive: true,
            permissions: 0o660,
            remove_subdirs_if_empty: false,
            extra_valid: true,
        }],
        Exclusions::wazuh_default(),
    )
    .unwrap();
    let worker = FileTable::from([("etc/lists/mine".into(), meta("etc/lists/", b"x"))]);
    assert!(
        compare(&FileTable::new(), &worker, &valid)
            .unwrap()
            .extra
            .is_empty()
    );
}

#[tokio::test]
async fn a_full_round_makes_the_worker_equal_to_the_master() {
    let master = source(&[
        ("etc/client.keys", b"001 a any k\n"),
        ("etc/shared/default/agent.conf", b"<agent_config/>"),
        ("etc/shared/g1/agent.conf", b"g1"),
        ("var/multigroups/x/merged.mg", b"mg"),
        ("etc/rules/local_rules.xml", b"rules v2"),
    ]);
    let worker = source(&[
        ("etc/rules/local_rules.xml", b"rules v1"),
        ("etc/shared/gone/agent.conf", b"old group"),
        ("etc/shared/gone/ar.conf", b"excluded"),
        ("etc/ossec.conf", b"worker's own"),
    ]);
    let plan = compare(
        &refreshed(&master).await,
        &table_of(&worker).await,
        master.items(),
    )
    .unwrap();
    assert_eq!(
        ComparisonCounts::of(&plan),
        ComparisonCounts {
            missing: 4,
            shared: 1,
            extra: 1
        }
    );
    let built = build_sync_container(&master, &plan, 1 << 30).await.unwrap();
    assert!(!built.is_partial());
    assert_eq!(built.plan, plan);
    let decoded = decode_container(&built.bytes, &ContainerLimits::default()).unwrap();
    let report = apply_sync(&worker, decoded).await.unwrap();
    assert_eq!(
        (
            report.created,
            report.overwritten,
            report.removed,
            report.pruned_dirs
        ),
        (4, 1, 1, 1)
    );
    assert_eq!(report.errors.total(), 0);
    assert_eq!(
        table_of(&worker).await.keys().collect::<Vec<_>>(),
        table_of(&master).await.keys().collect::<Vec<_>>()
    );
    let (m, w) = (table_of(&master).await, table_of(&worker).await);
    assert!(m.iter().all(|(p, meta)| w[p].hash == meta.hash));
    assert_eq!(worker.mode("etc/client.keys"), Some(0o640));
    assert_eq!(worker.mode("etc/shared/g1/agent.conf"), Some(0o660));
    assert!(
        !worker.dir_exists("etc/shared/gone"),
        "the emptied group folder is pruned"
    );
    assert_eq!(
        worker.contents("etc/ossec.conf").as_deref(),
        Some(&b"worker's own"[..])
    );
    assert_eq!(worker.sync_count(), 1, "made durable once");
    assert_eq!(worker.unsynced_writes(), 0, "nothing left undurable");
}

#[tokio::test]
async fn a_large_apply_writes_in_batches_and_is_made_durable_once() {
    let files: Vec<(String, Vec<u8>)> = (0..2500)
        .map(|i| {
            let path = format!("etc/shared/g{}/f{i}.conf", i / 100);
            let content = format!("content {i}").into_bytes();
            (path, content)
        })
        .collect();
    let planted: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_slice()))
        .collect();
    let master = source(&planted);
    let worker = source(&[]);
    let plan = compare(
        &refreshed(&master).await,
        &table_of(&worker).await,
        master.items(),
    )
    .unwrap();
    let built = build_sync_container(&master, &plan, 1 << 30).await.unwrap();
    let (plan, container) = received(&built.bytes);
    let mut recorded = MetadataTable::new();
    let report = apply_received(&worker, plan, container, |applied| {
        recorded.record_applied(applied)
    })
    .await
    .unwrap();
    assert_eq!((report.created, report.errors.total()), (2500, 0));
    assert_eq!(worker.snapshot(), master.snapshot());
    assert_eq!(
        recorded.to_file_table(),
        table_of(&worker).await,
        "what the apply recorded is what a listing finds"
    );
    assert_eq!(
        worker.sync_count(),
        1,
        "one durable point for the whole apply"
    );
    assert_eq!(worker.unsynced_writes(), 0);
}

#[tokio::test]
async fn a_received_container_fails_a_corrupt_body_alone() {
    let m = |c: &[u8]| serde_json::to_value(meta("etc/shared/", c)).unwrap();
    let metadata = json!({
        "missing": {"etc/shared/a/agent.conf": m(b"a"), "etc/shared/b/agent.conf": m(b"b")},
        "shared": {},
        "extra": {},
    });
    let mut bytes = b"etc/shared/a/agent.conf|//@@//|not zlib|@@//@@|".to_vec();
    let mut encoder = wazuh_cluster_proto::payload::ContainerEncoder::new(1 << 20);
    encoder.add_file("etc/shared/b/agent.conf", b"b").unwrap();
    bytes.extend(encoder.finish(&metadata).unwrap().bytes);
    let worker = source(&[]);
    let (plan, container) = received(&bytes);
    let mut written = Vec::new();
    let report = apply_received(&worker, plan, container, |applied| {
        written.extend(
            applied
                .written
                .into_iter()
                .map(|(p, _)| p.as_str().to_owned()),
        );
    })
    .await
    .unwrap();
    assert_eq!((report.created, report.errors.creating), (1, 1));
    assert_eq!(
        written,
        ["etc/shared/b/agent.conf"],
        "only the written file"
    );
    assert_eq!(worker.contents("etc/shared/a/agent.conf"), None);
    assert_eq!(
        worker.contents("etc/shared/b/agent.conf").as_deref(),
        Some(&b"b"[..])
    );
    assert_eq!(worker.sync_count(), 1);
}

#[tokio::test]
async fn files_over_the_limit_wait_for_the_next_round_and_are_never_deleted() {
    let mut state = 0x9e37_79b9u32;
    let big: Vec<u8> = (0..40_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect();
    // Files are packed in path order: `0/huge` (too large alone), then `a` (the worker's
    // older copy), then `b`, which no longer fits.
    let master = source(&[
        ("etc/shared/b/agent.conf", &big[..20_000]),
        ("etc/shared/a/agent.conf", &big[20_000..]),
        ("etc/shared/0/huge", &big),
    ]);
    let worker = source(&[
        ("etc/shared/a/agent.conf", b"worker's older copy"),
        ("etc/shared/z/extra", b"z"),
    ]);
    let plan = compare(
        &refreshed(&master).await,
        &table_of(&worker).await,
        master.items(),
    )
    .unwrap();
    let built = build_sync_container(&master, &plan, 30_000).await.unwrap();
    assert!(built.is_partial());
    let deferred: Vec<(&str, &Deferral)> = built
        .deferred
        .iter()
        .map(|d| (d.path.as_str(), &d.reason))
        .collect();
    assert_eq!(deferred.len(), 2, "{deferred:?}");
    assert!(deferred.contains(&(
        "etc/shared/0/huge",
        &Deferral::Skipped(SkipReason::TooLarge {
            size: 40_000,
            limit: 30_000
        })
    )));
    assert!(deferred.contains(&(
        "etc/shared/b/agent.conf",
        &Deferral::Skipped(SkipReason::LimitReached)
    )));
    assert_eq!(
        built.plan.to_sync_plan().shared.keys().collect::<Vec<_>>(),
        ["etc/shared/a/agent.conf"]
    );
    assert!(built.plan.missing.is_empty());
    assert_eq!(
        built.plan.to_sync_plan().extra.keys().collect::<Vec<_>>(),
        ["etc/shared/z/extra"]
    );
    assert_eq!(
        master.read_count(),
        2,
        "after the limit is reached nothing more is read"
    );
    let decoded = decode_container(&built.bytes, &ContainerLimits::default()).unwrap();
    let report = apply_sync(&worker, decoded).await.unwrap();
    assert_eq!(
        (report.overwritten, report.created, report.removed),
        (1, 0, 1)
    );
    assert_eq!(
        worker.contents("etc/shared/a/agent.conf").as_deref(),
        Some(&big[20_000..])
    );
    let second = compare(
        &refreshed(&master).await,
        &table_of(&worker).await,
        master.items(),
    )
    .unwrap();
    assert_eq!(
        second.to_sync_plan().missing.keys().collect::<Vec<_>>(),
        ["etc/shared/0/huge", "etc/shared/b/agent.conf"]
    );
    assert!(second.shared.is_empty() && second.extra.is_empty());
}

#[tokio::test]
async fn an_unreadable_master_file_is_deferred_not_listed() {
    let master = source(&[("etc/rules/a.xml", b"a"), ("etc/rules/b.xml", b"b")]);
    let plan = compare(&refreshed(&master).await, &FileTable::new(), master.items()).unwrap();
    master.unplant("etc/rules/a.xml");
    let built = build_sync_container(&master, &plan, 1 << 20).await.unwrap();
    assert_eq!(
        built.plan.to_sync_plan().missing.keys().collect::<Vec<_>>(),
        ["etc/rules/b.xml"]
    );
    assert!(
        matches!(&built.deferred[..], [d] if d.path == "etc/rules/a.xml" && matches!(d.reason, Deferral::Unreadable(_)))
    );
}

/// A container of `plan` streamed with `bodies`: its bytes and how many bodies were cached.
async fn streamed(
    source: &MemoryFileSource,
    bodies: &BodyCache,
    plan: &ContainerPlan<Arc<TableEntry>>,
) -> (Vec<u8>, usize) {
    let mut plan = plan.clone();
    let mut bytes = Vec::new();
    let sent = stream_sync_container(source, bodies, &mut plan, 1 << 20, 100, &mut bytes)
        .await
        .unwrap();
    assert!(!sent.is_partial());
    (bytes, sent.from_cache)
}

#[tokio::test]
async fn bodies_compressed_for_one_worker_serve_the_next_ones() {
    let master = source(&[
        ("etc/shared/a/agent.conf", b"group a"),
        ("etc/shared/b/agent.conf", b"group b"),
    ]);
    let plan = compare(&refreshed(&master).await, &FileTable::new(), master.items()).unwrap();
    let bodies = BodyCache::new(1 << 20);
    let (first, cached) = streamed(&master, &bodies, &plan).await;
    assert_eq!(cached, 0);
    let (second, cached) = streamed(&master, &bodies, &plan).await;
    assert_eq!(cached, 0, "kept from the second container on");
    let (third, cached) = streamed(&master, &bodies, &plan).await;
    assert_eq!(cached, 2);
    assert_eq!(first, second);
    assert_eq!(first, third);
    // A cached body is not read again.
    master.unplant("etc/shared/a/agent.conf");
    let (fourth, cached) = streamed(&master, &bodies, &plan).await;
    assert_eq!((fourth, cached), (first, 2));
    let stats = bodies.stats();
    assert_eq!((stats.hits, stats.misses, stats.bodies), (4, 4, 2));
}

#[tokio::test]
async fn a_file_edited_after_the_comparison_is_not_cached_under_the_old_hash() {
    let master = source(&[("etc/shared/a/agent.conf", b"before")]);
    let plan = compare(&refreshed(&master).await, &FileTable::new(), master.items()).unwrap();
    master.plant("etc/shared/a/agent.conf", b"edited");
    let bodies = BodyCache::new(1 << 20);
    for _ in 0..3 {
        let (bytes, cached) = streamed(&master, &bodies, &plan).await;
        assert_eq!(cached, 0);
        let limits = ContainerLimits::default();
        let decoded = decode_container(&bytes, &limits).unwrap();
        assert_eq!(decoded.files[0].content, b"edited");
    }
    assert_eq!(bodies.stats().bodies, 0);
}

fn container(files: &[(&str, &[u8])], metadata: serde_json::Value) -> DecodedContainer {
    DecodedContainer {
        files: files
            .iter()
            .map(|(p, c)| ContainerFile {
                path: (*p).into(),
                content: c.to_vec(),
            })
            .collect(),
        metadata,
    }
}

#[tokio::test]
async fn paths_outside_the_items_are_refused_and_nothing_outside_changes() {
    let worker = source(&[
        ("etc/ossec.conf", b"mine"),
        ("etc/shared/default/agent.conf", b"a"),
    ]);
    worker.plant_dir_link_outside("etc/shared/evil");
    let m = |content: &[u8]| serde_json::to_value(meta("etc/shared/", content)).unwrap();
    let bad = [
        "etc/ossec.conf",
        "etc/shared/ar.conf",
        "etc/shared/evil/victim",
        "etc/shared/evil/planted",
        "bin/wazuh-control",
    ];
    let mut files: Vec<(&str, &[u8])> = bad.iter().map(|p| (*p, &b"pwned"[..])).collect();
    files.push(("etc/shared/default/new.conf", b"fine"));
    let missing: serde_json::Map<String, serde_json::Value> =
        files.iter().map(|(p, c)| ((*p).to_owned(), m(c))).collect();
    let extra: serde_json::Map<String, serde_json::Value> = [
        "etc/ossec.conf",
        "etc/shared/evil/victim",
        "var/db/global.db",
    ]
    .iter()
    .map(|p| ((*p).to_owned(), m(b"x")))
    .collect();
    let before = worker.snapshot();
    let report = apply_sync(
        &worker,
        container(
            &files,
            json!({"missing": missing, "shared": {}, "extra": extra}),
        ),
    )
    .await
    .unwrap();
    assert_eq!(report.created, 1);
    assert_eq!(
        report.errors.to_string(),
        "Found errors: 0 overwriting, 5 creating and 3 removing"
    );
    assert_eq!(report.failures.len(), 8);
    let mut after = worker.snapshot();
    assert_eq!(
        after.remove("etc/shared/default/new.conf").as_deref(),
        Some(&b"fine"[..])
    );
    assert_eq!(after, before, "nothing else changed");
    assert_eq!(
        worker.outside().get("victim").map(Vec::as_slice),
        Some(OUTSIDE_VICTIM)
    );
    assert_eq!(worker.outside().len(), 1);
}

#[tokio::test]
async fn escaping_names_refuse_the_whole_container() {
    let m = serde_json::to_value(meta("etc/shared/", b"x")).unwrap();
    for bad in [
        "../../etc/passwd",
        "/etc/passwd",
        "etc/shared/../ossec.conf",
        "etc/shared/./a",
        "etc\\shared\\x",
    ] {
        for part in ["missing", "shared", "extra"] {
            let worker = source(&[("etc/shared/default/agent.conf", b"a")]);
            let before = worker.snapshot();
            let mut metadata = json!({"missing": {}, "shared": {}, "extra": {}});
            metadata[part][bad] = m.clone();
            metadata["missing"]["etc/shared/default/new.conf"] = m.clone();
            let files: &[(&str, &[u8])] = &[("etc/shared/default/new.conf", b"x")];
            assert!(
                apply_sync(&worker, container(files, metadata))
                    .await
                    .is_err(),
                "{bad:?} in {part}"
            );
            assert_eq!(
                worker.snapshot(),
                before,
                "nothing written for {bad:?} in {part}"
            );
        }
    }
}

#[tokio::test]
async fn one_failing_file_is_counted_and_the_others_still_apply() {
    let worker = source(&[
        ("etc/shared/a/agent.conf", b"old a"),
        ("etc/shared/b/agent.conf", b"old b"),
    ]);
    worker.fail_writes_to("etc/shared/a/agent.conf");
    let m = |c: &[u8]| serde_json::to_value(meta("etc/shared/", c)).unwrap();
    let metadata = json!({
        "missing": {"etc/shared/c/agent.conf": m(b"c"), "etc/shared/d/agent.conf": m(b"d")},
        "shared": {"etc/shared/a/agent.conf": m(b"new a"), "etc/shared/b/agent.conf": m(b"new b")},
        "extra": {},
    });
    let files: &[(&str, &[u8])] = &[
        ("etc/shared/a/agent.conf", b"new a"),
        ("etc/shared/b/agent.conf", b"new b"),
        ("etc/shared/c/agent.conf", b"c"),
    ];
    let report = apply_sync(&worker, container(files, metadata))
        .await
        .unwrap();
    assert_eq!((report.overwritten, report.created), (1, 1));
    assert_eq!(
        report.errors.to_string(),
        "Found errors: 1 overwriting, 1 creating and 0 removing"
    );
    assert_eq!(
        worker.contents("etc/shared/a/agent.conf").as_deref(),
        Some(&b"old a"[..]),
        "old file intact"
    );
    assert_eq!(
        worker.contents("etc/shared/b/agent.conf").as_deref(),
        Some(&b"new b"[..])
    );
    assert_eq!(
        worker.contents("etc/shared/c/agent.conf").as_deref(),
        Some(&b"c"[..])
    );
    assert_eq!(
        worker.contents("etc/shared/d/agent.conf"),
        None,
        "absent from the container"
    );
}

#[tokio::test]
async fn invalid_metadata_applies_nothing() {
    let worker = source(&[("etc/shared/a/agent.conf", b"a")]);
    let before = worker.snapshot();
    let result = apply_sync(
        &worker,
        container(
            &[("etc/shared/a/agent.conf", b"x")],
            json!({"missing": {}, "shared": 3}),
        ),
    )
    .await;
    assert!(result.is_err());
    assert_eq!(worker.snapshot(), before);
}
