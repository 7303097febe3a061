//! Raft RPCs over the cluster's own sessions: a [`RaftPeer`] that sends `raft_*` requests
//! (`wazuh_cluster_proto::payload::raft`) through a [`SessionHandle`] and reads the replies.
//!
//! The supervisor gives a [`SessionSource`]: a live session to a member, opened (TCP, Fernet,
//! `hello`) when there is none. Failures map to [`PeerError`]: no session, timeout or a closed
//! connection is `Unreachable`; Wazuh's plain-text "unknown command" answer (a Python node,
//! or a node without `<failover>`) is `NotRaftPeer`; an unreadable reply is `Failed`.

use std::sync::Arc;

use async_trait::async_trait;
use openraft::BasicNode;
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, TransferLeaderRequest,
    TransferLeaderResponse, VoteRequest, VoteResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wazuh_cluster_proto::Command;
use wazuh_cluster_proto::payload::raft::{
    RAFT_APPEND, RAFT_PREVOTE, RAFT_SNAPSHOT, RAFT_TRANSFER, RAFT_VOTE, RaftReply, RaftRequest,
    decode_raft, encode_raft, is_unknown_command,
};

use super::machine::RegistrySnapshot;
use super::members::MemberDirectory;
use super::network::{PeerConnector, PeerError, RaftPeer};
use super::snapshot_rpc::SnapshotRpc;
use super::type_config::{RegistryRaftConfig as C, RegistryVote};
use crate::session::{RequestError, SessionHandle};

/// Live sessions to the members.
#[async_trait]
pub trait SessionSource: Send + Sync + 'static {
    /// A session to member `target` at `node` (`node.addr` is its `host:port`), opening one if
    /// there is none; an error when it cannot be reached now.
    async fn session(&self, target: u64, node: &BasicNode) -> Result<SessionHandle, PeerError>;
}

/// The [`PeerConnector`] whose peers talk through a [`SessionSource`].
pub struct SessionConnector<S> {
    source: Arc<S>,
    members: MemberDirectory,
}

impl<S> SessionConnector<S> {
    /// Peers reached through `source`'s sessions, from the member `members` names as this
    /// node (the names peers answer with are noted there).
    pub fn new(source: Arc<S>, members: MemberDirectory) -> Self {
        SessionConnector { source, members }
    }
}

impl<S: SessionSource> PeerConnector for SessionConnector<S> {
    fn connect(&self, target: u64, node: &BasicNode) -> Arc<dyn RaftPeer> {
        Arc::new(SessionPeer {
            source: self.source.clone(),
            members: self.members.clone(),
            target,
            node: node.clone(),
        })
    }
}

struct SessionPeer<S> {
    source: Arc<S>,
    members: MemberDirectory,
    target: u64,
    node: BasicNode,
}

impl<S: SessionSource> SessionPeer<S> {
    async fn call<T: Serialize, R: DeserializeOwned>(
        &self,
        command: Command,
        rpc: T,
    ) -> Result<R, PeerError> {
        let failed = |e: &dyn std::fmt::Display| PeerError::Failed {
            reason: format!(
                "{command} to node {} ({}): {e}",
                self.target, self.node.addr
            ),
        };
        let request = RaftRequest {
            to: self.target,
            from: self.members.own_id(),
            name: self.members.own_name().to_owned(),
            rpc,
        };
        let payload = encode_raft("Raft request", &request).map_err(|e| failed(&e))?;
        let session = self.source.session(self.target, &self.node).await?;
        let reply = session
            .request(command, payload)
            .await
            .map_err(|e| self.refused(e))?;
        let reply: RaftReply<R> =
            decode_raft("Raft reply", &reply.payload).map_err(|e| failed(&e))?;
        self.members.note(self.target, &reply.name);
        Ok(reply.rpc)
    }

    fn refused(&self, error: RequestError) -> PeerError {
        let reason = format!("node {} ({}): {error}", self.target, self.node.addr);
        match error {
            RequestError::Peer { error, .. } if is_unknown_command(&error) => {
                PeerError::NotRaftPeer { reason }
            }
            RequestError::Peer { .. }
            | RequestError::Timeout { .. }
            | RequestError::Closed { .. } => PeerError::Unreachable { reason },
        }
    }
}

#[async_trait]
impl<S: SessionSource> RaftPeer for SessionPeer<S> {
    async fn vote(&self, request: VoteRequest<C>) -> Result<VoteResponse<C>, PeerError> {
        self.call(RAFT_VOTE, request).await
    }

    async fn pre_vote(&self, request: VoteRequest<C>) -> Result<VoteResponse<C>, PeerError> {
        self.call(RAFT_PREVOTE, request).await
    }

    async fn append_entries(
        &self,
        request: AppendEntriesRequest<C>,
    ) -> Result<AppendEntriesResponse<C>, PeerError> {
        self.call(RAFT_APPEND, request).await
    }

    async fn full_snapshot(
        &self,
        vote: RegistryVote,
        snapshot: RegistrySnapshot,
    ) -> Result<SnapshotResponse<C>, PeerError> {
        let rpc = SnapshotRpc {
            vote,
            meta: snapshot.meta,
            registry: snapshot.snapshot,
        };
        self.call(RAFT_SNAPSHOT, rpc).await
    }

    async fn transfer_leader(
        &self,
        request: TransferLeaderRequest<C>,
    ) -> Result<TransferLeaderResponse<C>, PeerError> {
        self.call(RAFT_TRANSFER, request).await
    }
}
