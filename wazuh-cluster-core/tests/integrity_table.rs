//! The incremental metadata table on the in-memory source.

use wazuh_cluster_core::files::ClusterItems;
use wazuh_cluster_core::files::ModTime;
use wazuh_cluster_core::files::conformance::Fixture;
use wazuh_cluster_core::files::memory::MemoryFileSource;
use wazuh_cluster_core::integrity::table::{MetadataTable, RefreshMode};
use wazuh_cluster_proto::payload::Blake2bHex;

fn source_with(files: &[(&str, &[u8])]) -> MemoryFileSource {
    let source = MemoryFileSource::new(ClusterItems::wazuh_default());
    for (p, c) in files {
        source.plant(p, c);
    }
    source
}

#[tokio::test]
async fn first_refresh_hashes_everything_then_nothing_when_unchanged() {
    let source = source_with(&[
        ("etc/client.keys", b"k"),
        ("etc/shared/default/agent.conf", b"a"),
        ("etc/ossec.conf", b"not synced"),
    ]);
    let mut table = MetadataTable::new();
    let first = table
        .refresh(&source, RefreshMode::Incremental)
        .await
        .unwrap();
    assert_eq!((first.files, first.hashed, first.removed), (2, 2, 0));
    assert_eq!(
        table.get("etc/client.keys").unwrap().hash,
        Blake2bHex::of(b"k")
    );
    assert_eq!(
        table
            .get("etc/shared/default/agent.conf")
            .unwrap()
            .path
            .item_key(),
        "etc/shared/"
    );
    let hashes_before = source.hash_count();
    let warm = table
        .refresh(&source, RefreshMode::Incremental)
        .await
        .unwrap();
    assert_eq!((warm.files, warm.hashed, warm.removed), (2, 0, 0));
    assert_eq!(
        source.hash_count(),
        hashes_before,
        "an unchanged tree is not read"
    );
    assert_eq!(source.read_count(), 0);
}

#[tokio::test]
async fn only_changed_files_are_rehashed_and_removed_files_leave() {
    let source = source_with(&[
        ("etc/rules/a.xml", b"a"),
        ("etc/rules/b.xml", b"b"),
        ("etc/rules/c.xml", b"c"),
    ]);
    let mut table = MetadataTable::new();
    table
        .refresh(&source, RefreshMode::Incremental)
        .await
        .unwrap();
    source.plant("etc/rules/a.xml", b"a2");
    source.unplant("etc/rules/c.xml");
    source.plant("etc/rules/d.xml", b"d");
    let report = table
        .refresh(&source, RefreshMode::Incremental)
        .await
        .unwrap();
    assert_eq!((report.files, report.hashed, report.removed), (3, 2, 1));
    assert_eq!(
        table.get("etc/rules/a.xml").unwrap().hash,
        Blake2bHex::of(b"a2")
    );
    assert!(table.get("etc/rules/c.xml").is_none());
    let paths: Vec<&str> = table.entries().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        ["etc/rules/a.xml", "etc/rules/b.xml", "etc/rules/d.xml"]
    );
}

#[tokio::test]
async fn a_change_keeping_size_and_mtime_needs_a_full_refresh() {
    let source = source_with(&[("etc/lists/l", b"one")]);
    let at = ModTime::from_unix(1_650_000_000, 5);
    source.set_mtime("etc/lists/l", at);
    let mut table = MetadataTable::new();
    table
        .refresh(&source, RefreshMode::Incremental)
        .await
        .unwrap();
    source.plant("etc/lists/l", b"two");
    source.set_mtime("etc/lists/l", at);
    let incremental = table
        .refresh(&source, RefreshMode::Incremental)
        .await
        .unwrap();
    assert_eq!(incremental.hashed, 0);
    assert_eq!(
        table.get("etc/lists/l").unwrap().hash,
        Blake2bHex::of(b"one"),
        "stat unchanged: trusted"
    );
    let full = table.refresh(&source, RefreshMode::Full).await.unwrap();
    assert_eq!(full.hashed, 1);
    assert_eq!(
        table.get("etc/lists/l").unwrap().hash,
        Blake2bHex::of(b"two")
    );
}

#[tokio::test]
async fn a_file_that_cannot_be_hashed_keeps_its_previous_entry() {
    let source = source_with(&[("etc/shared/g/a", b"a")]);
    let mut table = MetadataTable::new();
    table
        .refresh(&source, RefreshMode::Incremental)
        .await
        .unwrap();
    source.plant("etc/shared/g/a", b"changed");
    source.plant("etc/shared/g/new", b"new");
    source.fail_reads_of("etc/shared/g/a");
    source.fail_reads_of("etc/shared/g/new");
    let report = table
        .refresh(&source, RefreshMode::Incremental)
        .await
        .unwrap();
    let unreadable: Vec<&str> = report.unreadable.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(unreadable, ["etc/shared/g/a", "etc/shared/g/new"]);
    assert_eq!(
        table.get("etc/shared/g/a").unwrap().hash,
        Blake2bHex::of(b"a"),
        "previous entry kept"
    );
    assert!(
        table.get("etc/shared/g/new").is_none(),
        "a new unreadable file stays out"
    );
    assert_eq!(report.files, 1);
}

#[tokio::test]
async fn the_generation_moves_only_when_an_entry_changes() {
    let source = source_with(&[("etc/lists/l", b"one"), ("etc/lists/m", b"m")]);
    let mut table = MetadataTable::new();
    let empty = table.generation();
    table
        .refresh(&source, RefreshMode::Incremental)
        .await
        .unwrap();
    let first = table.generation();
    assert_ne!(first, empty, "files were added");
    table
        .refresh(&source, RefreshMode::Incremental)
        .await
        .unwrap();
    table.refresh(&source, RefreshMode::Full).await.unwrap();
    assert_eq!(
        table.generation(),
        first,
        "a full rehash of the same content"
    );
    source.set_mtime("etc/lists/l", ModTime::from_unix(1_650_000_000, 5));
    table
        .refresh(&source, RefreshMode::Incremental)
        .await
        .unwrap();
    let touched = table.generation();
    assert_ne!(touched, first, "an mtime is part of the metadata sent");
    source.unplant("etc/lists/m");
    table
        .refresh(&source, RefreshMode::Incremental)
        .await
        .unwrap();
    assert_ne!(table.generation(), touched, "a file was removed");
}

#[tokio::test]
async fn the_table_serializes_as_its_wire_copy_does() {
    use wazuh_cluster_core::integrity::TableEntriesJson;
    use wazuh_cluster_proto::payload::TableJson;
    let source = source_with(&[
        ("etc/client.keys", b"k"),
        ("etc/shared/default/agent.conf", b"a"),
        ("etc/shared/web/merged.mg", b"#web"),
        ("var/multigroups/abc/merged.mg", b"#m"),
        ("etc/lists/audit-keys", b"l"),
    ]);
    source.set_mtime(
        "etc/client.keys",
        ModTime::from_unix(1_650_000_000, 123_456_789),
    );
    let mut table = MetadataTable::new();
    table
        .refresh(&source, RefreshMode::Incremental)
        .await
        .unwrap();
    let direct = serde_json::to_vec(&TableEntriesJson(&table)).unwrap();
    let copied = serde_json::to_vec(&TableJson(&table.to_file_table())).unwrap();
    assert_eq!(
        String::from_utf8(direct).unwrap(),
        String::from_utf8(copied).unwrap()
    );
}

#[tokio::test]
async fn a_listing_in_any_order_and_with_repeats_makes_the_same_table() {
    use wazuh_cluster_core::files::FileSource;
    let source = source_with(&[
        ("etc/client.keys", b"k"),
        ("etc/shared/default/agent.conf", b"a"),
        ("etc/shared/g1/agent.conf", b"g"),
        ("etc/rules/a.xml", b"r"),
    ]);
    let mut ordered = MetadataTable::new();
    ordered
        .refresh(&source, RefreshMode::Incremental)
        .await
        .unwrap();
    let shuffled = || async {
        let mut listed = source.list().await.unwrap();
        listed.reverse();
        listed.push(listed[1].clone());
        listed
    };
    let mut table = MetadataTable::new();
    let first = table
        .refresh_listed(&source, shuffled().await, RefreshMode::Incremental)
        .await;
    assert_eq!((first.files, first.hashed, first.removed), (4, 4, 0));
    assert!(table.entries().eq(ordered.entries()));
    // Updated where it is: the unchanged files are not hashed again, the new one is added
    // and the removed one leaves.
    source.plant("etc/shared/g2/agent.conf", b"new");
    source.unplant("etc/rules/a.xml");
    let generation = table.generation();
    let next = table
        .refresh_listed(&source, shuffled().await, RefreshMode::Incremental)
        .await;
    assert_eq!(
        (next.files, next.hashed, next.removed, next.changed),
        (4, 1, 1, 1)
    );
    assert!(table.get("etc/rules/a.xml").is_none());
    assert_eq!(
        table.get("etc/shared/g2/agent.conf").unwrap().hash,
        Blake2bHex::of(b"new")
    );
    assert_eq!(table.generation(), generation + 1);
}
