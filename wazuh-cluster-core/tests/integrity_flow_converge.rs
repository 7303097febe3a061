//! Property: random edits and deletions on the master, interleaved with partitions, crashes and
//! restarts, always converge: once the network heals, every worker is connected again and two
//! intervals pass, every worker's synchronized files equal the master's.

mod flow;

use std::time::Duration;

use flow::{ROUND, all_connected, block_on_paused, cluster, worker_name};
use proptest::prelude::*;
use wazuh_cluster_core::testing::SimCluster;
use wazuh_cluster_core::testing::harness::MASTER_NAME;

const WORKERS: usize = 3;
/// Healing to every worker connected again (see the `schedules` property).
const RECOVERY_LIMIT: Duration = Duration::from_secs(240);
/// Round trips of one sync on the simulated links.
const TRANSFER: Duration = Duration::from_secs(2);

const PATHS: [&str; 10] = [
    "etc/client.keys",
    "etc/shared/default/agent.conf",
    "etc/shared/g1/agent.conf",
    "etc/shared/g1/merged.mg",
    "etc/shared/g2/agent.conf",
    "etc/shared/g2/sub/extra.txt",
    "var/multigroups/m1/merged.mg",
    "etc/rules/r1.xml",
    "etc/decoders/d1.xml",
    "etc/lists/l1",
];

#[derive(Debug, Clone)]
enum Step {
    Edit(usize, u8),
    Delete(usize),
    WorkerJunk(usize, usize),
    Partition(usize),
    Heal(usize),
    RestartWorker(usize),
    CrashWorker(usize),
    RestartMaster,
    Wait(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        5 => (0..PATHS.len(), any::<u8>()).prop_map(|(p, v)| Step::Edit(p, v)),
        3 => (0..PATHS.len()).prop_map(Step::Delete),
        1 => (0..WORKERS, 0..PATHS.len()).prop_map(|(w, p)| Step::WorkerJunk(w, p)),
        2 => (0..WORKERS).prop_map(Step::Partition),
        1 => (0..WORKERS).prop_map(Step::Heal),
        1 => (0..WORKERS).prop_map(Step::RestartWorker),
        1 => (0..WORKERS).prop_map(Step::CrashWorker),
        1 => Just(Step::RestartMaster),
        4 => (1u64..40).prop_map(Step::Wait),
    ]
}

async fn play(seed: u64, steps: Vec<Step>) {
    let mut sim = cluster(seed, WORKERS);
    sim.run_for(Duration::from_secs(5)).await;
    for step in &steps {
        match *step {
            Step::Edit(p, v) => sim
                .files(MASTER_NAME)
                .plant(PATHS[p], format!("{} v{v}", PATHS[p]).as_bytes()),
            Step::Delete(p) => {
                sim.files(MASTER_NAME).unplant(PATHS[p]);
            }
            Step::WorkerJunk(w, p) => sim
                .files(&worker_name(w))
                .plant(PATHS[p], b"stale content of the worker"),
            Step::Partition(w) => sim.partition(&worker_name(w), MASTER_NAME),
            Step::Heal(w) => sim.heal(&worker_name(w), MASTER_NAME),
            Step::RestartWorker(w) => sim.restart(&worker_name(w)),
            Step::CrashWorker(w) => {
                sim.crash(&worker_name(w));
                sim.start(&worker_name(w));
            }
            Step::RestartMaster => sim.restart(MASTER_NAME),
            Step::Wait(secs) => sim.run_for(Duration::from_secs(secs)).await,
        }
    }
    sim.heal_all();
    let connected = |sim: &SimCluster| all_connected(sim, &sim.worker_names());
    let recovered = sim.run_until(RECOVERY_LIMIT, connected).await;
    sim.check(
        recovered,
        format!("every worker connected again; steps {steps:?}"),
    );
    sim.run_for(ROUND * 2 + TRANSFER).await;
    let lagging: Vec<String> = sim
        .worker_names()
        .into_iter()
        .filter(|w| !sim.converged(w))
        .collect();
    sim.check(
        lagging.is_empty(),
        format!("{lagging:?} not converged two intervals after recovery; steps {steps:?}"),
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_edits_and_faults_always_converge(
        seed in any::<u64>(),
        steps in proptest::collection::vec(step(), 1..16),
    ) {
        block_on_paused(play(seed, steps));
    }
}
