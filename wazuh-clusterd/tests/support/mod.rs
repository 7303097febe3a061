//! Helpers the clusterd end-to-end tests share.

use std::time::Duration;

use wazuh_clusterd::config::NodeType;
use wazuh_clusterd::demo::{LocalCluster, NodeProcess, wait_for_cluster};

/// Starts `master01`, `worker01` and `worker02`; panics with the master's log unless both
/// workers are connected on every node within `wait`.
pub fn start_three(
    cluster: &LocalCluster,
    wait: Duration,
) -> (NodeProcess, NodeProcess, NodeProcess) {
    let master = cluster.start_node("master01", NodeType::Master).unwrap();
    let w1 = cluster.start_node("worker01", NodeType::Worker).unwrap();
    let w2 = cluster.start_node("worker02", NodeType::Worker).unwrap();
    assert!(
        wait_for_cluster(
            &[&master.home, &w1.home, &w2.home],
            &["master01", "worker01", "worker02"],
            wait
        ),
        "workers did not connect; master log:\n{}",
        master.log()
    );
    (master, w1, w2)
}
