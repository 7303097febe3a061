//! Property: random schedules of partitions, heals, restarts and crashes never leave the master
//! listing a worker silent for longer than the reaping limit, and once everything is healed and
//! running, every worker is connected again.

mod flow;

use std::time::Duration;

use flow::{all_connected, block_on_paused, worker_name};
use proptest::prelude::*;
use wazuh_cluster_core::testing::harness::{MASTER_NAME, SimCluster};

const WORKERS: usize = 3;
/// `max_allowed_time_without_keepalive` plus one reaper period: the longest a silent worker can
/// stay listed with Wazuh's defaults (plus the one-second sampling step).
const LISTED_SILENCE_LIMIT: Duration = Duration::from_secs(120 + 60 + 1);
/// Healing to every worker connected: the worker notices a dead session after at most two
/// keepalives that time out (60 + 20 s each), or the master reaps it within 180 s, then
/// reconnects within `connection_retry`.
const RECOVERY_LIMIT: Duration = Duration::from_secs(240);

#[derive(Debug, Clone)]
enum Step {
    Partition(usize),
    Heal(usize),
    RestartWorker(usize),
    CrashWorker(usize),
    StopWorker(usize),
    StartWorker(usize),
    RestartMaster,
    Wait(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..WORKERS).prop_map(Step::Partition),
        2 => (0..WORKERS).prop_map(Step::Heal),
        1 => (0..WORKERS).prop_map(Step::RestartWorker),
        1 => (0..WORKERS).prop_map(Step::CrashWorker),
        1 => (0..WORKERS).prop_map(Step::StopWorker),
        1 => (0..WORKERS).prop_map(Step::StartWorker),
        1 => Just(Step::RestartMaster),
        4 => (1u64..250).prop_map(Step::Wait),
    ]
}

/// Runs `secs` seconds, checking every second that no listed worker is silent past the limit.
async fn run_checked(sim: &SimCluster, secs: u64) {
    for _ in 0..secs {
        sim.run_for(Duration::from_secs(1)).await;
        let master = sim.master();
        for name in master.worker_names() {
            let silence = master.silence_of(&name).unwrap_or_default();
            sim.check(
                silence <= LISTED_SILENCE_LIMIT,
                format!("master lists {name} after {silence:?} of silence"),
            );
        }
    }
}

async fn play(seed: u64, steps: Vec<Step>) {
    let mut sim = SimCluster::builder(seed).workers(WORKERS).build();
    run_checked(&sim, 5).await;
    for step in &steps {
        match *step {
            Step::Partition(i) => sim.partition(&worker_name(i), MASTER_NAME),
            Step::Heal(i) => sim.heal(&worker_name(i), MASTER_NAME),
            Step::RestartWorker(i) => sim.restart(&worker_name(i)),
            Step::CrashWorker(i) => {
                sim.crash(&worker_name(i));
                sim.start(&worker_name(i));
            }
            Step::StopWorker(i) => sim.stop(&worker_name(i)),
            Step::StartWorker(i) => sim.start(&worker_name(i)),
            Step::RestartMaster => sim.restart(MASTER_NAME),
            Step::Wait(secs) => run_checked(&sim, secs).await,
        }
    }
    sim.heal_all();
    let running: Vec<String> = sim
        .worker_names()
        .into_iter()
        .filter(|n| sim.is_running(n))
        .collect();
    let mut waited = 0;
    while !all_connected(&sim, &running) && waited < RECOVERY_LIMIT.as_secs() {
        run_checked(&sim, 1).await;
        waited += 1;
    }
    sim.check(
        all_connected(&sim, &running),
        format!(
            "running workers {running:?} all connected within {RECOVERY_LIMIT:?} of healing; \
             master lists {:?}; steps {steps:?}",
            sim.master().worker_names()
        ),
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_fault_schedules_keep_the_node_list_honest_and_recover(
        seed in any::<u64>(),
        steps in proptest::collection::vec(step(), 1..14),
    ) {
        block_on_paused(play(seed, steps));
    }
}
