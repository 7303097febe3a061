//! Raft's RPCs between master-eligible nodes, independent of what carries them.
//!
//! A transport implements [`RaftPeer`] (one peer's RPCs) and [`PeerConnector`] (a peer for a
//! node id and address); [`PeerNetwork`] turns them into openraft's network, bounding every
//! call by openraft's deadline and mapping failures to the errors openraft retries or backs off
//! on. The receiving side hands each request to the local `Raft` (`vote`, `pre_vote`,
//! `append_entries`, `install_full_snapshot`, `handle_transfer_leader`) and sends back its
//! answer.

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use openraft::BasicNode;
use openraft::error::{NetworkError, RPCError, ReplicationClosed, StreamingError, Unreachable};
use openraft::network::{RPCOption, RaftNetworkFactory, RaftNetworkV2};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, TransferLeaderRequest,
    TransferLeaderResponse, VoteRequest, VoteResponse,
};

use super::machine::RegistrySnapshot;
use super::registry::Registry;
use super::type_config::{RegistryRaftConfig as C, RegistryVote};

/// Why a Raft RPC got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerError {
    /// The peer cannot be reached now (no connection, peer down, deadline passed); openraft
    /// backs off before trying again.
    #[error("Raft peer unreachable: {reason}")]
    Unreachable {
        /// Why.
        reason: String,
    },
    /// The node answered but does not speak Raft (a Python Wazuh node answers the unknown
    /// command with its plain-text error): it is not a master-eligible member of this
    /// cluster. openraft backs off as for an unreachable peer.
    #[error(
        "node is not a Raft peer ({reason}); check that every <node> of a <failover>yes cluster runs this daemon"
    )]
    NotRaftPeer {
        /// What it answered.
        reason: String,
    },
    /// The exchange failed in a way worth retrying at once (a malformed answer, a dropped
    /// reply).
    #[error("Raft RPC failed: {reason}")]
    Failed {
        /// Why.
        reason: String,
    },
}

impl PeerError {
    fn into_rpc(self) -> RPCError<C> {
        match self {
            PeerError::Unreachable { .. } | PeerError::NotRaftPeer { .. } => {
                RPCError::Unreachable(Unreachable::new(&self))
            }
            PeerError::Failed { .. } => RPCError::Network(NetworkError::new(&self)),
        }
    }
}

/// One peer's Raft RPCs.
#[async_trait]
pub trait RaftPeer: Send + Sync + 'static {
    /// Asks for a vote.
    async fn vote(&self, request: VoteRequest<C>) -> Result<VoteResponse<C>, PeerError>;
    /// Asks whether a vote would be granted, without changing the peer's term.
    async fn pre_vote(&self, request: VoteRequest<C>) -> Result<VoteResponse<C>, PeerError>;
    /// Sends log entries (or a heartbeat).
    async fn append_entries(
        &self,
        request: AppendEntriesRequest<C>,
    ) -> Result<AppendEntriesResponse<C>, PeerError>;
    /// Sends the whole registry, for a peer too far behind for log entries.
    async fn full_snapshot(
        &self,
        vote: RegistryVote,
        snapshot: RegistrySnapshot,
    ) -> Result<SnapshotResponse<C>, PeerError>;
    /// Asks the peer to take over leadership.
    async fn transfer_leader(
        &self,
        request: TransferLeaderRequest<C>,
    ) -> Result<TransferLeaderResponse<C>, PeerError>;
}

/// Gives the peer for a member (its id and address).
pub trait PeerConnector: Send + Sync + 'static {
    /// The peer `target` at `node`; connecting may happen lazily, on the first call.
    fn connect(&self, target: u64, node: &BasicNode) -> Arc<dyn RaftPeer>;
}

/// openraft's network over a [`PeerConnector`].
pub struct PeerNetwork<P> {
    connector: Arc<P>,
}

impl<P> PeerNetwork<P> {
    /// The network that reaches peers through `connector`.
    pub fn new(connector: Arc<P>) -> Self {
        PeerNetwork { connector }
    }
}

impl<P: PeerConnector> RaftNetworkFactory<C> for PeerNetwork<P> {
    type Network = PeerClient;

    async fn new_client(&mut self, target: u64, node: &BasicNode) -> PeerClient {
        PeerClient {
            peer: self.connector.connect(target, node),
        }
    }
}

/// openraft's client for one peer.
pub struct PeerClient {
    peer: Arc<dyn RaftPeer>,
}

/// Runs `call` within openraft's hard deadline for it.
async fn bounded<T>(
    option: &RPCOption,
    call: impl Future<Output = Result<T, PeerError>>,
) -> Result<T, RPCError<C>> {
    let ttl = option.hard_ttl();
    match tokio::time::timeout(ttl, call).await {
        Ok(answer) => answer.map_err(PeerError::into_rpc),
        Err(_) => Err(PeerError::Unreachable {
            reason: format!("no answer within {ttl:?}"),
        }
        .into_rpc()),
    }
}

impl RaftNetworkV2<C> for PeerClient {
    type SnapshotData = Registry;

    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<C>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<C>, RPCError<C>> {
        bounded(&option, self.peer.append_entries(rpc)).await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<C>,
        option: RPCOption,
    ) -> Result<VoteResponse<C>, RPCError<C>> {
        bounded(&option, self.peer.vote(rpc)).await
    }

    async fn pre_vote(
        &mut self,
        rpc: VoteRequest<C>,
        option: RPCOption,
    ) -> Result<VoteResponse<C>, RPCError<C>> {
        bounded(&option, self.peer.pre_vote(rpc)).await
    }

    async fn full_snapshot(
        &mut self,
        vote: RegistryVote,
        snapshot: RegistrySnapshot,
        cancel: impl Future<Output = ReplicationClosed> + Send + 'static,
        option: RPCOption,
    ) -> Result<SnapshotResponse<C>, StreamingError<C>> {
        tokio::select! {
            closed = cancel => Err(StreamingError::Closed(closed)),
            answer = bounded(&option, self.peer.full_snapshot(vote, snapshot)) => Ok(answer?),
        }
    }

    async fn transfer_leader(
        &mut self,
        req: TransferLeaderRequest<C>,
        option: RPCOption,
    ) -> Result<TransferLeaderResponse<C>, RPCError<C>> {
        bounded(&option, self.peer.transfer_leader(req)).await
    }
}
