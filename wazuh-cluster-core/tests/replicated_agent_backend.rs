//! The replicated registry as the master's registry backend: on the leader a registration,
//! group change and deletion are committed through Raft, then adopted by the local registry
//! (store and `client.keys`); on a follower nothing changes and the answer names the master;
//! with the quorum gone, a change is answered as not committed instead of hanging.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use openraft::async_runtime::WatchReceiver;
use openraft::{BasicNode, Config};
use wazuh_cluster_core::agents::{
    AgentError, AgentId, AgentRegistry, AgentStore, MemoryAgentStore, RegistryBackend,
};
use wazuh_cluster_core::files::ClusterItems;
use wazuh_cluster_core::files::memory::MemoryFileSource;
use wazuh_cluster_core::replicated::memory::{MemoryLogStore, MemoryRouter, MemoryStateMachine};
use wazuh_cluster_core::replicated::runtime::seed_election_rng;
use wazuh_cluster_core::replicated::{PeerNetwork, RegistryRaft, ReplicatedRegistry};
use wazuh_cluster_core::testing::VirtualClock;

type Node = RegistryRaft<MemoryStateMachine>;

const WAIT: Option<Duration> = Some(Duration::from_secs(30));

struct Member {
    raft: Node,
    machine: MemoryStateMachine,
    store: Arc<MemoryAgentStore>,
    files: Arc<MemoryFileSource>,
    backend: ReplicatedRegistry<MemoryStateMachine>,
}

async fn cluster(ids: &[u64]) -> (MemoryRouter, BTreeMap<u64, Member>) {
    seed_election_rng(11);
    let config = Arc::new(
        Config {
            heartbeat_interval: 50,
            election_timeout_min: 150,
            election_timeout_max: 300,
            ..Default::default()
        }
        .validate()
        .expect("config"),
    );
    let router = MemoryRouter::new();
    let clock = Arc::new(VirtualClock::default());
    let mut members = BTreeMap::new();
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
        .expect("node starts");
        router.add(id, raft.clone());
        let store = Arc::new(MemoryAgentStore::new());
        let files = Arc::new(MemoryFileSource::new(ClusterItems::wazuh_default()));
        let local = Arc::new(AgentRegistry::new(
            store.clone(),
            files.clone(),
            clock.clone(),
            Some(id),
        ));
        let backend = ReplicatedRegistry::new(raft.clone(), local)
            .with_commit_timeout(Duration::from_secs(5));
        members.insert(
            id,
            Member {
                raft,
                machine,
                store,
                files,
                backend,
            },
        );
    }
    let nodes: BTreeMap<u64, BasicNode> = ids
        .iter()
        .map(|&id| (id, BasicNode::new(format!("127.0.0.1:{}", 1515 + id))))
        .collect();
    members[&ids[0]]
        .raft
        .initialize(nodes)
        .await
        .expect("initialize");
    (router, members)
}

async fn leader(members: &BTreeMap<u64, Member>) -> u64 {
    let first = members.values().next().expect("a member");
    let id = first
        .raft
        .wait(WAIT)
        .metrics(|m| m.current_leader.is_some(), "a leader")
        .await
        .expect("a leader")
        .current_leader
        .expect("leader");
    members[&id]
        .raft
        .wait(WAIT)
        .leader_with_quorum_acked(None, "lease")
        .await
        .expect("quorum");
    id
}

fn client_keys(member: &Member) -> String {
    String::from_utf8(
        member
            .files
            .snapshot()
            .get("etc/client.keys")
            .cloned()
            .unwrap_or_default(),
    )
    .expect("utf-8")
}

#[tokio::test(start_paused = true)]
async fn the_leader_commits_then_adopts_and_a_follower_refuses() {
    let (router, members) = cluster(&[1, 2, 3]).await;
    let lead = leader(&members).await;
    let backend = &members[&lead].backend;
    let first = backend
        .register("web-01", "any", &[])
        .await
        .expect("registered");
    let second = backend
        .register("web-02", "10.0.0.2", &[])
        .await
        .expect("registered");
    assert_eq!((first.id, second.id), (AgentId(1), AgentId(2)));
    backend.create_group("dmz").await.expect("group created");
    backend
        .assign_group(second.id, "dmz")
        .await
        .expect("assigned");
    let duplicate = backend.register("web-01", "any", &[]).await;
    assert!(
        matches!(&duplicate, Err(e) if e.code() == 1705),
        "{duplicate:?}"
    );

    // Adopted locally: the store and client.keys of the leader.
    let stored = members[&lead].store.agents().await.expect("agents");
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[1].groups, ["default", "dmz"]);
    let keys = client_keys(&members[&lead]);
    assert!(
        keys.contains(&format!("001 web-01 any {}", first.key.as_str())),
        "{keys}"
    );
    assert!(keys.contains("002 web-02 10.0.0.2 "), "{keys}");

    // Committed on every member's state machine.
    let index = members[&lead]
        .raft
        .metrics()
        .borrow_watched()
        .last_applied
        .map(|l| l.index);
    for member in members.values() {
        member
            .raft
            .wait(WAIT)
            .applied_index_at_least(index, "caught up")
            .await
            .expect("applied");
        let state = member.machine.state().await;
        assert_eq!(state.registry.data().agents.len(), 2);
    }

    // A follower changes nothing and names the master.
    let follower = members
        .keys()
        .find(|&&id| id != lead)
        .copied()
        .expect("follower");
    match members[&follower]
        .backend
        .register("web-03", "any", &[])
        .await
    {
        Err(AgentError::NotCommitted { reason, .. }) => {
            assert!(reason.contains(&format!("node {lead}")), "{reason}");
        }
        other => panic!("a follower answered {other:?}"),
    }
    assert!(
        members[&follower]
            .store
            .agents()
            .await
            .expect("agents")
            .is_empty()
    );

    // Deletion is adopted too.
    backend.delete(first.id).await.expect("deleted");
    assert!(!client_keys(&members[&lead]).contains("web-01"));

    // Without a quorum the leader answers "not committed", it does not hang.
    for id in members.keys().filter(|&&id| id != lead) {
        router.remove(*id);
    }
    match backend.register("web-04", "any", &[]).await {
        Err(AgentError::NotCommitted { reason, .. }) => {
            assert!(reason.contains("quorum"), "{reason}");
        }
        other => panic!("without a quorum: {other:?}"),
    }
    assert!(!client_keys(&members[&lead]).contains("web-04"));
}
