//! The integrity sync under faults: a transfer cut mid-way (crash, partition) leaves no partial
//! file and completes later; a leaked integrity lock expires; a backlog larger than the
//! container limit syncs over several rounds.

mod flow;

use std::time::Duration;

use flow::logs::Lines;
use flow::{ROUND, cluster, cluster_with, config, converge};
use wazuh_cluster_core::testing::harness::MASTER_NAME;
use wazuh_cluster_core::testing::{LinkConfig, SimCluster};
use wazuh_cluster_core::{Clock, FileSyncState, SyncStateQuery};

const EDITED: &str = "etc/shared/default/agent.conf";

/// A settled cluster whose link to worker01 is slow (1 s each way), then an edit on the
/// master; runs until worker01 is receiving the sync container.
async fn mid_transfer(seed: u64) -> (SimCluster, std::collections::BTreeMap<String, Vec<u8>>) {
    let sim = cluster(seed, 3);
    converge(&sim, Duration::from_secs(5) + ROUND * 2, "initial sync").await;
    sim.set_link(
        "worker01",
        MASTER_NAME,
        LinkConfig {
            latency: Duration::from_secs(1),
            ..LinkConfig::default()
        },
    );
    let before = sim.files("worker01").snapshot();
    sim.files(MASTER_NAME)
        .plant(EDITED, b"<agent_config>cut</agent_config>");
    let receiving = sim
        .run_until(ROUND * 2, |s| s.worker_integrity("worker01").is_busy())
        .await;
    sim.check(receiving, "worker01 started receiving the container");
    sim.check(
        sim.files("worker01").snapshot() == before,
        "nothing applied before the container is complete",
    );
    (sim, before)
}

#[tokio::test(start_paused = true)]
async fn a_worker_crashed_mid_transfer_keeps_its_old_files_then_converges() {
    let (lines, _guard) = Lines::capture();
    let (mut sim, before) = mid_transfer(60).await;
    sim.crash("worker01");
    sim.run_for(Duration::from_secs(60)).await;
    sim.check(
        sim.files("worker01").snapshot() == before,
        "a crash mid-transfer left a partial or new file",
    );
    let integrity = sim.master_integrity();
    let status = integrity.status("worker01").unwrap();
    sim.check(
        status.zip_limit == 30 << 20,
        format!("limit after a failed send: {}", status.zip_limit),
    );
    sim.check(
        !lines
            .matching(&[
                "[Worker worker01] [Integrity sync]",
                "Error sending the sync container",
            ])
            .is_empty(),
        "the failed send is logged",
    );
    let states = integrity
        .sync_states(&SyncStateQuery {
            node: Some("worker01".into()),
            file: Some(EDITED.into()),
        })
        .await
        .unwrap();
    sim.check(
        states.first().map(|s| s.state) == Some(FileSyncState::Failed),
        format!("state after the failed send: {states:?}"),
    );
    sim.set_link("worker01", MASTER_NAME, LinkConfig::default());
    sim.start("worker01");
    converge(
        &sim,
        Duration::from_secs(120) + ROUND * 2,
        "after the restart",
    )
    .await;
    let grown = sim.master_integrity().status("worker01").unwrap();
    sim.check(
        grown.zip_limit > 30 << 20,
        format!("limit after a fast send: {}", grown.zip_limit),
    );
    sim.check(
        !lines
            .matching(&["Increasing sync size limit to 37.50 MB."])
            .is_empty(),
        "growth logged in Wazuh's words",
    );
}

#[tokio::test(start_paused = true)]
async fn a_partition_mid_transfer_leaves_old_files_then_converges_after_the_heal() {
    let (sim, before) = mid_transfer(61).await;
    sim.partition("worker01", MASTER_NAME);
    sim.run_for(Duration::from_secs(150)).await;
    sim.check(
        sim.files("worker01").snapshot() == before,
        "a cut transfer left a partial or new file",
    );
    sim.check(
        !sim.worker_integrity("worker01").is_busy(),
        "the worker gave up waiting (timeout_receiving_file)",
    );
    sim.heal_all();
    sim.set_link("worker01", MASTER_NAME, LinkConfig::default());
    converge(&sim, Duration::from_secs(300), "after the heal").await;
}

#[tokio::test(start_paused = true)]
async fn a_leaked_lock_expires_and_the_worker_syncs_again() {
    use wazuh_cluster_proto::command::names;
    let (lines, _guard) = Lines::capture();
    let mut timers = config();
    timers.max_locked_integrity_time = Duration::from_secs(60);
    timers.timeout_receiving_file = Duration::from_secs(3600);
    let mut sim = cluster_with(62, 2, timers);
    sim.stop("worker02");
    sim.run_for(Duration::from_secs(5)).await;
    // A worker02 whose session stays alive but whose check never sends its file.
    let mut raw = flow::raw::Raw::new(sim.connect_raw().await.expect("connect"));
    let hello = raw
        .request(names::HELLO, b"worker02 wazuh worker 4.9.2")
        .await;
    sim.check(
        hello.is_some_and(|m| m.command == names::OK),
        "raw hello accepted",
    );
    let granted = raw.request(names::SYN_I_W_M_P, b"").await.unwrap();
    sim.check(&granted.payload[..] == b"True", "permission granted");
    let started = raw.request(names::SYN_I_W_M, b"").await.unwrap();
    sim.check(started.command == names::OK, "task started");
    let integrity = sim.master_integrity();
    sim.check(
        !integrity.status("worker02").unwrap().lock_free,
        "the lock is held",
    );
    let mut answers = Vec::new();
    for _ in 0..10 {
        raw.serve_for(Duration::from_secs(9)).await;
        raw.request(names::ECHO_C, b"keepalive").await;
        let reply = raw.request(names::SYN_I_W_M_P, b"").await.unwrap();
        let at = sim.clock().now().since_origin().as_secs();
        answers.push((at, reply.payload == b"True"[..]));
        if reply.payload == b"True"[..] {
            break;
        }
    }
    let (granted_at, granted) = *answers.last().unwrap();
    sim.check(
        granted,
        format!("permission again after the lease expired: {answers:?}"),
    );
    sim.check(
        answers.iter().all(|&(at, ok)| ok == (at == granted_at)) && granted_at >= 5 + 60,
        format!("refused while the lease held, granted after: {answers:?}"),
    );
    sim.check(sim.converged("worker01"), "other workers are not blocked");
    sim.check(
        !lines
            .matching(&["[Worker worker02] [Integrity check]", "releasing it"])
            .is_empty(),
        "the expiry is logged",
    );
    // The check now completes: an empty table gets a sync of the whole tree.
    let tid = raw.request(names::SYN_I_W_M, b"").await.unwrap();
    let tid = String::from_utf8(tid.payload.to_vec()).unwrap();
    let metadata = wazuh_cluster_proto::payload::ContainerEncoder::new(1 << 20)
        .finish(&serde_json::json!({}))
        .unwrap()
        .bytes;
    raw.send_file("/queue/cluster/worker02/m.zip", &metadata)
        .await;
    let end = format!("{tid} queue/cluster/worker02/m.zip");
    raw.request(names::SYN_I_W_M_E, end.as_bytes()).await;
    let sync = raw
        .expect_request(names::SYN_M_C, Duration::from_secs(10))
        .await;
    sim.check(
        sync.is_some(),
        "the master starts a sync after the expired lease",
    );
}

#[tokio::test(start_paused = true)]
async fn a_backlog_larger_than_the_container_limit_syncs_over_several_rounds() {
    let (lines, _guard) = Lines::capture();
    let mut timers = config();
    timers.zip_limit.max_zip_size = 400;
    timers.zip_limit.min_zip_size = 200;
    let sim = cluster_with(63, 1, timers);
    let master = sim.files(MASTER_NAME);
    let mut seed = 7u64;
    for i in 0..8 {
        let body: Vec<u8> = (0..150)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (seed >> 56) as u8
            })
            .collect();
        master.plant(&format!("etc/lists/big-{i}"), &body);
    }
    sim.run_for(Duration::from_secs(5) + ROUND).await;
    sim.check(
        !sim.converged("worker01"),
        "one round cannot carry everything",
    );
    converge(&sim, ROUND * 12, "backlog over several rounds").await;
    sim.check(
        !lines.matching(&["Maximum zip size exceeded"]).is_empty(),
        "partial containers are logged",
    );
}
