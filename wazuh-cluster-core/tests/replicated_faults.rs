//! The replicated registry under faults, each scenario on three in-memory nodes with the
//! daemon's timers on tokio's paused clock, every invariant of `fault_harness` checked after
//! every step: the leader crashes; the leader is cut off from the majority (it commits nothing
//! and stops serving as master once its quorum acknowledgement is older than the lease); a
//! minority is cut off and heals; messages are lost; nodes restart on the log they kept.

mod fault_harness;

use std::time::Duration;

use fault_harness::{ELECTION_MAX_MS, Harness, LEASE, daemon_config};
use openraft::async_runtime::WatchReceiver;
use wazuh_cluster_core::replicated::runtime::RaftInstant;

/// Long enough for any election with the daemon's timers (a few timeouts).
const ELECTION: Duration = Duration::from_secs(15);

async fn started(seed: u64) -> (Harness, u64) {
    let mut harness = Harness::start(3, daemon_config(1000), seed).await;
    let leader = harness
        .wait_serving(ELECTION)
        .await
        .expect("a first master is elected");
    harness.check().await;
    (harness, leader)
}

#[tokio::test(start_paused = true)]
async fn the_leader_crashes_and_no_acknowledged_registration_is_lost() {
    let (mut harness, leader) = started(21).await;
    assert_eq!(harness.register(40).await, 40);
    harness.check().await;

    harness.crash(leader).await;
    harness.check().await;
    let successor = harness
        .wait_serving(ELECTION)
        .await
        .expect("the survivors elect a master");
    assert_ne!(successor, leader);
    harness.check().await;
    assert_eq!(
        harness.register(10).await,
        10,
        "the new master takes writes"
    );
    harness.check().await;

    harness.settle().await;
    assert_eq!(harness.acked.len(), 50);
}

#[tokio::test(start_paused = true)]
async fn a_leader_cut_off_from_the_majority_commits_nothing_and_stops_serving() {
    let (mut harness, old) = started(22).await;
    assert_eq!(harness.register(20).await, 20);
    harness.check().await;
    let majority: Vec<u64> = harness.ids().into_iter().filter(|&id| id != old).collect();

    harness.router.partition(&[&[old], &majority]);
    let old_raft = harness.raft(old).expect("old leader runs").clone();
    let applied_before = old_raft.metrics().borrow_watched().last_applied;

    // Writes to the old leader while it is cut off are never acknowledged.
    assert_eq!(
        harness.register_via(old, 5).await,
        0,
        "a leader without a quorum acknowledged a write"
    );
    harness.check().await;
    harness.advance(LEASE).await;
    harness.check().await;
    let metrics = old_raft.metrics().borrow_watched().clone();
    assert_eq!(
        metrics.last_applied, applied_before,
        "the cut-off leader applied entries"
    );
    let acked = metrics
        .last_quorum_acked
        .expect("it was acknowledged before the partition");
    let age = <RaftInstant as openraft_rt::Instant>::now() - *acked;
    assert!(
        age > LEASE,
        "its last quorum acknowledgement ({age:?} ago) should be older than the lease"
    );
    assert!(
        !harness.serving().contains(&old),
        "a leader with a stale quorum acknowledgement still serves"
    );

    let successor = harness
        .wait_serving(ELECTION)
        .await
        .expect("the majority elects a master");
    assert!(majority.contains(&successor));
    assert_eq!(harness.register(10).await, 10);
    harness.check().await;
    assert_eq!(
        old_raft.metrics().borrow_watched().last_applied,
        applied_before,
        "the cut-off leader applied entries while the majority moved on"
    );

    harness.settle().await;
    assert_eq!(harness.acked.len(), 30);
}

#[tokio::test(start_paused = true)]
async fn a_cut_off_follower_catches_up_after_healing() {
    let (mut harness, leader) = started(23).await;
    let follower = harness
        .ids()
        .into_iter()
        .find(|&id| id != leader)
        .expect("a follower");
    let others: Vec<u64> = harness
        .ids()
        .into_iter()
        .filter(|&id| id != follower)
        .collect();
    harness.router.partition(&[&[follower], &others]);

    for _ in 0..4 {
        assert_eq!(harness.register(10).await, 10, "the majority takes writes");
        harness
            .advance(Duration::from_millis(ELECTION_MAX_MS))
            .await;
        harness.check().await;
    }
    assert_eq!(
        harness.serving(),
        [leader],
        "the cut-off follower's elections do not depose the leader"
    );
    harness.router.heal();
    harness.advance(Duration::from_secs(2)).await;
    harness.check().await;
    harness.settle().await;
}

#[tokio::test(start_paused = true)]
async fn lost_and_delayed_messages_lose_no_acknowledged_registration() {
    let (mut harness, _) = started(24).await;
    harness.router.set_drop_rate(0.2);
    harness.router.set_max_delay(Duration::from_millis(50));
    let mut acknowledged = 0;
    for _ in 0..10 {
        acknowledged += harness.register(8).await;
        harness.check().await;
        harness.advance(Duration::from_millis(500)).await;
        harness.check().await;
    }
    assert!(
        acknowledged > 0,
        "with 20% loss some registrations still commit"
    );
    harness.settle().await;
    assert!(harness.acked.len() >= acknowledged);
}

#[tokio::test(start_paused = true)]
async fn nodes_restarted_on_their_log_keep_every_acknowledged_registration() {
    let (mut harness, leader) = started(25).await;
    assert_eq!(harness.register(15).await, 15);
    let follower = harness
        .ids()
        .into_iter()
        .find(|&id| id != leader)
        .expect("a follower");

    // A follower down while the others write, back on its log.
    harness.crash(follower).await;
    assert_eq!(harness.register(15).await, 15);
    harness.check().await;
    harness.restart(follower).await;
    harness.advance(Duration::from_secs(2)).await;
    harness.check().await;

    // The leader down and back: it rejoins as a follower of the new master.
    harness.crash(leader).await;
    let successor = harness.wait_serving(ELECTION).await.expect("a new master");
    assert_eq!(harness.register(5).await, 5);
    harness.restart(leader).await;
    harness.advance(Duration::from_secs(2)).await;
    harness.check().await;
    assert_eq!(harness.serving(), [successor]);

    // Every node down at once, then all back: the logs hold everything acknowledged.
    for id in harness.ids() {
        harness.crash(id).await;
    }
    harness.check().await;
    for id in harness.ids() {
        harness.restart(id).await;
    }
    harness
        .wait_serving(ELECTION)
        .await
        .expect("a master after a full restart");
    harness.check().await;
    assert_eq!(harness.register(5).await, 5);
    harness.settle().await;
    assert_eq!(harness.acked.len(), 40);
}
