//! Files a node writes get the owner it was given (Wazuh's `wazuh:wazuh` when run as root).

use std::os::unix::fs::MetadataExt;

use wazuh_cluster_core::files::ClusterItems;
use wazuh_cluster_core::files::FileSource;
use wazuh_clusterd::fs::{DiskFileSource, FileOwner};

/// The effective uid of this process, from `/proc/self/status`.
fn effective_uid() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    line.split_whitespace().nth(2).unwrap().parse().unwrap()
}

#[tokio::test]
async fn written_files_get_the_chosen_owner_and_the_item_mode() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("etc/shared/default")).unwrap();
    let items = ClusterItems::wazuh_default();
    let me = effective_uid();
    // Only root may give a file away; anyone may "give" it to themselves.
    let owner = if me == 0 {
        FileOwner {
            uid: 4242,
            gid: 4343,
        }
    } else {
        let meta = std::fs::metadata(home.path()).unwrap();
        FileOwner {
            uid: meta.uid(),
            gid: meta.gid(),
        }
    };
    let files = DiskFileSource::with_owner(home.path(), items.clone(), Some(owner)).unwrap();
    let path = items.confine("etc/shared/default/agent.conf").unwrap();
    files
        .write(&path, b"<agent_config/>\n".to_vec())
        .await
        .unwrap();

    let meta = std::fs::metadata(home.path().join("etc/shared/default/agent.conf")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (owner.uid, owner.gid));
    assert_eq!(meta.mode() & 0o777, 0o660);
}
