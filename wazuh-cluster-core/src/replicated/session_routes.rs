//! The receiving side of Raft over sessions: handlers for the `raft_*` commands that hand each
//! request to the local `Raft` and reply `ok` with its answer.
//!
//! The daemon installs them, with [`install_raft_routes`], in the router of the listener every
//! master-eligible node keeps on its cluster port (as master, and as standby beside the
//! redirections). They are open routes ([`Router::route_open`]): a member sends them on a
//! connection of their own without `hello` (a Raft RPC names its target member and carries the
//! sender's vote; Fernet authenticates it as it does `hello`), and no role's gate refuses them.

use async_trait::async_trait;
use openraft::error::Fatal;
use openraft::storage::RaftStateMachine;
use serde::Serialize;
use serde::de::DeserializeOwned;
use wazuh_cluster_proto::payload::WazuhException;
use wazuh_cluster_proto::payload::raft::{
    RAFT_APPEND, RAFT_PREVOTE, RAFT_SNAPSHOT, RAFT_TRANSFER, RAFT_VOTE, RaftReply, RaftRequest,
    decode_raft, encode_raft,
};

use super::machine::RegistrySnapshot;
use super::members::MemberDirectory;
use super::registry::Registry;
use super::snapshot_rpc::SnapshotRpc;
use super::type_config::{RegistryRaft, RegistryRaftConfig as C};
use crate::session::{DuplicateRoute, Handler, HandlerResult, Reply, Request, Router};

/// Which RPC a handler serves.
#[derive(Clone, Copy)]
enum Rpc {
    Vote,
    PreVote,
    Append,
    Snapshot,
    Transfer,
}

struct RaftHandler<SM: RaftStateMachine<C>> {
    raft: RegistryRaft<SM>,
    members: MemberDirectory,
    rpc: Rpc,
}

/// Routes the `raft_*` commands of `router` to `raft`, the member `members` names as this node
/// (the names of the senders are noted there).
pub fn install_raft_routes<Ctx, SM>(
    router: &mut Router<Ctx>,
    raft: RegistryRaft<SM>,
    members: &MemberDirectory,
) -> Result<(), DuplicateRoute>
where
    Ctx: Send + Sync + 'static,
    SM: RaftStateMachine<C, SnapshotData = Registry>,
{
    for (command, rpc) in [
        (RAFT_VOTE, Rpc::Vote),
        (RAFT_PREVOTE, Rpc::PreVote),
        (RAFT_APPEND, Rpc::Append),
        (RAFT_SNAPSHOT, Rpc::Snapshot),
        (RAFT_TRANSFER, Rpc::Transfer),
    ] {
        router.route_open(
            command,
            RaftHandler {
                raft: raft.clone(),
                members: members.clone(),
                rpc,
            },
        )?;
    }
    Ok(())
}

fn refused(error: impl std::fmt::Display) -> WazuhException {
    WazuhException::internal(1000).with_extra_message(error.to_string())
}

#[allow(clippy::result_large_err)] // the error is what a handler answers (`HandlerResult`)
fn answer<R: Serialize, E: std::fmt::Display>(
    members: &MemberDirectory,
    result: Result<R, E>,
) -> HandlerResult {
    let reply = RaftReply {
        name: members.own_name().to_owned(),
        rpc: result.map_err(refused)?,
    };
    let payload = encode_raft("Raft reply", &reply).map_err(refused)?;
    Ok(Some(Reply::ok(payload)))
}

impl<SM: RaftStateMachine<C, SnapshotData = Registry>> RaftHandler<SM> {
    /// The RPC body of `request`, once it is known to be meant for this node.
    #[allow(clippy::result_large_err)] // the error is what a handler answers (`HandlerResult`)
    fn body<T: DeserializeOwned>(&self, request: &Request) -> Result<T, WazuhException> {
        let envelope: RaftRequest<T> =
            decode_raft("Raft request", &request.payload).map_err(refused)?;
        let id = self.members.own_id();
        if envelope.to != id {
            return Err(refused(format!(
                "{} for Raft node {} reached node {id}; check that every node lists the same <nodes> in the same order",
                request.command, envelope.to
            )));
        }
        self.members.note(envelope.from, &envelope.name);
        Ok(envelope.rpc)
    }
}

#[async_trait]
impl<Ctx, SM> Handler<Ctx> for RaftHandler<SM>
where
    Ctx: Send + Sync + 'static,
    SM: RaftStateMachine<C, SnapshotData = Registry>,
{
    async fn handle(&self, _: &Ctx, request: Request) -> HandlerResult {
        let m = &self.members;
        match self.rpc {
            Rpc::Vote => answer(m, self.raft.vote(self.body(&request)?).await),
            Rpc::PreVote => answer(m, self.raft.pre_vote(self.body(&request)?).await),
            Rpc::Append => answer(m, self.raft.append_entries(self.body(&request)?).await),
            Rpc::Snapshot => {
                let rpc: SnapshotRpc = self.body(&request)?;
                let snapshot = RegistrySnapshot {
                    meta: rpc.meta,
                    snapshot: rpc.registry,
                };
                answer::<_, Fatal<C>>(m, self.raft.install_full_snapshot(rpc.vote, snapshot).await)
            }
            Rpc::Transfer => answer(
                m,
                self.raft.handle_transfer_leader(self.body(&request)?).await,
            ),
        }
    }
}
