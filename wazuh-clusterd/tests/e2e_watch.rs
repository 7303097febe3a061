//! End-to-end: `cluster_control --watch` shows every node with its role and agent share, from a
//! worker too, refreshed `--count` times.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use wazuh_clusterd::config::NodeType;
use wazuh_clusterd::demo::{LocalCluster, wait_for_nodes};

const DAEMON: &str = env!("CARGO_BIN_EXE_wazuh-clusterd");
const CONTROL: &str = env!("CARGO_BIN_EXE_cluster_control");
const WAIT: Duration = Duration::from_secs(20);

#[test]
fn watch_refreshes_a_screen_of_every_node_from_a_worker() {
    let root = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::new(Path::new(DAEMON), root.path()).unwrap();
    let master = cluster.start_node("master01", NodeType::Master).unwrap();
    let worker = cluster.start_node("worker01", NodeType::Worker).unwrap();
    assert!(wait_for_nodes(
        &master.home,
        &["master01", "worker01"],
        WAIT
    ));
    let output = Command::new(CONTROL)
        .arg("--home")
        .arg(&worker.home)
        .args(["--watch", "--interval", "0.2", "--count", "2"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(text.matches("Cluster demo at ").count(), 2, "{text}");
    assert!(text.contains("1 connected workers"), "{text}");
    let master_row = text.lines().find(|l| l.starts_with("master01")).unwrap();
    assert!(master_row.contains("master"), "{text}");
    let worker_row = text.lines().find(|l| l.starts_with("worker01")).unwrap();
    assert!(
        worker_row.contains("worker") && worker_row.contains("s ago"),
        "{text}"
    );

    let refused = Command::new(CONTROL)
        .arg("--home")
        .arg(&worker.home)
        .args(["-l", "--count", "2"])
        .output()
        .unwrap();
    assert!(!refused.status.success(), "--count goes with --watch");
}
