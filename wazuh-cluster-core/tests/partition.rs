//! Partitions healed, nodes restarted and crashed: workers come back quickly, and a stale session
//! is replaced instead of blocking the name with 3028.

use std::time::Duration;

use wazuh_cluster_core::storage::Storage;
use wazuh_cluster_core::testing::harness::{MASTER_NAME, SimCluster};

const TWO_KEEPALIVES: Duration = Duration::from_secs(120);

fn connected(sim: &SimCluster, name: &str) -> bool {
    sim.worker(name).status().connected && sim.master().worker_names().iter().any(|n| n == name)
}

#[tokio::test(start_paused = true)]
async fn after_a_long_partition_heals_the_worker_reconnects_within_two_keepalive_intervals() {
    let sim = SimCluster::builder(SimCluster::seed_from_env(20))
        .workers(3)
        .build();
    sim.run_for(Duration::from_secs(30)).await;
    sim.partition("worker02", MASTER_NAME);
    sim.run_for(Duration::from_secs(400)).await;
    sim.check(
        !sim.worker("worker02").status().connected,
        "worker02 noticed the partition",
    );
    sim.check(
        sim.master().silence_of("worker02").is_none(),
        "the master reaped worker02",
    );
    sim.heal_all();
    let back = sim
        .run_until(TWO_KEEPALIVES, |sim| connected(sim, "worker02"))
        .await;
    sim.check(
        back,
        "worker02 reconnected within two keepalive intervals of the heal",
    );
    sim.check(
        sim.master().worker_names().len() == 3,
        "all three workers listed",
    );
}

#[tokio::test(start_paused = true)]
async fn partitions_healed_at_any_moment_end_with_the_worker_connected_in_time() {
    for (i, cut) in [5u64, 50, 75, 100, 130, 150, 170, 200]
        .into_iter()
        .enumerate()
    {
        let sim = SimCluster::builder(SimCluster::seed_from_env(200 + i as u64)).build();
        sim.run_for(Duration::from_secs(13)).await;
        sim.partition("worker01", MASTER_NAME);
        sim.run_for(Duration::from_secs(cut)).await;
        sim.heal_all();
        let back = sim
            .run_until(TWO_KEEPALIVES, |sim| connected(sim, "worker01"))
            .await;
        sim.check(
            back,
            format!("worker01 back within 120 s after a {cut} s partition"),
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_restarted_master_gets_every_running_worker_back_and_forgets_the_others() {
    let mut sim = SimCluster::builder(SimCluster::seed_from_env(21))
        .workers(3)
        .build();
    sim.run_for(Duration::from_secs(70)).await;
    sim.stop("worker03");
    sim.restart(MASTER_NAME);
    sim.check(
        sim.master().worker_names().is_empty(),
        "a new master starts empty",
    );
    let back = sim
        .run_until(Duration::from_secs(30), |sim| {
            sim.master().worker_names().len() == 2
        })
        .await;
    sim.check(
        back,
        "every running worker reconnected within connection_retry plus a margin",
    );
    let recorded: Vec<String> = sim
        .env(MASTER_NAME)
        .storage
        .nodes()
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect();
    sim.check(
        recorded == ["worker01", "worker02"],
        format!("no ghost of the stopped worker03: {recorded:?}"),
    );
    for name in ["worker01", "worker02"] {
        sim.check(
            sim.worker(name).status().sessions_established == 2,
            format!("{name} has a second session"),
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_crashed_worker_replaces_its_stale_session_instead_of_getting_3028_forever() {
    let mut sim = SimCluster::builder(SimCluster::seed_from_env(22))
        .workers(2)
        .build();
    sim.run_for(Duration::from_secs(65)).await;
    sim.check(
        sim.master().silence_of("worker01").unwrap() < Duration::from_secs(10),
        "a keepalive just arrived",
    );
    sim.crash("worker01");
    sim.start("worker01");
    sim.run_for(Duration::from_secs(5)).await;
    let status = sim.worker("worker01").status();
    sim.check(!status.connected, "the old session is not yet stale");
    let error = status.last_handshake_error.expect("a refusal");
    sim.check(error.code == 3028, format!("refused with {error}"));
    sim.check(
        sim.master().worker_names().len() == 2,
        "the old session is still listed",
    );

    let back = sim
        .run_until(Duration::from_secs(60), |sim| {
            sim.worker("worker01").status().connected
        })
        .await;
    sim.check(
        back,
        "worker01 replaced its stale session within a keepalive interval",
    );
    let silence = sim.master().silence_of("worker01").unwrap();
    sim.check(
        silence < Duration::from_secs(15),
        format!("the listed session is the new one ({silence:?} silent)"),
    );
    sim.run_for(Duration::from_secs(300)).await;
    sim.check(
        sim.worker("worker01").status().connected,
        "the new session survives the old one's end",
    );
    sim.check(
        sim.master().worker_names().len() == 2,
        "worker01 listed once, worker02 still there",
    );
}
