//! Keepalive failures detected on both sides on virtual time, and the hello deadline.

mod common;

use std::time::Duration;

use wazuh_cluster_core::clock::Clock;
use wazuh_cluster_core::testing::harness::{MASTER_NAME, SimCluster};

#[tokio::test(start_paused = true)]
async fn a_silent_worker_is_reaped_after_120_to_180_s_and_the_worker_disconnects_itself() {
    let sim = SimCluster::builder(SimCluster::seed_from_env(10))
        .workers(2)
        .build();
    sim.run_for(Duration::from_secs(90)).await;
    let master = sim.master();
    sim.check(master.worker_names().len() == 2, "both workers joined");
    let last_keepalive = master.silence_of("worker01").unwrap();
    sim.partition("worker01", MASTER_NAME);
    let cut = sim.clock().now();

    let mut reaped_after_silence = None;
    let mut worker_gave_up_after = None;
    for _ in 0..400 {
        sim.run_for(Duration::from_secs(1)).await;
        let since_cut = sim.clock().now() - cut;
        match master.silence_of("worker01") {
            Some(silence) => sim.check(
                silence <= Duration::from_secs(181),
                format!("master still lists worker01 after {silence:?} of silence"),
            ),
            None if reaped_after_silence.is_none() => {
                reaped_after_silence = Some(since_cut + last_keepalive)
            }
            None => {}
        }
        if worker_gave_up_after.is_none() && !sim.worker("worker01").status().connected {
            worker_gave_up_after = Some(since_cut);
        }
    }
    let reaped = reaped_after_silence.expect("the master reaped worker01");
    sim.check(
        reaped > Duration::from_secs(120) && reaped <= Duration::from_secs(181),
        format!("reaped after {reaped:?} of silence"),
    );
    let gave_up = worker_gave_up_after.expect("worker01 disconnected on its own");
    sim.check(
        gave_up <= Duration::from_secs(2 * 60 + 2 * 20 + 1),
        format!("worker01 gave up {gave_up:?} after the cut (two failed keepalives)"),
    );
    sim.check(
        master.worker_names() == ["worker02"],
        "worker02 is unaffected",
    );
    sim.check(
        sim.worker("worker02").status().sessions_established == 1,
        "worker02 never reconnected",
    );
}

#[tokio::test(start_paused = true)]
async fn a_connection_that_never_says_hello_is_closed_after_the_deadline() {
    let mut sim = SimCluster::builder(SimCluster::seed_from_env(11)).build();
    let mut conn = sim.connect_raw().await.unwrap();
    let start = sim.clock().now();
    sim.check(
        common::closed_within(&mut conn, Duration::from_secs(40)).await,
        "the master closed the silent connection",
    );
    let after = sim.clock().now() - start;
    sim.check(
        after >= Duration::from_secs(30) && after <= Duration::from_secs(31),
        format!("closed after {after:?}"),
    );
}
