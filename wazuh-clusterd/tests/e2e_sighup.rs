//! End-to-end: SIGHUP reopens `logs/cluster.log` after an external rename (what logrotate
//! does); the lines before stay in the renamed file, the lines after go to the new one.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use wazuh_clusterd::config::NodeType;
use wazuh_clusterd::demo::{LocalCluster, wait_for_nodes, wait_until};

const DAEMON: &str = env!("CARGO_BIN_EXE_wazuh-clusterd");
const WAIT: Duration = Duration::from_secs(20);

#[test]
fn sighup_reopens_the_log_after_a_rename_and_loses_no_line() {
    let root = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::new(Path::new(DAEMON), root.path()).unwrap();
    let master = cluster.start_node("master01", NodeType::Master).unwrap();
    assert!(
        wait_for_nodes(&master.home, &["master01"], WAIT),
        "{}",
        master.log()
    );
    let log = master.home.join("logs/cluster.log");
    let rotated = master.home.join("logs/cluster.log.1");
    std::fs::rename(&log, &rotated).unwrap();

    // A worker joins while the log is renamed: its lines go to the old file.
    let _worker = cluster.start_node("worker01", NodeType::Worker).unwrap();
    assert!(wait_for_nodes(
        &master.home,
        &["master01", "worker01"],
        WAIT
    ));
    Command::new("kill")
        .arg("-HUP")
        .arg(master.pid().to_string())
        .status()
        .unwrap();
    assert!(
        wait_until(WAIT, || log.is_file()
            && std::fs::read_to_string(&log)
                .unwrap()
                .contains("Received SIGHUP: reopened")),
        "no new log after SIGHUP; the old one holds:\n{}",
        std::fs::read_to_string(&rotated).unwrap()
    );
    let before = std::fs::read_to_string(&rotated).unwrap();
    assert!(
        before.contains("Serving as master node master01."),
        "{before}"
    );
    assert!(
        before.contains("[Worker worker01]"),
        "the worker's lines stayed: {before}"
    );
    assert!(!before.contains("Received SIGHUP"), "{before}");
    assert!(master.log().contains("Received SIGHUP: reopened"));
}
