//! A property test over random fault schedules on three in-memory nodes of the replicated
//! registry (the daemon's timers, tokio's paused clock, seeded elections and faults): crashes,
//! restarts on the kept log, partitions, heals, message loss and delay, bursts of registrations,
//! deletions and waits, with every invariant of `fault_harness` checked after every step and
//! convergence checked once the faults end.
//!
//! 256 cases by default; `PROPTEST_CASES=10000 cargo test -p wazuh-cluster-core --features
//! testing --test replicated_fault_schedules` runs more (TESTING.md gives the figures). A
//! failure prints the shrunk schedule and its seed, which replay it exactly: this binary has
//! one test, so nothing else draws from the process-wide election sequence.

mod fault_harness;

use std::time::Duration;

use fault_harness::{Harness, daemon_config};
use proptest::prelude::*;

/// One step of a schedule.
#[derive(Debug, Clone)]
enum Step {
    Crash(u64),
    /// Crashes the node that believes it leads (highest term).
    CrashLeader,
    /// Cuts the node that believes it leads off from the others.
    IsolateLeader,
    Restart(u64),
    /// These nodes on one side, the others on the other.
    Partition(Vec<u64>),
    Heal,
    /// Percent of messages lost, and the longest delay of the others.
    Network {
        drop_percent: u8,
        max_delay: Duration,
    },
    /// A burst through the serving master, waiting up to 5 s for one (a client retrying).
    Register(usize),
    /// A burst through every node that believes it leads, deposed ones included.
    RegisterToEveryLeader(usize),
    /// Deletes the n-th acknowledged agent still there.
    Delete(usize),
    Advance(Duration),
}

const NODES: u64 = 3;

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        2 => (1..=NODES).prop_map(Step::Crash),
        2 => Just(Step::CrashLeader),
        2 => Just(Step::IsolateLeader),
        2 => (1..=NODES).prop_map(Step::Restart),
        2 => proptest::sample::subsequence((1..=NODES).collect::<Vec<_>>(), 1..NODES as usize)
            .prop_map(Step::Partition),
        2 => Just(Step::Heal),
        1 => (0u8..=40, 0u64..=300).prop_map(|(drop_percent, ms)| Step::Network {
            drop_percent,
            max_delay: Duration::from_millis(ms),
        }),
        5 => (1usize..=8).prop_map(Step::Register),
        1 => (1usize..=4).prop_map(Step::RegisterToEveryLeader),
        2 => any::<usize>().prop_map(Step::Delete),
        3 => (100u64..=6000).prop_map(|ms| Step::Advance(Duration::from_millis(ms))),
    ]
}

async fn run(seed: u64, snapshot_every: u64, schedule: Vec<Step>) {
    let mut harness = Harness::start(NODES, daemon_config(snapshot_every), seed).await;
    harness.wait_serving(Duration::from_secs(15)).await;
    harness.check().await;
    for step in schedule {
        match step {
            Step::Crash(id) => harness.crash(id).await,
            Step::CrashLeader => {
                if let Some(&leader) = harness.leaders().first() {
                    harness.crash(leader).await;
                }
            }
            Step::IsolateLeader => {
                if let Some(&leader) = harness.leaders().first() {
                    let others: Vec<u64> = harness
                        .ids()
                        .into_iter()
                        .filter(|&id| id != leader)
                        .collect();
                    harness.router.partition(&[&[leader], &others]);
                }
            }
            Step::Restart(id) => harness.restart(id).await,
            Step::Partition(side) => {
                let other: Vec<u64> = harness
                    .ids()
                    .into_iter()
                    .filter(|id| !side.contains(id))
                    .collect();
                harness.router.partition(&[&side, &other]);
            }
            Step::Heal => harness.router.heal(),
            Step::Network {
                drop_percent,
                max_delay,
            } => {
                harness
                    .router
                    .set_drop_rate(f64::from(drop_percent) / 100.0);
                harness.router.set_max_delay(max_delay);
            }
            Step::Register(count) => {
                harness
                    .register_patiently(count, Duration::from_secs(5))
                    .await;
            }
            Step::RegisterToEveryLeader(count) => {
                harness.register_to_every_leader(count).await;
            }
            Step::Delete(pick) => harness.delete(pick).await,
            Step::Advance(duration) => harness.advance(duration).await,
        }
        harness.check().await;
    }
    harness.settle().await;
}

/// 256 cases, or `PROPTEST_CASES`.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn no_fault_schedule_breaks_the_invariants(
        seed in any::<u64>(),
        snapshot_every in prop_oneof![Just(10u64), Just(1000)],
        schedule in proptest::collection::vec(step(), 4..20),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("a current-thread runtime");
        runtime.block_on(run(seed, snapshot_every, schedule));
    }
}
