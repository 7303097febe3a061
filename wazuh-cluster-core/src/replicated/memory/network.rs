//! RPCs between `Raft` nodes of one process: each call goes straight to the target's `Raft`.
//! Removing a node makes it unreachable, as a killed process would be.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use openraft::BasicNode;
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, TransferLeaderRequest,
    TransferLeaderResponse, VoteRequest, VoteResponse,
};

use super::MemoryStateMachine;
use crate::replicated::{
    PeerConnector, PeerError, RaftPeer, RegistryRaft, RegistryRaftConfig as C, RegistrySnapshot,
    RegistryVote,
};

type Node = RegistryRaft<MemoryStateMachine>;
type Nodes = Arc<Mutex<BTreeMap<u64, Node>>>;

/// The nodes that can be reached, by id.
#[derive(Clone, Default)]
pub struct MemoryRouter {
    nodes: Nodes,
}

impl MemoryRouter {
    /// A router with no node.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes `raft` reachable as node `id`.
    pub fn add(&self, id: u64, raft: Node) {
        lock(&self.nodes).insert(id, raft);
    }

    /// Makes node `id` unreachable; answers its `Raft`, to shut it down.
    pub fn remove(&self, id: u64) -> Option<Node> {
        lock(&self.nodes).remove(&id)
    }
}

fn lock(nodes: &Nodes) -> std::sync::MutexGuard<'_, BTreeMap<u64, Node>> {
    nodes
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl PeerConnector for MemoryRouter {
    fn connect(&self, target: u64, _node: &BasicNode) -> Arc<dyn RaftPeer> {
        Arc::new(MemoryPeer {
            nodes: self.nodes.clone(),
            target,
        })
    }
}

struct MemoryPeer {
    nodes: Nodes,
    target: u64,
}

impl MemoryPeer {
    fn raft(&self) -> Result<Node, PeerError> {
        lock(&self.nodes)
            .get(&self.target)
            .cloned()
            .ok_or_else(|| PeerError::Unreachable {
                reason: format!("node {} is not running", self.target),
            })
    }
}

fn stopped(error: impl std::fmt::Display) -> PeerError {
    PeerError::Unreachable {
        reason: error.to_string(),
    }
}

#[async_trait]
impl RaftPeer for MemoryPeer {
    async fn vote(&self, request: VoteRequest<C>) -> Result<VoteResponse<C>, PeerError> {
        self.raft()?.vote(request).await.map_err(stopped)
    }

    async fn pre_vote(&self, request: VoteRequest<C>) -> Result<VoteResponse<C>, PeerError> {
        self.raft()?.pre_vote(request).await.map_err(stopped)
    }

    async fn append_entries(
        &self,
        request: AppendEntriesRequest<C>,
    ) -> Result<AppendEntriesResponse<C>, PeerError> {
        self.raft()?.append_entries(request).await.map_err(stopped)
    }

    async fn full_snapshot(
        &self,
        vote: RegistryVote,
        snapshot: RegistrySnapshot,
    ) -> Result<SnapshotResponse<C>, PeerError> {
        self.raft()?
            .install_full_snapshot(vote, snapshot)
            .await
            .map_err(stopped)
    }

    async fn transfer_leader(
        &self,
        request: TransferLeaderRequest<C>,
    ) -> Result<TransferLeaderResponse<C>, PeerError> {
        self.raft()?
            .handle_transfer_leader(request)
            .await
            .map_err(stopped)
    }
}
