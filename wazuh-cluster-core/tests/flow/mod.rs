//! Helpers of the integrity flow tests: a cluster with the integrity sync on and a master tree.
#![allow(dead_code)]

pub mod logs;
pub mod raw;

use std::time::Duration;

use wazuh_cluster_core::IntegrityConfig;
use wazuh_cluster_core::testing::SimCluster;
use wazuh_cluster_core::testing::harness::MASTER_NAME;

/// Wazuh's check period plus the master's recalculation period: the longest a change may take
/// to be seen by a worker's check, before the sync itself.
pub const ROUND: Duration = Duration::from_secs(9 + 8);

/// Wazuh's timers.
pub fn config() -> IntegrityConfig {
    IntegrityConfig::default()
}

/// A master tree as Wazuh has it: keys, groups, a multigroup, rules, decoders, lists, and files
/// that are never synchronized.
pub fn plant_master_tree(sim: &SimCluster) {
    let files = sim.files(MASTER_NAME);
    files.plant(
        "etc/client.keys",
        b"001 agent1 any key1\n002 agent2 any key2\n",
    );
    files.plant("etc/ossec.conf", b"<ossec_config/>");
    files.plant("etc/shared/default/agent.conf", b"<agent_config/>");
    files.plant("etc/shared/default/merged.mg", b"#default\n");
    files.plant(
        "etc/shared/web/agent.conf",
        b"<agent_config>web</agent_config>",
    );
    files.plant("etc/shared/web/merged.mg", b"#web\n");
    files.plant(
        "etc/shared/ar.conf",
        b"restart-ossec0 - restart-ossec.sh - 0",
    );
    files.plant("var/multigroups/abc123/merged.mg", b"#default,web\n");
    files.plant("etc/rules/local_rules.xml", b"<group name=\"local\"/>");
    files.plant(
        "etc/decoders/local_decoder.xml",
        b"<decoder name=\"local\"/>",
    );
    files.plant("etc/lists/audit-keys", b"audit-wazuh-w:write\n");
}

/// A cluster of a master and `workers` workers with the integrity sync on and the master tree
/// planted before anything starts.
pub fn cluster(seed: u64, workers: usize) -> SimCluster {
    cluster_with(seed, workers, config())
}

/// [`cluster`] with other integrity timers.
pub fn cluster_with(seed: u64, workers: usize, config: IntegrityConfig) -> SimCluster {
    let sim = SimCluster::builder(SimCluster::seed_from_env(seed))
        .workers(workers)
        .integrity(config)
        .build();
    plant_master_tree(&sim);
    sim
}

/// Runs until every worker converged (at most `limit`); checks it with the seed on failure.
pub async fn converge(sim: &SimCluster, limit: Duration, what: &str) {
    let done = sim.run_until(limit, |s| s.all_converged()).await;
    let diff: Vec<String> = sim
        .worker_names()
        .into_iter()
        .filter(|w| !sim.converged(w))
        .map(|w| format!("{w}: {:?}", sim.synced_files(&w).keys().collect::<Vec<_>>()))
        .collect();
    sim.check(
        done,
        format!("{what}: not converged within {limit:?}: {diff:?}"),
    );
}

/// The name the harness gives worker `i` (from 0): `worker01`, `worker02`...
pub fn worker_name(i: usize) -> String {
    format!("worker{:02}", i + 1)
}

/// Whether every worker of `names` is connected and listed by the master.
pub fn all_connected(sim: &SimCluster, names: &[String]) -> bool {
    let listed = sim.master().worker_names();
    names
        .iter()
        .all(|n| sim.worker(n).status().connected && listed.contains(n))
}

/// Runs `play` on a current-thread runtime with paused time, as a proptest case needs.
pub fn block_on_paused<F: Future>(play: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(play)
}
