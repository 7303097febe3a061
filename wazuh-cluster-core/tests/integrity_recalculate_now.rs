//! `MasterIntegrity::recalculate_now`: a change is in the master's table at once instead of at
//! the end of the `recalculate_integrity` period.

mod flow;

use std::time::Duration;

use flow::plant_master_tree;
use wazuh_cluster_core::IntegrityConfig;
use wazuh_cluster_core::testing::SimCluster;
use wazuh_cluster_core::testing::harness::MASTER_NAME;
use wazuh_cluster_proto::payload::Blake2bHex;

const PATH: &str = "etc/shared/default/agent.conf";

fn long_period() -> IntegrityConfig {
    IntegrityConfig {
        recalculate_integrity: Duration::from_secs(600),
        ..IntegrityConfig::default()
    }
}

async fn table_hash(sim: &SimCluster) -> Option<Blake2bHex> {
    let integrity = sim.master_integrity();
    integrity
        .table()
        .await
        .get(PATH)
        .map(|metadata| metadata.hash)
}

#[tokio::test(start_paused = true)]
async fn a_requested_recalculation_sees_a_change_before_the_period_ends() {
    // A master whose home reports no change (as if its file watcher had not started).
    let sim = SimCluster::builder(SimCluster::seed_from_env(70))
        .integrity(long_period())
        .unwatched_master_files()
        .build();
    plant_master_tree(&sim);
    sim.run_for(Duration::from_secs(2)).await;
    let before = table_hash(&sim).await;
    assert!(before.is_some(), "the first table holds {PATH}");

    sim.files(MASTER_NAME)
        .plant(PATH, b"<agent_config>edited</agent_config>");
    sim.run_for(Duration::from_secs(5)).await;
    assert_eq!(
        table_hash(&sim).await,
        before,
        "without a request the table waits for the 600 s period"
    );

    sim.master_integrity().recalculate_now();
    sim.run_for(Duration::from_secs(1)).await;
    let after = table_hash(&sim).await;
    assert!(
        after.is_some() && after != before,
        "the requested recalculation saw the edit"
    );
}

#[tokio::test(start_paused = true)]
async fn a_storm_of_changes_is_listed_twice_a_second_and_a_lone_change_at_once() {
    // A master whose file source reports each change, as its watcher does.
    let sim = SimCluster::builder(SimCluster::seed_from_env(71))
        .integrity(long_period())
        .build();
    plant_master_tree(&sim);
    sim.run_for(Duration::from_secs(2)).await;
    let files = sim.files(MASTER_NAME);

    // A lone change after a quiet moment: in the table within a few milliseconds.
    files.plant(PATH, b"<agent_config>lone</agent_config>");
    sim.run_for(Duration::from_millis(20)).await;
    assert_eq!(
        table_hash(&sim).await,
        Some(Blake2bHex::of(b"<agent_config>lone</agent_config>")),
        "a change after a quiet moment is listed at once"
    );

    // 30 changes 100 ms apart (3 s): listed about twice a second, not 30 times.
    sim.run_for(Duration::from_secs(2)).await;
    let listed_before = files.list_count();
    for i in 0..30 {
        files.plant(PATH, format!("<agent_config>{i}</agent_config>").as_bytes());
        sim.run_for(Duration::from_millis(100)).await;
    }
    sim.run_for(Duration::from_secs(1)).await;
    let listings = files.list_count() - listed_before;
    assert!(
        (5..=8).contains(&listings),
        "30 changes in 3 s took {listings} listings, expected one per half second"
    );
    assert_eq!(
        table_hash(&sim).await,
        Some(Blake2bHex::of(b"<agent_config>29</agent_config>")),
        "the last change of the storm is listed"
    );
}
