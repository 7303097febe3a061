//! Changes on the master reach every worker within one check interval plus the master's
//! recalculation interval; extra files on workers go; an offline worker catches up.

mod flow;

use std::time::Duration;

use flow::{ROUND, cluster, converge};
use wazuh_cluster_core::testing::harness::MASTER_NAME;
use wazuh_cluster_core::{FileSyncState, SyncStateQuery};

/// Time a sync takes on the simulated links once the check saw the change (a few round trips).
const TRANSFER: Duration = Duration::from_secs(2);

async fn settled(seed: u64) -> wazuh_cluster_core::testing::SimCluster {
    let sim = cluster(seed, 3);
    converge(&sim, Duration::from_secs(5) + ROUND * 2, "initial sync").await;
    sim
}

#[tokio::test(start_paused = true)]
async fn an_edit_reaches_every_worker_within_one_round() {
    let sim = settled(50).await;
    sim.files(MASTER_NAME).plant(
        "etc/shared/default/agent.conf",
        b"<agent_config>v2</agent_config>",
    );
    converge(&sim, ROUND + TRANSFER, "edited agent.conf").await;
    for worker in sim.worker_names() {
        let content = sim.files(&worker).snapshot()["etc/shared/default/agent.conf"].clone();
        sim.check(
            content == b"<agent_config>v2</agent_config>",
            format!("{worker} content"),
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_new_group_reaches_every_worker_within_one_round() {
    let sim = settled(51).await;
    let master = sim.files(MASTER_NAME);
    master.plant(
        "etc/shared/db/agent.conf",
        b"<agent_config>db</agent_config>",
    );
    master.plant("etc/shared/db/merged.mg", b"#db\n");
    converge(&sim, ROUND + TRANSFER, "new group db").await;
}

#[tokio::test(start_paused = true)]
async fn a_removed_group_is_removed_and_its_folder_pruned_within_one_round() {
    let sim = settled(52).await;
    let master = sim.files(MASTER_NAME);
    master.unplant("etc/shared/web/agent.conf");
    master.unplant("etc/shared/web/merged.mg");
    converge(&sim, ROUND + TRANSFER, "removed group web").await;
    use wazuh_cluster_core::files::conformance::Fixture;
    for worker in sim.worker_names() {
        sim.check(
            !sim.files(&worker).dir_exists("etc/shared/web"),
            format!("{worker} kept the empty folder etc/shared/web"),
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_changed_client_keys_reaches_every_worker_within_one_round() {
    let sim = settled(53).await;
    sim.files(MASTER_NAME).plant(
        "etc/client.keys",
        b"001 agent1 any key1\n002 agent2 any key2\n003 agent3 any key3\n",
    );
    converge(&sim, ROUND + TRANSFER, "changed client.keys").await;
    use wazuh_cluster_core::files::conformance::Fixture;
    for worker in sim.worker_names() {
        let mode = sim.files(&worker).mode("etc/client.keys");
        sim.check(
            mode == Some(0o640),
            format!("{worker} client.keys mode {mode:?}"),
        );
        let mode = sim.files(&worker).mode("etc/rules/local_rules.xml");
        sim.check(mode == Some(0o660), format!("{worker} rules mode {mode:?}"));
    }
}

#[tokio::test(start_paused = true)]
async fn extra_files_on_workers_are_removed_and_other_files_kept() {
    let sim = settled(54).await;
    for worker in sim.worker_names() {
        let files = sim.files(&worker);
        files.plant("etc/shared/rogue/agent.conf", b"rogue");
        files.plant("etc/rules/extra_rules.xml", b"<group/>");
        files.plant("etc/ossec.conf", b"<ossec_config>worker</ossec_config>");
        files.plant("etc/internal_options.conf", b"local");
    }
    converge(&sim, ROUND + TRANSFER, "extra files removed").await;
    use wazuh_cluster_core::files::conformance::Fixture;
    for worker in sim.worker_names() {
        let files = sim.files(&worker);
        let snapshot = files.snapshot();
        sim.check(
            snapshot.get("etc/ossec.conf").map(Vec::as_slice)
                == Some(&b"<ossec_config>worker</ossec_config>"[..]),
            format!("{worker} lost its own ossec.conf"),
        );
        sim.check(
            snapshot.contains_key("etc/internal_options.conf"),
            format!("{worker} lost a file outside the items"),
        );
        sim.check(
            !files.dir_exists("etc/shared/rogue"),
            format!("{worker} kept etc/shared/rogue"),
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_worker_offline_during_changes_converges_after_it_returns() {
    let mut sim = settled(55).await;
    sim.stop("worker02");
    let master = sim.files(MASTER_NAME);
    master.plant(
        "etc/shared/default/agent.conf",
        b"<agent_config>v3</agent_config>",
    );
    master.plant("etc/lists/new-list", b"a:b\n");
    master.unplant("etc/rules/local_rules.xml");
    sim.run_for(ROUND * 3).await;
    sim.check(
        sim.converged("worker01") && sim.converged("worker03"),
        "online workers converged",
    );
    sim.check(
        !sim.converged("worker02"),
        "the stopped worker cannot have changed",
    );
    sim.start("worker02");
    converge(
        &sim,
        Duration::from_secs(5) + ROUND * 2,
        "worker02 after its return",
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn sent_files_are_pending_until_the_next_check_shows_them() {
    let sim = settled(56).await;
    let path = "etc/decoders/local_decoder.xml";
    sim.files(MASTER_NAME)
        .plant(path, b"<decoder name=\"v2\"/>");
    converge(&sim, ROUND + TRANSFER, "edited decoder").await;
    let integrity = sim.master_integrity();
    let query = SyncStateQuery::file(path);
    let pending = integrity.sync_states(&query).await.unwrap();
    sim.check(pending.len() == 3, format!("states of {path}: {pending:?}"));
    sim.check(
        pending.iter().all(|s| s.state == FileSyncState::Pending),
        format!("right after the sync: {pending:?}"),
    );
    sim.run_for(ROUND).await;
    let synchronized = integrity.sync_states(&query).await.unwrap();
    sim.check(
        synchronized
            .iter()
            .all(|s| s.state == FileSyncState::Synchronized),
        format!("after the next check: {synchronized:?}"),
    );
    let changed_later = synchronized
        .iter()
        .zip(&pending)
        .all(|(now, before)| now.changed > before.changed);
    sim.check(changed_later, "the change time moved with the state");
}

#[tokio::test(start_paused = true)]
async fn a_deleted_file_ends_deleted_on_every_worker() {
    let sim = settled(57).await;
    let path = "etc/lists/audit-keys";
    sim.files(MASTER_NAME).unplant(path);
    converge(&sim, ROUND + TRANSFER, "deleted list").await;
    sim.run_for(ROUND).await;
    let states = sim
        .master_integrity()
        .sync_states(&SyncStateQuery::file(path))
        .await
        .unwrap();
    sim.check(
        states.len() == 3 && states.iter().all(|s| s.state == FileSyncState::Deleted),
        format!("states of {path}: {states:?}"),
    );
}
