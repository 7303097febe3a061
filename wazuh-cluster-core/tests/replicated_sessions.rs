//! Raft over the cluster's sessions: three nodes whose RPCs are `raft_*` requests on
//! in-memory session pairs elect a leader, replicate registrations and survive the leader's
//! death; a node that answers Wazuh's "unknown command" (as a Python node does) is reported as
//! not a Raft peer.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use common::session_end;
use futures_util::future::join_all;
use openraft::async_runtime::WatchReceiver;
use openraft::raft::VoteRequest;
use openraft::{BasicNode, Config, Vote};
use wazuh_cluster_core::agents::{AgentIp, AgentKey};
use wazuh_cluster_core::replicated::memory::{MemoryLogStore, MemoryStateMachine};
use wazuh_cluster_core::replicated::runtime::seed_election_rng;
use wazuh_cluster_core::replicated::{
    Applied, MemberDirectory, PeerConnector, PeerError, PeerNetwork, RegistryCommand, RegistryRaft,
    SessionConnector, SessionSource, install_raft_routes,
};
use wazuh_cluster_core::session::{Router, SessionHandle};
use wazuh_cluster_core::testing::{VirtualClock, memory_pair};

type Node = RegistryRaft<MemoryStateMachine>;

const WAIT: Option<Duration> = Some(Duration::from_secs(30));

/// The sessions one node holds to the others, by member id.
#[derive(Default)]
struct Sessions(Mutex<BTreeMap<u64, SessionHandle>>);

#[async_trait]
impl SessionSource for Sessions {
    async fn session(&self, target: u64, node: &BasicNode) -> Result<SessionHandle, PeerError> {
        let sessions = self.0.lock().unwrap_or_else(|p| p.into_inner());
        sessions
            .get(&target)
            .filter(|s| !s.is_closed())
            .cloned()
            .ok_or_else(|| PeerError::Unreachable {
                reason: format!("no session to node {target} ({})", node.addr),
            })
    }
}

fn addr(id: u64) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 1515 + id as u16))
}

/// One end of a session pair, answering with `router`.
fn end(
    transport: wazuh_cluster_core::BoxTransport,
    router: Router<()>,
    clock: &Arc<VirtualClock>,
    peer: u64,
) -> SessionHandle {
    session_end(transport, router, clock.clone(), 0, addr(peer), "Raft")
}

fn raft_router(raft: &Node, id: u64) -> Router<()> {
    let mut router = Router::new();
    install_raft_routes(
        &mut router,
        raft.clone(),
        &MemberDirectory::new(id, format!("master-{id}")),
    )
    .expect("raft routes");
    router
}

fn registration(i: u32) -> RegistryCommand {
    RegistryCommand::RegisterAgent {
        id: None,
        name: format!("agent-{i:03}"),
        ip: AgentIp::Any,
        key: AgentKey::from_bytes([9; 32]),
        groups: Vec::new(),
        registered_at: 1_700_000_000,
    }
}

#[tokio::test(start_paused = true)]
async fn three_nodes_replicate_over_sessions_and_survive_the_leader() {
    seed_election_rng(3);
    let clock = Arc::new(VirtualClock::default());
    let config = Arc::new(
        Config {
            heartbeat_interval: 50,
            election_timeout_min: 150,
            election_timeout_max: 300,
            ..Config::default()
        }
        .validate()
        .expect("config"),
    );
    let ids = [1u64, 2, 3];
    let mut nodes = BTreeMap::new();
    let mut sources = BTreeMap::new();
    for id in ids {
        let sessions = Arc::new(Sessions::default());
        let machine = MemoryStateMachine::new();
        let raft = Node::new(
            id,
            config.clone(),
            PeerNetwork::new(Arc::new(SessionConnector::new(
                sessions.clone(),
                MemberDirectory::new(id, format!("master-{id}")),
            ))),
            MemoryLogStore::new(),
            machine.clone(),
        )
        .await
        .expect("node starts");
        nodes.insert(id, (raft, machine));
        sources.insert(id, sessions);
    }
    // One session pair per two members; each end answers with its own node's routes.
    for (i, j) in [(1u64, 2u64), (1, 3), (2, 3)] {
        let (a, b) = memory_pair(addr(i), addr(j));
        let at_i = end(a, raft_router(&nodes[&i].0, i), &clock, j);
        let at_j = end(b, raft_router(&nodes[&j].0, j), &clock, i);
        sources[&i].0.lock().expect("lock").insert(j, at_i);
        sources[&j].0.lock().expect("lock").insert(i, at_j);
    }
    let members: BTreeMap<u64, BasicNode> = ids
        .iter()
        .map(|&id| (id, BasicNode::new(addr(id).to_string())))
        .collect();
    nodes[&1].0.initialize(members).await.expect("initialize");

    let leader_of = |nodes: &BTreeMap<u64, (Node, MemoryStateMachine)>, not: Option<u64>| {
        let (first, _) = nodes.values().next().expect("a node").clone();
        async move {
            first
                .wait(WAIT)
                .metrics(
                    |m| m.current_leader.is_some() && m.current_leader != not,
                    "leader",
                )
                .await
                .expect("a leader")
                .current_leader
                .expect("leader")
        }
    };
    let leader = leader_of(&nodes, None).await;
    nodes[&leader]
        .0
        .wait(WAIT)
        .leader_with_quorum_acked(None, "lease")
        .await
        .expect("lease");
    let writes = (0..100).map(|i| nodes[&leader].0.client_write(registration(i)));
    let mut acknowledged = Vec::new();
    for answer in join_all(writes).await {
        match answer.expect("committed").response().0 {
            Ok(Applied::Registered { id }) => acknowledged.push(id),
            ref other => panic!("registration answered {other:?}"),
        }
    }

    // Kill the leader: its Raft stops and every session it had closes.
    let (dead, _) = nodes.remove(&leader).expect("leader");
    dead.shutdown().await.expect("stops");
    for (_, session) in sources[&leader].0.lock().expect("lock").iter() {
        session.close();
    }
    let successor = leader_of(&nodes, Some(leader)).await;
    nodes[&successor]
        .0
        .wait(WAIT)
        .leader_with_quorum_acked(None, "lease")
        .await
        .expect("the survivors elect a leader over sessions");
    let answer = nodes[&successor]
        .0
        .client_write(registration(500))
        .await
        .expect("the new leader commits");
    assert!(answer.response().0.is_ok());
    let index = answer.log_id().index;
    for (id, (raft, machine)) in &nodes {
        raft.wait(WAIT)
            .applied_index_at_least(Some(index), "caught up")
            .await
            .expect("applied");
        let state = machine.state().await;
        for agent in &acknowledged {
            assert!(
                state.registry.agent(*agent).is_some(),
                "node {id} lost {agent}"
            );
        }
        assert_eq!(state.registry.data().agents.len(), 101);
    }
}

#[tokio::test(start_paused = true)]
async fn a_node_that_does_not_know_raft_is_not_a_raft_peer() {
    let clock = Arc::new(VirtualClock::default());
    let (a, b) = memory_pair(addr(1), addr(4));
    let to_python = end(a, Router::new(), &clock, 4);
    // The other end knows no `raft_*` command: it answers Wazuh's plain-text error.
    let _python = end(b, Router::new(), &clock, 1);
    let sessions = Arc::new(Sessions::default());
    sessions.0.lock().expect("lock").insert(4, to_python);
    let peer = SessionConnector::new(sessions, MemberDirectory::new(1, "master-1"))
        .connect(4, &BasicNode::new(addr(4).to_string()));
    let request = VoteRequest::new(Vote::new(1, 1), None);
    match peer.vote(request.clone()).await {
        Err(PeerError::NotRaftPeer { reason }) => {
            assert!(reason.contains("unknown command"), "{reason}");
        }
        other => panic!("expected NotRaftPeer, got {other:?}"),
    }
    // No session at all: unreachable, and openraft backs off.
    let nobody = SessionConnector::new(
        Arc::new(Sessions::default()),
        MemberDirectory::new(1, "master-1"),
    )
    .connect(5, &BasicNode::new(addr(5).to_string()));
    assert!(matches!(
        nobody.vote(request).await,
        Err(PeerError::Unreachable { .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn a_request_meant_for_another_member_is_refused() {
    let clock = Arc::new(VirtualClock::default());
    let node2 = Node::new(
        2,
        Arc::new(Config::default().validate().expect("config")),
        PeerNetwork::new(Arc::new(SessionConnector::new(
            Arc::new(Sessions::default()),
            MemberDirectory::new(2, "master-2"),
        ))),
        MemoryLogStore::new(),
        MemoryStateMachine::new(),
    )
    .await
    .expect("node starts");
    let (a, b) = memory_pair(addr(1), addr(2));
    let to_node2 = end(a, Router::new(), &clock, 2);
    let _node2_end = end(b, raft_router(&node2, 2), &clock, 1);
    // `<nodes>` wrongly gives node 3's address to node 2's daemon.
    let sessions = Arc::new(Sessions::default());
    sessions.0.lock().expect("lock").insert(3, to_node2);
    let peer = SessionConnector::new(sessions, MemberDirectory::new(1, "master-1"))
        .connect(3, &BasicNode::new(addr(2).to_string()));
    match peer.vote(VoteRequest::new(Vote::new(1, 1), None)).await {
        Err(PeerError::Unreachable { reason }) => {
            assert!(
                reason.contains("for Raft node 3 reached node 2"),
                "{reason}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let vote = node2.metrics().borrow_watched().vote;
    assert_eq!(vote.leader_id().term, 0, "node 2 granted nothing");
    node2.shutdown().await.expect("stops");
}
