//! RPCs between `Raft` nodes of one process: each call goes straight to the target's `Raft`.
//! Removing a node makes it unreachable, as a killed process would be. The nodes may keep
//! their state anywhere (in memory, SQLite): the router is generic over the state machine.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use openraft::BasicNode;
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, TransferLeaderRequest,
    TransferLeaderResponse, VoteRequest, VoteResponse,
};

use openraft::storage::RaftStateMachine;

use super::MemoryStateMachine;
use crate::replicated::{
    PeerConnector, PeerError, RaftPeer, Registry, RegistryRaft, RegistryRaftConfig as C,
    RegistrySnapshot, RegistryVote,
};

type Nodes<SM> = Arc<Mutex<BTreeMap<u64, RegistryRaft<SM>>>>;

/// The nodes that can be reached, by id; `SM` is their state machine.
pub struct MemoryRouter<SM: RaftStateMachine<C> = MemoryStateMachine> {
    nodes: Nodes<SM>,
}

impl<SM: RaftStateMachine<C>> Clone for MemoryRouter<SM> {
    fn clone(&self) -> Self {
        MemoryRouter {
            nodes: self.nodes.clone(),
        }
    }
}

impl<SM: RaftStateMachine<C>> Default for MemoryRouter<SM> {
    fn default() -> Self {
        MemoryRouter {
            nodes: Arc::default(),
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
}

fn lock<SM: RaftStateMachine<C>>(
    nodes: &Nodes<SM>,
) -> std::sync::MutexGuard<'_, BTreeMap<u64, RegistryRaft<SM>>> {
    nodes
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<SM: RaftStateMachine<C, SnapshotData = Registry>> PeerConnector for MemoryRouter<SM> {
    fn connect(&self, target: u64, _node: &BasicNode) -> Arc<dyn RaftPeer> {
        Arc::new(MemoryPeer {
            nodes: self.nodes.clone(),
            target,
        })
    }
}

struct MemoryPeer<SM: RaftStateMachine<C>> {
    nodes: Nodes<SM>,
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
}

fn stopped(error: impl std::fmt::Display) -> PeerError {
    PeerError::Unreachable {
        reason: error.to_string(),
    }
}

#[async_trait]
impl<SM: RaftStateMachine<C, SnapshotData = Registry>> RaftPeer for MemoryPeer<SM> {
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
