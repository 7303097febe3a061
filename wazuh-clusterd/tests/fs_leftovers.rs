//! Temporary files of writes a crash interrupted are removed at start, and only ours.

use std::fs;
use std::path::Path;

use wazuh_cluster_core::files::ClusterItems;
use wazuh_cluster_core::files::FileSource;
use wazuh_clusterd::fs::DiskFileSource;

fn plant(home: &Path, relpath: &str) {
    let path = home.join(relpath);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, b"x").unwrap();
}

#[test]
fn leftover_temporary_files_are_removed_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let ours = [
        "etc/shared/g1/.agent.conf.0123456789abcdef.tmp",
        "etc/shared/g1/deep/.a.conf.fedcba9876543210.tmp",
        "etc/.client.keys.00000000000000ff.tmp",
        "var/multigroups/ab/.merged.mg.0a0a0a0a0a0a0a0a.tmp",
    ];
    let kept = [
        "etc/shared/g1/agent.conf",
        "etc/shared/g1/someone.tmp",
        "etc/shared/g1/.agent.conf.short.tmp",
        "etc/ossec.conf",
        "queue/.x.0123456789abcdef.tmp",
    ];
    for p in ours.iter().chain(&kept) {
        plant(home, p);
    }
    let source = DiskFileSource::new(home, ClusterItems::wazuh_default()).unwrap();
    assert_eq!(source.remove_leftover_temps().unwrap(), ours.len());
    for p in ours {
        assert!(!home.join(p).exists(), "{p} removed");
    }
    for p in kept {
        assert!(home.join(p).exists(), "{p} kept");
    }
    assert_eq!(source.remove_leftover_temps().unwrap(), 0, "nothing left");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_many_files_is_written_in_parallel_and_synced() {
    let dir = tempfile::tempdir().unwrap();
    let items = ClusterItems::wazuh_default();
    let source = DiskFileSource::new(dir.path(), items.clone()).unwrap();
    let batch: Vec<_> = (0..300)
        .map(|i| {
            let path = items
                .confine(&format!("etc/shared/g{}/f{i}.conf", i % 7))
                .unwrap();
            (path, format!("file {i}").into_bytes())
        })
        .collect();
    let results = source.write_batch(batch).await;
    assert_eq!(results.len(), 300);
    assert!(results.iter().all(Result::is_ok));
    source.sync().await.unwrap();
    for i in 0..300 {
        let path = dir.path().join(format!("etc/shared/g{}/f{i}.conf", i % 7));
        assert_eq!(fs::read(path).unwrap(), format!("file {i}").into_bytes());
    }
    assert_eq!(source.remove_leftover_temps().unwrap(), 0);
}
