//! A cluster of in-memory Raft nodes of the replicated registry under faults (crashes, restarts
//! on the log they kept, partitions, lost and delayed messages), on tokio's paused clock with
//! the daemon's timers, and the invariants it must keep, checked after every step:
//!
//! - one leader per term, over every (term, leader) any node ever reported;
//! - at most one node serving as master ([`Leadership`] with the daemon's lease) at any sampled
//!   instant;
//! - two nodes that applied the same log index applied the same entry and hold the same
//!   registry (state machine safety);
//! - every registration acknowledged (`client_write` answered `Ok`) is in every node that
//!   applied its entry, unless a deletion of it was attempted; acknowledged ids are unique and
//!   increase with their log index;
//! - after [`Harness::settle`] (faults cleared, every node running): every node holds the same
//!   registry, with every acknowledged registration and without any acknowledged deletion.
//!
//! The storage limit: [`MemoryLogStore`] acknowledges an append once it holds it, which is what
//! a store that fsyncs before acknowledging does; a restarted node gets back exactly what it had
//! acknowledged. It cannot model a torn or unsynced write lost by a power cut, nor a state
//! machine that lost applied entries (the SQLite state machine writes them in one transaction
//! with `last_applied`, so it comes back at some applied prefix, which openraft replays from).

#![allow(dead_code)] // each test binary uses part of the harness

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::join_all;
use openraft::async_runtime::WatchReceiver;
use openraft::{BasicNode, Config, ServerState, SnapshotPolicy};
use wazuh_cluster_core::agents::{AgentId, AgentIp, AgentKey};
use wazuh_cluster_core::replicated::memory::{MemoryLogStore, MemoryRouter, MemoryStateMachine};
use wazuh_cluster_core::replicated::runtime::seed_election_rng;
use wazuh_cluster_core::replicated::{
    Applied, CommandRefused, Leadership, PeerNetwork, Registry, RegistryCommand, RegistryLogId,
    RegistryRaft,
};

/// A node of the harness.
pub type Node = RegistryRaft<MemoryStateMachine>;

/// The daemon's timers (wazuh-clusterd `runtime::failover`): heartbeat, election timeout range
/// and the lease a leader must hold to serve as master.
pub const HEARTBEAT_MS: u64 = 250;
/// Shortest election timeout.
pub const ELECTION_MIN_MS: u64 = 1200;
/// Longest election timeout.
pub const ELECTION_MAX_MS: u64 = 2400;
/// How fresh a quorum acknowledgement must be for a leader to serve.
pub const LEASE: Duration = Duration::from_millis(1000);
/// How often the invariants are sampled while time advances.
pub const TICK: Duration = Duration::from_millis(100);
/// How long a client waits for a write before counting it as not acknowledged.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(3);

/// Storage that survives a crash, and the node running on it (if any).
struct Slot {
    log: MemoryLogStore,
    machine: MemoryStateMachine,
    raft: Option<Node>,
}

/// (term -> leaders reported in it), fed by a watcher on every node's metrics.
type Observations = Arc<Mutex<BTreeMap<u64, BTreeSet<u64>>>>;

/// A registration that was acknowledged.
#[derive(Debug, Clone)]
pub struct Acked {
    /// The agent's name.
    pub name: String,
    /// The log index of its entry.
    pub index: u64,
}

/// The cluster, its faults and what clients were told.
pub struct Harness {
    config: Arc<Config>,
    /// The network between the nodes, with its faults.
    pub router: MemoryRouter,
    slots: BTreeMap<u64, Slot>,
    observations: Observations,
    /// Registry seen at each applied log index (state machine safety).
    applied: BTreeMap<u64, (RegistryLogId, Registry)>,
    /// Acknowledged registrations, by id.
    pub acked: BTreeMap<AgentId, Acked>,
    /// Agents a deletion was proposed for (acknowledged or not).
    pub delete_attempted: BTreeSet<AgentId>,
    /// Agents whose deletion was acknowledged.
    pub deleted: BTreeSet<AgentId>,
    names: u32,
    started: tokio::time::Instant,
}

/// The daemon's Raft configuration, with snapshots every `snapshot_every` entries (small, to
/// exercise snapshot installs and log purges).
pub fn daemon_config(snapshot_every: u64) -> Config {
    Config {
        cluster_name: "fault-harness".to_owned(),
        heartbeat_interval: HEARTBEAT_MS,
        election_timeout_min: ELECTION_MIN_MS,
        election_timeout_max: ELECTION_MAX_MS,
        snapshot_policy: SnapshotPolicy::LogsSinceLast(snapshot_every),
        max_in_snapshot_log_to_keep: 0,
        ..Config::default()
    }
}

fn registration(name: &str) -> RegistryCommand {
    let mut key = [7u8; 32];
    let len = name.len().min(32);
    key[..len].copy_from_slice(&name.as_bytes()[..len]);
    RegistryCommand::RegisterAgent {
        id: None,
        name: name.to_owned(),
        ip: AgentIp::Any,
        key: AgentKey::from_bytes(key),
        groups: Vec::new(),
        registered_at: 1_700_000_000,
    }
}

impl Harness {
    /// Starts nodes `1..=size` with `config`, seeds elections and faults with `seed`, and
    /// initializes the group.
    pub async fn start(size: u64, config: Config, seed: u64) -> Harness {
        seed_election_rng(seed);
        let router = MemoryRouter::new();
        router.seed_faults(seed ^ 0xfa17);
        let mut harness = Harness {
            config: Arc::new(config.validate().expect("valid Raft config")),
            router,
            slots: BTreeMap::new(),
            observations: Arc::default(),
            applied: BTreeMap::new(),
            acked: BTreeMap::new(),
            delete_attempted: BTreeSet::new(),
            deleted: BTreeSet::new(),
            names: 0,
            started: tokio::time::Instant::now(),
        };
        for id in 1..=size {
            harness.slots.insert(
                id,
                Slot {
                    log: MemoryLogStore::new(),
                    machine: MemoryStateMachine::new(),
                    raft: None,
                },
            );
            harness.restart(id).await;
        }
        let members: BTreeMap<u64, BasicNode> = (1..=size)
            .map(|id| (id, BasicNode::new(format!("127.0.0.1:{}", 1515 + id))))
            .collect();
        harness
            .raft(1)
            .expect("node 1 runs")
            .initialize(members)
            .await
            .expect("the group initializes");
        harness
    }

    /// The node ids.
    pub fn ids(&self) -> Vec<u64> {
        self.slots.keys().copied().collect()
    }

    /// Node `id`'s Raft, if it runs.
    pub fn raft(&self, id: u64) -> Option<&Node> {
        self.slots.get(&id)?.raft.as_ref()
    }

    /// The running nodes.
    pub fn running(&self) -> Vec<u64> {
        self.slots
            .iter()
            .filter(|(_, s)| s.raft.is_some())
            .map(|(&id, _)| id)
            .collect()
    }

    /// Kills node `id` (nothing reaches it any more); its storage stays, as a disk would.
    pub async fn crash(&mut self, id: u64) {
        let Some(raft) = self.slots.get_mut(&id).and_then(|s| s.raft.take()) else {
            return;
        };
        self.router.remove(id);
        raft.shutdown().await.expect("node stops");
    }

    /// Starts node `id` again on the log and state machine it kept; no-op if it runs.
    pub async fn restart(&mut self, id: u64) {
        let slot = self.slots.get_mut(&id).expect("known node");
        if slot.raft.is_some() {
            return;
        }
        let raft = Node::new(
            id,
            self.config.clone(),
            PeerNetwork::new(Arc::new(self.router.for_node(id))),
            slot.log.clone(),
            slot.machine.clone(),
        )
        .await
        .expect("node starts on its storage");
        watch_leaders(&raft, self.observations.clone());
        self.router.add(id, raft.clone());
        slot.raft = Some(raft);
    }

    /// Lets `duration` of virtual time pass, checking who serves as master at every tick.
    pub async fn advance(&mut self, duration: Duration) {
        let mut left = duration;
        while !left.is_zero() {
            let step = left.min(TICK);
            tokio::time::sleep(step).await;
            left -= step;
            self.check_one_serving();
        }
    }

    /// The nodes that serve as master now (the daemon's rule).
    pub fn serving(&self) -> Vec<u64> {
        self.slots
            .iter()
            .filter_map(|(&id, slot)| {
                let raft = slot.raft.as_ref()?;
                Leadership::of(&raft.metrics().borrow_watched(), LEASE)
                    .leads()
                    .then_some(id)
            })
            .collect()
    }

    /// The running nodes that believe they lead (openraft's state), highest term first.
    pub fn leaders(&self) -> Vec<u64> {
        let mut leaders: Vec<(u64, u64)> = self
            .slots
            .iter()
            .filter_map(|(&id, slot)| {
                let metrics = slot.raft.as_ref()?.metrics().borrow_watched().clone();
                (metrics.state == ServerState::Leader).then_some((metrics.current_term, id))
            })
            .collect();
        leaders.sort_by(|a, b| b.cmp(a));
        leaders.into_iter().map(|(_, id)| id).collect()
    }

    /// Waits (virtual time, bounded) until a node serves as master; answers it.
    pub async fn wait_serving(&mut self, within: Duration) -> Option<u64> {
        let mut waited = Duration::ZERO;
        loop {
            if let Some(&id) = self.serving().first() {
                return Some(id);
            }
            if waited >= within {
                return None;
            }
            self.advance(TICK).await;
            waited += TICK;
        }
    }

    fn next_name(&mut self) -> String {
        self.names += 1;
        format!("agent-{:05}", self.names)
    }

    /// Proposes `count` registrations at once through node `via`, each waiting at most
    /// [`WRITE_TIMEOUT`]; records those acknowledged and answers how many were.
    pub async fn register_via(&mut self, via: u64, count: usize) -> usize {
        let Some(raft) = self.raft(via).cloned() else {
            return 0;
        };
        let names: Vec<String> = (0..count).map(|_| self.next_name()).collect();
        let writes = names.iter().map(|name| {
            let raft = raft.clone();
            let command = registration(name);
            async move { tokio::time::timeout(WRITE_TIMEOUT, raft.client_write(command)).await }
        });
        let answers = join_all(writes).await;
        let mut acknowledged = 0;
        for (name, answer) in names.into_iter().zip(answers) {
            let Ok(Ok(answer)) = answer else { continue };
            match answer.response().0 {
                Ok(Applied::Registered { id }) => {
                    let index = answer.log_id().index;
                    let earlier = self.acked.insert(id, Acked { name, index });
                    assert!(
                        earlier.is_none(),
                        "id {id} acknowledged twice: {earlier:?} and at index {index}"
                    );
                    acknowledged += 1;
                }
                ref other => panic!("registration of {name} answered {other:?}"),
            }
        }
        self.check_one_serving();
        acknowledged
    }

    /// Proposes `count` registrations through whichever node believes it leads (highest term).
    pub async fn register(&mut self, count: usize) -> usize {
        match self.leaders().first() {
            Some(&leader) => self.register_via(leader, count).await,
            None => 0,
        }
    }

    /// Proposes `count` registrations as a client that retries: through the node serving as
    /// master, waiting up to `patience` for one, else through whichever believes it leads.
    pub async fn register_patiently(&mut self, count: usize, patience: Duration) -> usize {
        match self.wait_serving(patience).await {
            Some(master) => self.register_via(master, count).await,
            None => self.register(count).await,
        }
    }

    /// Proposes `count` registrations through every node that believes it leads, one after
    /// the other: a deposed leader that does not know it yet takes them too (and must not
    /// acknowledge them).
    pub async fn register_to_every_leader(&mut self, count: usize) -> usize {
        let mut acknowledged = 0;
        for leader in self.leaders() {
            acknowledged += self.register_via(leader, count).await;
        }
        acknowledged
    }

    /// Proposes deleting the `pick`-th acknowledged agent not yet proposed for deletion,
    /// through the node that believes it leads.
    pub async fn delete(&mut self, pick: usize) {
        let candidates: Vec<AgentId> = self
            .acked
            .keys()
            .filter(|id| !self.delete_attempted.contains(id))
            .copied()
            .collect();
        let (Some(&id), Some(&leader)) = (
            candidates.get(pick % candidates.len().max(1)),
            self.leaders().first(),
        ) else {
            return;
        };
        let raft = self.raft(leader).cloned().expect("leader runs");
        self.delete_attempted.insert(id);
        let answer = tokio::time::timeout(
            WRITE_TIMEOUT,
            raft.client_write(RegistryCommand::DeleteAgent { id }),
        )
        .await;
        let Ok(Ok(answer)) = answer else { return };
        match answer.response().0 {
            Ok(Applied::Deleted { id: gone }) if gone == id => {
                self.deleted.insert(id);
            }
            Err(CommandRefused::NotFound { .. }) => {
                panic!("acknowledged agent {id} was not found when deleted: it was lost")
            }
            ref other => panic!("deletion of {id} answered {other:?}"),
        }
    }

    fn check_one_serving(&self) {
        let serving = self.serving();
        assert!(
            serving.len() <= 1,
            "nodes {serving:?} all serve as master {:?} after the start",
            self.started.elapsed()
        );
    }

    /// Checks every invariant that holds at any time (see the module docs).
    pub async fn check(&mut self) {
        self.check_one_serving();
        let observations = self.observations.lock().expect("observations").clone();
        for (term, leaders) in &observations {
            assert!(leaders.len() <= 1, "term {term} had leaders {leaders:?}");
        }
        let mut by_index: Vec<(u64, AgentId)> =
            self.acked.iter().map(|(&id, a)| (a.index, id)).collect();
        by_index.sort();
        for pair in by_index.windows(2) {
            assert!(
                pair[0].0 < pair[1].0 && pair[0].1 < pair[1].1,
                "acknowledged ids do not increase with their log index: {pair:?}"
            );
        }
        for (&node, slot) in &self.slots {
            let state = slot.machine.state().await;
            let data = state.registry.data();
            if let Some(&last) = data.agents.keys().next_back() {
                assert!(last < data.next_id, "node {node}: agent {last} >= next id");
            }
            let Some(applied) = state.last_applied else {
                continue;
            };
            match self.applied.get(&applied.index) {
                Some((log_id, registry)) => {
                    assert_eq!(
                        *log_id, applied,
                        "node {node} applied a different entry at index {}",
                        applied.index
                    );
                    assert!(
                        *registry == state.registry,
                        "node {node} holds another registry after the same entries (index {})",
                        applied.index
                    );
                }
                None => {
                    self.applied
                        .insert(applied.index, (applied, state.registry.clone()));
                }
            }
            for (id, acked) in &self.acked {
                if acked.index > applied.index || self.delete_attempted.contains(id) {
                    continue;
                }
                let agent = state.registry.agent(*id);
                assert_eq!(
                    agent.map(|a| a.name.as_str()),
                    Some(acked.name.as_str()),
                    "node {node} applied up to {} but lost acknowledged agent {id} (index {})",
                    applied.index,
                    acked.index
                );
            }
        }
    }

    /// Ends every fault (partitions, losses, delays), restarts every crashed node, waits
    /// (bounded) until all nodes applied the same log, then checks they hold the same registry
    /// with every acknowledged registration and without the acknowledged deletions.
    pub async fn settle(&mut self) {
        self.router.heal();
        self.router.set_drop_rate(0.0);
        self.router.set_max_delay(Duration::ZERO);
        for id in self.ids() {
            self.restart(id).await;
        }
        let mut waited = Duration::ZERO;
        while !self.converged() {
            assert!(
                waited < Duration::from_secs(120),
                "no convergence within 120 s of virtual time after healing: {:?}",
                self.metrics_summary()
            );
            self.advance(TICK).await;
            waited += TICK;
        }
        self.check().await;
        let mut registries = Vec::new();
        for slot in self.slots.values() {
            registries.push(slot.machine.state().await.registry);
        }
        for (node, registry) in self.ids().into_iter().zip(&registries) {
            assert!(
                *registry == registries[0],
                "node {node}'s registry differs from node 1's after healing"
            );
        }
        let registry = &registries[0];
        for (id, acked) in &self.acked {
            if self.deleted.contains(id) {
                assert!(registry.agent(*id).is_none(), "deleted agent {id} is back");
            } else if !self.delete_attempted.contains(id) {
                assert_eq!(
                    registry.agent(*id).map(|a| a.name.as_str()),
                    Some(acked.name.as_str()),
                    "acknowledged agent {id} is lost"
                );
            }
        }
    }

    /// Whether one node serves and every node applied all of its log.
    fn converged(&self) -> bool {
        let Some(&leader) = self.serving().first() else {
            return false;
        };
        let lead = self
            .raft(leader)
            .expect("runs")
            .metrics()
            .borrow_watched()
            .clone();
        let Some(committed) = lead.cluster_committed else {
            return false;
        };
        lead.last_log_index == Some(committed.index)
            && self.slots.values().all(|slot| {
                slot.raft.as_ref().is_some_and(|raft| {
                    let m = raft.metrics().borrow_watched().clone();
                    m.last_applied == Some(committed) && m.last_log_index == Some(committed.index)
                })
            })
    }

    fn metrics_summary(&self) -> Vec<String> {
        self.slots
            .iter()
            .map(|(id, slot)| match &slot.raft {
                Some(raft) => {
                    let m = raft.metrics().borrow_watched().clone();
                    format!(
                        "{id}: {:?} term {} leader {:?} log {:?} applied {:?}",
                        m.state, m.current_term, m.current_leader, m.last_log_index, m.last_applied
                    )
                }
                None => format!("{id}: down"),
            })
            .collect()
    }
}

/// Records every (term, leader) node `raft` reports, until it stops.
fn watch_leaders(raft: &Node, observations: Observations) {
    let mut metrics = raft.metrics();
    tokio::spawn(async move {
        loop {
            let seen = {
                let m = metrics.borrow_watched();
                m.current_leader.map(|leader| (m.current_term, leader))
            };
            if let Some((term, leader)) = seen {
                observations
                    .lock()
                    .expect("observations")
                    .entry(term)
                    .or_default()
                    .insert(leader);
            }
            if metrics.changed().await.is_err() {
                return;
            }
        }
    });
}
