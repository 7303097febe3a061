//! RPCs between `Raft` nodes of one process: each call goes straight to the target's `Raft`.
//! Removing a node makes it unreachable, as a killed process would be. The nodes may keep
//! their state anywhere (in memory, SQLite): the router is generic over the state machine.
//!
//! The router also injects faults, drawn from a seed ([`MemoryRouter::seed_faults`]): lost
//! messages (a lost request or reply gets no answer, so openraft's deadline ends the call, as
//! on a real network), random delays, and partitions. Partitions need to know who sends: each
//! node's network uses [`MemoryRouter::for_node`].

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use openraft::BasicNode;
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, TransferLeaderRequest,
    TransferLeaderResponse, VoteRequest, VoteResponse,
};

use openraft::storage::RaftStateMachine;

use super::MemoryStateMachine;
use super::faults::{Fate, Faults};
use crate::replicated::{
    PeerConnector, PeerError, RaftPeer, Registry, RegistryRaft, RegistryRaftConfig as C,
    RegistrySnapshot, RegistryVote,
};

type Nodes<SM> = Arc<Mutex<BTreeMap<u64, RegistryRaft<SM>>>>;

/// The nodes that can be reached, by id; `SM` is their state machine.
pub struct MemoryRouter<SM: RaftStateMachine<C> = MemoryStateMachine> {
    nodes: Nodes<SM>,
    faults: Arc<Mutex<Faults>>,
    /// The node that sends through this router, when known (partitions apply to it).
    source: Option<u64>,
}

impl<SM: RaftStateMachine<C>> Clone for MemoryRouter<SM> {
    fn clone(&self) -> Self {
        MemoryRouter {
            nodes: self.nodes.clone(),
            faults: self.faults.clone(),
            source: self.source,
        }
    }
}

impl<SM: RaftStateMachine<C>> Default for MemoryRouter<SM> {
    fn default() -> Self {
        MemoryRouter {
            nodes: Arc::default(),
            faults: Arc::default(),
            source: None,
        }
    }
}

impl<SM: RaftStateMachine<C>> MemoryRouter<SM> {
    /// A router with no node.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes `raft` reachable as node `id`.
    pub fn add(&self, id: u64, raft: RegistryRaft<SM>) {
        lock(&self.nodes).insert(id, raft);
    }

    /// Makes node `id` unreachable; answers its `Raft`, to shut it down.
    pub fn remove(&self, id: u64) -> Option<RegistryRaft<SM>> {
        lock(&self.nodes).remove(&id)
    }

    /// The same router, for node `id`'s network: what it sends obeys partitions.
    pub fn for_node(&self, id: u64) -> Self {
        MemoryRouter {
            source: Some(id),
            ..self.clone()
        }
    }

    /// Starts the sequence that message losses and delays are drawn from at `seed`.
    pub fn seed_faults(&self, seed: u64) {
        lock(&self.faults).seed(seed);
    }

    /// Loses each message (request or reply) with probability `rate` (0 to 1).
    pub fn set_drop_rate(&self, rate: f64) {
        lock(&self.faults).set_drop_rate(rate);
    }

    /// Delays each message by a random time up to `delay`.
    pub fn set_max_delay(&self, delay: Duration) {
        lock(&self.faults).set_max_delay(delay);
    }

    /// Splits the nodes: each of `groups` reaches only its own members; nodes in no group form
    /// one more group. Replaces any earlier partition.
    pub fn partition(&self, groups: &[&[u64]]) {
        lock(&self.faults).partition(groups);
    }

    /// Ends every partition (losses and delays stay).
    pub fn heal(&self) {
        lock(&self.faults).heal();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<SM: RaftStateMachine<C, SnapshotData = Registry>> PeerConnector for MemoryRouter<SM> {
    fn connect(&self, target: u64, _node: &BasicNode) -> Arc<dyn RaftPeer> {
        Arc::new(MemoryPeer {
            nodes: self.nodes.clone(),
            faults: self.faults.clone(),
            source: self.source,
            target,
        })
    }
}

struct MemoryPeer<SM: RaftStateMachine<C>> {
    nodes: Nodes<SM>,
    faults: Arc<Mutex<Faults>>,
    source: Option<u64>,
    target: u64,
}

impl<SM: RaftStateMachine<C>> MemoryPeer<SM> {
    fn raft(&self) -> Result<RegistryRaft<SM>, PeerError> {
        lock(&self.nodes)
            .get(&self.target)
            .cloned()
            .ok_or_else(|| PeerError::Unreachable {
                reason: format!("node {} is not running", self.target),
            })
    }

    fn connected(&self) -> bool {
        lock(&self.faults).connected(self.source, self.target)
    }

    /// Carries one RPC through the faults in force: a message lost, or cut by a partition
    /// that forms while it travels, never gets an answer.
    async fn deliver<T, E, F>(
        &self,
        call: impl FnOnce(RegistryRaft<SM>) -> F,
    ) -> Result<T, PeerError>
    where
        F: Future<Output = Result<T, E>>,
        E: std::fmt::Display,
    {
        if !self.connected() {
            return Err(PeerError::Unreachable {
                reason: format!("node {} is partitioned away", self.target),
            });
        }
        let fate = lock(&self.faults).fate();
        match fate {
            Fate::RequestLost => std::future::pending().await,
            Fate::Delivered(delay) if !delay.is_zero() => tokio::time::sleep(delay).await,
            Fate::Delivered(_) | Fate::ReplyLost => {}
        }
        if !self.connected() {
            return std::future::pending().await;
        }
        let answer = call(self.raft()?).await.map_err(stopped)?;
        if fate == Fate::ReplyLost || !self.connected() {
            return std::future::pending().await;
        }
        Ok(answer)
    }
}

fn stopped(error: impl std::fmt::Display) -> PeerError {
    PeerError::Unreachable {
        reason: error.to_string(),
    }
}

#[async_trait]
impl<SM: RaftStateMachine<C, SnapshotData = Registry>> RaftPeer for MemoryPeer<SM> {
    async fn vote(&self, request: VoteRequest<C>) -> Result<VoteResponse<C>, PeerError> {
        self.deliver(|raft| async move { raft.vote(request).await })
            .await
    }

    async fn pre_vote(&self, request: VoteRequest<C>) -> Result<VoteResponse<C>, PeerError> {
        self.deliver(|raft| async move { raft.pre_vote(request).await })
            .await
    }

    async fn append_entries(
        &self,
        request: AppendEntriesRequest<C>,
    ) -> Result<AppendEntriesResponse<C>, PeerError> {
        self.deliver(|raft| async move { raft.append_entries(request).await })
            .await
    }

    async fn full_snapshot(
        &self,
        vote: RegistryVote,
        snapshot: RegistrySnapshot,
    ) -> Result<SnapshotResponse<C>, PeerError> {
        self.deliver(|raft| async move { raft.install_full_snapshot(vote, snapshot).await })
            .await
    }

    async fn transfer_leader(
        &self,
        request: TransferLeaderRequest<C>,
    ) -> Result<TransferLeaderResponse<C>, PeerError> {
        self.deliver(|raft| async move { raft.handle_transfer_leader(request).await })
            .await
    }
}
