//! The integrity sync on the harness: a tree reaches every worker, extra files go, and the
//! master records the state of every file on every worker.

mod flow;

use std::time::Duration;

use flow::{ROUND, cluster, converge};
use wazuh_cluster_core::testing::harness::MASTER_NAME;
use wazuh_cluster_core::{FileSyncState, SyncStateQuery};

#[tokio::test(start_paused = true)]
async fn initial_tree_reaches_every_worker_and_nothing_else_travels() {
    let sim = cluster(41, 3);
    converge(&sim, Duration::from_secs(5) + ROUND * 2, "initial sync").await;
    for worker in sim.worker_names() {
        let files = sim.files(&worker).snapshot();
        sim.check(
            !files.contains_key("etc/ossec.conf"),
            format!("{worker} got ossec.conf"),
        );
        sim.check(
            !files.contains_key("etc/shared/ar.conf"),
            format!("{worker} got ar.conf"),
        );
        sim.check(
            files.len() == 9,
            format!("{worker} has {} files", files.len()),
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_quiet_cluster_reports_sync_not_required_and_synchronized_states() {
    let sim = cluster(42, 3);
    converge(&sim, Duration::from_secs(5) + ROUND * 2, "initial sync").await;
    sim.run_for(ROUND * 2).await;
    let integrity = sim.master_integrity();
    for worker in sim.worker_names() {
        let status = integrity
            .status(&worker)
            .expect("status of a checked worker");
        let check = status.last_check.expect("a check");
        sim.check(
            check.counts.is_empty(),
            format!("{worker}: last check found differences"),
        );
        sim.check(
            status.last_sync.is_some(),
            format!("{worker}: no sync recorded"),
        );
        let report = sim.worker_integrity(&worker).report();
        sim.check(report.syncs >= 1, format!("{worker}: applied no sync"));
        let states = integrity
            .sync_states(&SyncStateQuery::node(&worker))
            .await
            .unwrap();
        sim.check(
            states.len() == 9,
            format!("{worker}: {} states", states.len()),
        );
        sim.check(
            states
                .iter()
                .all(|s| s.state == FileSyncState::Synchronized),
            format!("{worker}: {states:?}"),
        );
    }
    let keys = integrity
        .sync_states(&SyncStateQuery::file("etc/client.keys"))
        .await
        .unwrap();
    sim.check(keys.len() == 3, format!("client.keys states: {keys:?}"));
    let _ = MASTER_NAME;
}

#[tokio::test(start_paused = true)]
async fn checks_and_syncs_are_logged_in_wazuhs_words() {
    let (lines, _capture) = flow::logs::Lines::capture();
    let sim = cluster(43, 1);
    converge(&sim, Duration::from_secs(5) + ROUND * 2, "initial sync").await;
    sim.run_for(ROUND).await;
    let expected: [&[&str]; 6] = [
        &["[Worker worker01] [Integrity check] Permission to synchronize granted."],
        &[
            "[Worker worker01] [Integrity check] Files to create in worker: 9 | Files to update in worker: 0 | Files to delete in worker: 0",
        ],
        &[
            "[Worker worker01] [Integrity sync] Files to create: 9 | Files to update: 0 | Files to delete: 0",
        ],
        &[
            "[Worker worker01] [Integrity check] Finished in ",
            "s. Sync required.",
        ],
        &[
            "[Worker worker01] [Integrity check] Finished in ",
            "s. Sync not required.",
        ],
        &[
            "[Worker worker01] [Integrity sync] Finished in ",
            "s. 9 missing, 0 shared, 0 extra, ",
        ],
    ];
    for parts in expected {
        sim.check(
            !lines.matching(parts).is_empty(),
            format!("a line with {parts:?} in {:#?}", lines.all()),
        );
    }
}

#[tokio::test(start_paused = true)]
async fn quiet_checks_hash_nothing_until_the_full_rehash_is_due() {
    let mut timers = flow::config();
    timers.full_rehash_period = Duration::from_secs(600);
    let sim = flow::cluster_with(44, 2, timers);
    converge(&sim, Duration::from_secs(5) + ROUND * 2, "initial sync").await;
    sim.run_for(ROUND).await;
    let hashed = |sim: &wazuh_cluster_core::testing::SimCluster| {
        [MASTER_NAME, "worker01", "worker02"].map(|n| sim.files(n).hash_count())
    };
    let before = hashed(&sim);
    sim.run_for(ROUND * 10).await;
    sim.check(hashed(&sim) == before, "quiet checks read no content");
    sim.files(MASTER_NAME)
        .plant("etc/rules/local_rules.xml", b"<group name=\"v2\"/>");
    sim.run_for(ROUND).await;
    let after_edit = hashed(&sim);
    sim.check(
        after_edit[0] == before[0] + 1,
        format!("the master rehashed the edited file only: {before:?} -> {after_edit:?}"),
    );
    sim.run_for(Duration::from_secs(600)).await;
    sim.check(
        hashed(&sim)
            .iter()
            .zip(after_edit)
            .all(|(now, then)| *now >= then + 9),
        "the full rehash reads every file",
    );
}
