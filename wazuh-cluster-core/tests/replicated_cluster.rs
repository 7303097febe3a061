//! Three in-memory Raft nodes of the replicated registry on tokio's paused clock: a leader is
//! elected, registrations are acknowledged, the leader is killed, another is elected, and
//! every acknowledged registration is on every surviving node; a node cut off while the log is
//! compacted catches up from a snapshot.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use openraft::async_runtime::WatchReceiver;
use openraft::{BasicNode, Config, SnapshotPolicy};
use wazuh_cluster_core::agents::{AgentId, AgentIp, AgentKey};
use wazuh_cluster_core::replicated::memory::{MemoryLogStore, MemoryRouter, MemoryStateMachine};
use wazuh_cluster_core::replicated::runtime::seed_election_rng;
use wazuh_cluster_core::replicated::{
    Applied, CommandRefused, PeerNetwork, RegistryCommand, RegistryRaft,
};

type Node = RegistryRaft<MemoryStateMachine>;

/// Virtual-time bound on every wait: far above any election or replication here.
const WAIT: Option<Duration> = Some(Duration::from_secs(30));

struct Cluster {
    router: MemoryRouter,
    nodes: BTreeMap<u64, (Node, MemoryStateMachine)>,
}

impl Cluster {
    async fn start(ids: &[u64], config: Config) -> Cluster {
        let config = Arc::new(config.validate().expect("valid Raft config"));
        let router = MemoryRouter::new();
        let mut nodes = BTreeMap::new();
        for &id in ids {
            let machine = MemoryStateMachine::new();
            let raft = Node::new(
                id,
                config.clone(),
                PeerNetwork::new(Arc::new(router.clone())),
                MemoryLogStore::new(),
                machine.clone(),
            )
            .await
            .expect("Raft node starts");
            router.add(id, raft.clone());
            nodes.insert(id, (raft, machine));
        }
        let members: BTreeMap<u64, BasicNode> = ids
            .iter()
            .map(|&id| (id, BasicNode::new(format!("127.0.0.1:{}", 1515 + id))))
            .collect();
        nodes[&ids[0]]
            .0
            .initialize(members)
            .await
            .expect("cluster initializes");
        Cluster { router, nodes }
    }

    /// Waits until a node other than `not` leads, as seen by every node in the cluster.
    async fn leader(&self, not: Option<u64>) -> u64 {
        let (first, _) = self.nodes.values().next().expect("a node");
        let metrics = first
            .wait(WAIT)
            .metrics(
                |m| m.current_leader.is_some() && m.current_leader != not,
                "a new leader",
            )
            .await
            .expect("a leader is elected");
        let leader = metrics.current_leader.expect("leader");
        self.nodes[&leader]
            .0
            .wait(WAIT)
            .leader_with_quorum_acked(None, "leader with a lease")
            .await
            .expect("the leader knows it leads and a quorum acknowledged it");
        leader
    }

    /// Kills node `id`: it answers nothing any more and stops.
    async fn kill(&mut self, id: u64) {
        self.router.remove(id);
        let (raft, _) = self.nodes.remove(&id).expect("node exists");
        raft.shutdown().await.expect("node stops");
    }

    /// Registers `names` concurrently through `leader`; answers the ids acknowledged.
    async fn register(&self, leader: u64, names: impl Iterator<Item = String>) -> Vec<AgentId> {
        let raft = &self.nodes[&leader].0;
        let writes = names.map(|name| raft.client_write(registration(&name)));
        let mut ids = Vec::new();
        for answer in join_all(writes).await {
            let answer = answer.expect("the leader commits the registration");
            match answer.response().0 {
                Ok(Applied::Registered { id }) => ids.push(id),
                ref other => panic!("registration answered {other:?}"),
            }
        }
        ids
    }

    /// Waits until every node has applied what `leader` has applied.
    async fn settle(&self, leader: u64) {
        let applied = self.nodes[&leader]
            .0
            .metrics()
            .borrow_watched()
            .last_applied;
        let index = applied.map(|id| id.index);
        for (raft, _) in self.nodes.values() {
            raft.wait(WAIT)
                .applied_index_at_least(index, "caught up")
                .await
                .expect("every node applies the leader's log");
        }
    }
}

fn registration(name: &str) -> RegistryCommand {
    let mut key = [0u8; 32];
    key[..name.len().min(32)].copy_from_slice(&name.as_bytes()[..name.len().min(32)]);
    RegistryCommand::RegisterAgent {
        id: None,
        name: name.to_owned(),
        ip: AgentIp::Any,
        key: AgentKey::from_bytes(key),
        groups: Vec::new(),
        registered_at: 1_700_000_000,
    }
}

fn fast_timers() -> Config {
    Config {
        heartbeat_interval: 50,
        election_timeout_min: 150,
        election_timeout_max: 300,
        ..Default::default()
    }
}

#[tokio::test(start_paused = true)]
async fn every_acknowledged_registration_survives_the_leader() {
    seed_election_rng(7);
    let mut cluster = Cluster::start(&[1, 2, 3], fast_timers()).await;
    let leader = cluster.leader(None).await;

    let acknowledged = cluster
        .register(leader, (0..1000).map(|i| format!("agent-{i:04}")))
        .await;
    assert_eq!(acknowledged.len(), 1000);
    let distinct: std::collections::BTreeSet<_> = acknowledged.iter().collect();
    assert_eq!(distinct.len(), 1000, "every registration got its own id");

    cluster.kill(leader).await;
    let successor = cluster.leader(Some(leader)).await;
    assert_ne!(successor, leader);

    // The new leader takes writes, and still applies the registry's rules.
    let more = cluster
        .register(successor, std::iter::once("after-failover".to_owned()))
        .await;
    assert_eq!(more, [AgentId(1001)], "ids keep increasing across leaders");
    let duplicate = cluster.nodes[&successor]
        .0
        .client_write(registration("agent-0001"))
        .await
        .expect("a refused command still commits");
    assert!(matches!(
        duplicate.response().0,
        Err(CommandRefused::DuplicateName { .. })
    ));

    cluster.settle(successor).await;
    let mut registries = Vec::new();
    for (id, (_, machine)) in &cluster.nodes {
        let state = machine.state().await;
        for agent in acknowledged.iter().chain(&more) {
            assert!(
                state.registry.agent(*agent).is_some(),
                "node {id} lost acknowledged agent {agent}"
            );
        }
        assert_eq!(state.registry.data().agents.len(), 1001);
        registries.push(state.registry);
    }
    assert_eq!(registries.len(), 2);
    assert_eq!(
        registries[0], registries[1],
        "survivors hold the same registry"
    );
}

#[tokio::test(start_paused = true)]
async fn a_node_behind_a_compacted_log_catches_up_from_a_snapshot() {
    seed_election_rng(11);
    let config = Config {
        snapshot_policy: SnapshotPolicy::LogsSinceLast(50),
        max_in_snapshot_log_to_keep: 0,
        ..fast_timers()
    };
    let cluster = Cluster::start(&[1, 2, 3], config).await;
    let leader = cluster.leader(None).await;
    let lagging = *cluster
        .nodes
        .keys()
        .find(|&&id| id != leader)
        .expect("a follower");

    // Cut the follower off (it keeps running) while the others commit and compact.
    let cut = cluster.router.remove(lagging).expect("lagging node");
    cluster
        .register(leader, (0..300).map(|i| format!("host-{i:03}")))
        .await;
    let metrics = cluster.nodes[&leader]
        .0
        .wait(WAIT)
        .metrics(|m| m.purged.is_some(), "log purged")
        .await
        .expect("the leader compacts its log");
    let purged = metrics.purged.expect("purged").index;
    let lagging_last = cut.metrics().borrow_watched().last_log_index;
    assert!(
        lagging_last < Some(purged),
        "the entries the follower lacks are gone from the leader's log ({lagging_last:?} < {purged})"
    );

    cluster.router.add(lagging, cut);
    cluster.settle(leader).await;
    let leader_state = cluster.nodes[&leader].1.state().await;
    let lagging_state = cluster.nodes[&lagging].1.state().await;
    assert_eq!(lagging_state.registry.data().agents.len(), 300);
    assert_eq!(lagging_state.registry, leader_state.registry);
}
