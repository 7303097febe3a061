//! The worker's apply and the incremental table on the real filesystem.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use serde_json::json;
use wazuh_cluster_core::files::{ClusterItems, FileSource};
use wazuh_cluster_core::integrity::{
    MetadataTable, RefreshMode, apply_sync, build_sync_container, compare,
};
use wazuh_cluster_proto::payload::{
    Blake2bHex, ContainerFile, ContainerLimits, DecodedContainer, FileMetadata, decode_container,
};
use wazuh_clusterd::fs::DiskFileSource;

fn plant(home: &Path, relpath: &str, contents: &[u8]) {
    let path = home.join(relpath);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
}

fn meta(content: &[u8]) -> serde_json::Value {
    serde_json::to_value(FileMetadata {
        mod_time: 1.0,
        cluster_item_key: "etc/shared/".into(),
        merged: false,
        merge_type: None,
        merge_name: None,
        hash: Blake2bHex::of(content),
    })
    .unwrap()
}

/// Every file under `dir` with its content, relative paths sorted.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            let rel = entry
                .path()
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if kind.is_dir() {
                walk(base, &entry.path(), out);
            } else if kind.is_file() {
                out.push((rel, fs::read(entry.path()).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_between_two_disk_homes_converges() {
    let (master_dir, worker_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    plant(master_dir.path(), "etc/client.keys", b"001 a any k\n");
    plant(
        master_dir.path(),
        "etc/shared/default/agent.conf",
        b"<agent_config/>",
    );
    plant(master_dir.path(), "var/multigroups/ab/merged.mg", b"mg");
    plant(worker_dir.path(), "etc/shared/gone/agent.conf", b"old");
    plant(worker_dir.path(), "etc/ossec.conf", b"worker's own");
    let master = DiskFileSource::new(master_dir.path(), ClusterItems::wazuh_default()).unwrap();
    let worker = DiskFileSource::new(worker_dir.path(), ClusterItems::wazuh_default()).unwrap();
    let (mut master_table, mut worker_table) = (MetadataTable::new(), MetadataTable::new());
    master_table
        .refresh(&master, RefreshMode::Incremental)
        .await
        .unwrap();
    worker_table
        .refresh(&worker, RefreshMode::Incremental)
        .await
        .unwrap();
    let items = ClusterItems::wazuh_default();
    let plan = compare(&master_table, &worker_table.to_file_table(), &items).unwrap();
    let built = build_sync_container(&master, &plan, 1 << 30).await.unwrap();
    let decoded = decode_container(&built.bytes, &ContainerLimits::default()).unwrap();
    let report = apply_sync(&worker, decoded).await.unwrap();
    assert_eq!(
        (
            report.created,
            report.removed,
            report.pruned_dirs,
            report.errors.total()
        ),
        (3, 1, 1, 0)
    );
    let w = worker_dir.path();
    assert!(!w.join("etc/shared/gone").exists());
    assert!(w.join("etc/shared").is_dir(), "the item folder stays");
    assert_eq!(
        fs::metadata(w.join("etc/client.keys"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o640
    );
    assert_eq!(
        fs::metadata(w.join("var/multigroups/ab/merged.mg"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o660
    );
    let report = worker_table
        .refresh(&worker, RefreshMode::Incremental)
        .await
        .unwrap();
    assert_eq!((report.files, report.hashed, report.removed), (3, 3, 1));
    assert_eq!(
        worker_table.to_file_table().keys().collect::<Vec<_>>(),
        master_table.to_file_table().keys().collect::<Vec<_>>()
    );
    let warm = worker_table
        .refresh(&worker, RefreshMode::Incremental)
        .await
        .unwrap();
    assert_eq!(warm.hashed, 0, "nothing changed: nothing hashed");
    assert!(
        compare(&master_table, &worker_table.to_file_table(), &items)
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_writes_nothing_outside_through_links_and_survives_a_failing_file() {
    let dir = tempfile::tempdir().unwrap();
    let (home, outside) = (dir.path().join("home"), dir.path().join("outside"));
    plant(&outside, "victim", b"outside");
    plant(&home, "etc/shared/default/agent.conf", b"old");
    symlink(&outside, home.join("etc/shared/evil")).unwrap();
    symlink(
        outside.join("victim"),
        home.join("etc/shared/default/link.conf"),
    )
    .unwrap();
    fs::create_dir_all(home.join("etc/shared/blocked/agent.conf")).unwrap();
    let worker = DiskFileSource::new(&home, ClusterItems::wazuh_default()).unwrap();
    let names = [
        "etc/shared/evil/victim",
        "etc/shared/evil/new/planted.conf",
        "etc/shared/blocked/agent.conf",
        "etc/shared/default/agent.conf",
        "etc/shared/default/link.conf",
    ];
    let files = names
        .iter()
        .map(|p| ContainerFile {
            path: (*p).into(),
            content: b"new".to_vec(),
        })
        .collect();
    let mut metadata =
        json!({"missing": {}, "shared": {}, "extra": {"etc/shared/evil/victim": meta(b"x")}});
    for name in names {
        metadata["shared"][name] = meta(b"new");
    }
    let outside_before = tree(&outside);
    let report = apply_sync(&worker, DecodedContainer { files, metadata })
        .await
        .unwrap();
    assert_eq!(
        report.overwritten, 2,
        "agent.conf, and link.conf replacing the link itself"
    );
    assert_eq!(
        report.errors.to_string(),
        "Found errors: 3 overwriting, 0 creating and 1 removing"
    );
    assert_eq!(
        tree(&outside),
        outside_before,
        "nothing outside the home changed"
    );
    assert_eq!(
        fs::read(home.join("etc/shared/default/agent.conf")).unwrap(),
        b"new"
    );
    assert!(
        !fs::symlink_metadata(home.join("etc/shared/default/link.conf"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let leftovers: Vec<String> = tree(&home)
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| p.ends_with(".tmp"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temporary file remains: {leftovers:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_folder_that_is_a_link_inside_the_home_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    plant(&home, "var/db/cluster.db", b"database");
    plant(&home, "etc/client.keys", b"001 a any k\n");
    // `etc/shared` -> `var/db`: a link that stays inside the home.
    symlink(home.join("var/db"), home.join("etc/shared")).unwrap();
    let worker = DiskFileSource::new(&home, ClusterItems::wazuh_default()).unwrap();
    let mut metadata = json!({"missing": {}, "shared": {}, "extra": {}});
    metadata["shared"]["etc/shared/cluster.db"] = meta(b"overwritten");
    let files = vec![ContainerFile {
        path: "etc/shared/cluster.db".into(),
        content: b"overwritten".to_vec(),
    }];
    let report = apply_sync(&worker, DecodedContainer { files, metadata })
        .await
        .unwrap();
    assert_eq!(report.overwritten, 0);
    assert_eq!(
        fs::read(home.join("var/db/cluster.db")).unwrap(),
        b"database"
    );
    let listed: Vec<String> = worker
        .list()
        .await
        .expect("the other items still list")
        .into_iter()
        .map(|stat| stat.path.as_str().to_owned())
        .collect();
    assert_eq!(
        listed,
        ["etc/client.keys"],
        "nothing listed through the link"
    );
}
