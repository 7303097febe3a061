//! An idle cluster costs little: with their files watched, the master's recalculations do not
//! list unchanged files, a worker whose files did not change does not list them either and
//! sends the same metadata, which the master answers without comparing; any change, on either
//! side, still reaches the workers in the next round.

mod flow;

use std::time::Duration;

use flow::{ROUND, cluster, converge};
use wazuh_cluster_core::testing::SimCluster;
use wazuh_cluster_core::testing::harness::MASTER_NAME;
use wazuh_cluster_core::testing::net::LinkConfig;

const TRANSFER: Duration = Duration::from_secs(2);
/// Checks of one worker in this many idle seconds (one every `sync_integrity`, 9 s).
const IDLE: Duration = Duration::from_secs(90);

async fn settled(seed: u64) -> SimCluster {
    let sim = cluster(seed, 2);
    converge(&sim, Duration::from_secs(5) + ROUND * 2, "initial sync").await;
    // The round that applied the initial sync lists the files again once.
    sim.run_for(ROUND).await;
    sim
}

fn repeated(sim: &SimCluster, worker: &str) -> u64 {
    sim.master_integrity()
        .status(worker)
        .map_or(0, |s| s.repeated_checks)
}

#[tokio::test(start_paused = true)]
async fn idle_checks_neither_list_nor_compare() {
    let sim = settled(70).await;
    let workers = sim.worker_names();
    let listed: Vec<u64> = workers.iter().map(|w| sim.files(w).list_count()).collect();
    let answered: Vec<u64> = workers.iter().map(|w| repeated(&sim, w)).collect();
    let checks: Vec<u64> = workers
        .iter()
        .map(|w| sim.worker_integrity(w).report().checks)
        .collect();
    let master_listed = sim.files(MASTER_NAME).list_count();
    sim.run_for(IDLE).await;
    sim.check(
        sim.files(MASTER_NAME).list_count() == master_listed,
        "the master listed its unchanged files",
    );
    for (i, worker) in workers.iter().enumerate() {
        let new_checks = sim.worker_integrity(worker).report().checks - checks[i];
        sim.check(
            new_checks >= 9,
            format!("{worker} checked {new_checks} times"),
        );
        sim.check(
            sim.files(worker).list_count() == listed[i],
            format!("{worker} listed its unchanged files"),
        );
        let answered = repeated(&sim, worker) - answered[i];
        sim.check(
            answered == new_checks,
            format!("{worker}: {answered} of {new_checks} idle checks answered without comparing"),
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_worker_side_change_after_idle_rounds_is_repaired() {
    let sim = settled(71).await;
    sim.run_for(IDLE).await;
    let worker = &sim.worker_names()[0];
    sim.files(worker)
        .plant("etc/shared/default/agent.conf", b"tampered on the worker");
    sim.files(worker).plant("etc/rules/rogue.xml", b"<group/>");
    converge(&sim, ROUND + TRANSFER, "worker-side change repaired").await;
}

#[tokio::test(start_paused = true)]
async fn a_master_change_after_idle_rounds_is_sent_to_unchanged_workers() {
    let sim = settled(72).await;
    sim.run_for(IDLE).await;
    // Each worker still sends the metadata of its unchanged files, byte for byte the same:
    // the master must compare it again, as its own table changed.
    sim.files(MASTER_NAME)
        .plant("etc/lists/audit-keys", b"audit-wazuh-x:execute\n");
    converge(&sim, ROUND + TRANSFER, "master change after idle rounds").await;
}

#[tokio::test(start_paused = true)]
async fn a_master_change_during_a_check_in_flight_is_checked_right_after_it() {
    // 150 ms each way: a check stays in flight for several round trips.
    let link = LinkConfig {
        latency: Duration::from_millis(150),
        ..LinkConfig::default()
    };
    let sim = SimCluster::builder(SimCluster::seed_from_env(73))
        .workers(2)
        .integrity(flow::config())
        .link(link)
        .build();
    flow::plant_master_tree(&sim);
    converge(&sim, Duration::from_secs(10) + ROUND * 2, "initial sync").await;
    sim.run_for(ROUND).await;
    let worker = sim.worker_names()[0].clone();
    let compared = || {
        sim.master_integrity()
            .status(&worker)
            .and_then(|s| s.last_check)
            .map(|c| c.finished)
    };
    // Right after the master compared the worker's next check, before its answer reaches the
    // worker, the master's files change: the worker must check again as soon as the answer
    // comes (the master still holds its lock until then), not at its next interval (9 s).
    let before = compared();
    let mut waited = Duration::ZERO;
    while compared() == before && waited < Duration::from_secs(10) {
        sim.run_for(Duration::from_millis(5)).await;
        waited += Duration::from_millis(5);
    }
    sim.check(
        compared() != before,
        "the worker checked within its interval",
    );
    sim.files(MASTER_NAME)
        .plant("etc/rules/local_rules.xml", b"<group name=\"changed\"/>");
    converge(&sim, Duration::from_secs(5), "change made during a check").await;
}
