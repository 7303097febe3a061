//! `get_raft` ([`RaftReply`]) and `xfer_master` (leader transfer, for planned maintenance),
//! answered from this node's Raft metrics. Registered only on master-eligible nodes.

use async_trait::async_trait;
use openraft::async_runtime::WatchReceiver;
use wazuh_cluster_core::replicated::Leadership;
use wazuh_cluster_core::session::{DuplicateRoute, Handler, HandlerResult, Request, Router};
use wazuh_cluster_proto::payload::WazuhException;

use crate::control::protocol::json_reply;
use crate::control::protocol::raft::{GET_RAFT, RaftMember, RaftReply, TRANSFER_MASTER};
use crate::control::{ControlContext, ControlNode};
use crate::runtime::failover::{FailoverNode, LEASE};

struct GetRaft(FailoverNode);

#[async_trait]
impl Handler<ControlContext> for GetRaft {
    async fn handle(&self, ctx: &ControlContext, _request: Request) -> HandlerResult {
        let (agents, manifest_files) = self
            .0
            .machine
            .read(|state| {
                let data = state.registry.data();
                (data.agents.len(), data.manifest.len())
            })
            .await;
        json_reply(&RaftReply {
            agents,
            manifest_files,
            ..status(&self.0, ctx)
        })
    }
}

/// This node's view of the election (without the registry's counts); it serves as master when
/// it leads with a fresh quorum and its master role runs (the control socket points at it).
fn status(node: &FailoverNode, ctx: &ControlContext) -> RaftReply {
    let metrics = node.raft.metrics().borrow_watched().clone();
    let matched = metrics.replication.clone().unwrap_or_default();
    let members = node
        .addresses
        .iter()
        .map(|(&id, address)| RaftMember {
            id,
            name: node.members.name(id),
            address: address.clone(),
            match_index: matched.get(&id).cloned().flatten().map(|log| log.index),
        })
        .collect();
    RaftReply {
        id: metrics.id,
        state: format!("{:?}", metrics.state),
        serving: Leadership::of(&metrics, LEASE).leads()
            && matches!(ctx.node, ControlNode::Master(_)),
        term: metrics.current_term,
        leader: metrics.current_leader,
        committed: metrics.local_committed.map(|log| log.index),
        applied: metrics.last_applied.map(|log| log.index),
        agents: 0,
        manifest_files: 0,
        members,
    }
}

/// Longest wait for the target of a hand-over to hold the whole log.
const CATCH_UP: std::time::Duration = std::time::Duration::from_secs(5);
/// Longest wait for the target to be elected after one hand-over request.
const ELECTED_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);
/// Hand-over requests before giving up.
const TRANSFER_ATTEMPTS: usize = 3;

struct TransferMaster(FailoverNode);

#[async_trait]
impl Handler<ControlContext> for TransferMaster {
    async fn handle(&self, ctx: &ControlContext, request: Request) -> HandlerResult {
        let node = &self.0;
        let wanted = serde_json::from_slice::<String>(&request.payload)
            .unwrap_or_else(|_| String::from_utf8_lossy(&request.payload).trim().to_owned());
        let refuse = |message: String| WazuhException::internal(1000).with_extra_message(message);
        let status = status(node, ctx);
        if !status.serving {
            let master = status
                .leader
                .and_then(|id| node.location(id))
                .map_or("no master is elected now".to_owned(), |l| {
                    format!("the master is {} ({})", l.name, l.address)
                });
            return Err(refuse(format!(
                "this node is not the master, {master}; run --transfer-master on the master"
            )));
        }
        let Some(target) = status
            .members
            .iter()
            .find(|m| m.name.as_deref() == Some(wanted.as_str()) || m.address == wanted)
        else {
            let known: Vec<String> = status
                .members
                .iter()
                .map(|m| m.name.clone().unwrap_or_else(|| m.address.clone()))
                .collect();
            return Err(refuse(format!(
                "{wanted:?} is not a master-eligible node; choose one of {}",
                known.join(", ")
            )));
        };
        if target.id == status.id {
            return Err(refuse(format!("{wanted} is the master already")));
        }
        // A member behind the leader's log cannot be elected: let it catch up first.
        let target_id = target.id;
        let caught_up = node
            .raft
            .wait(Some(CATCH_UP))
            .metrics(
                |m| {
                    let matched = m
                        .replication
                        .as_ref()
                        .and_then(|r| r.get(&target_id).cloned().flatten())
                        .map(|log| log.index);
                    matched.is_some() && matched >= m.last_log_index
                },
                "the target holds the whole log",
            )
            .await;
        if caught_up.is_err() {
            return Err(refuse(format!(
                "{wanted} did not catch up with the master's log within {}s; check that it is \
                 running and connected, then retry",
                CATCH_UP.as_secs()
            )));
        }
        tracing::info!(
            tag = "Cluster",
            subtag = "Raft",
            "Handing the master role over to {wanted} (member {target_id}) on request."
        );
        // Leader transfer is best effort in Raft (another member may win the election it
        // starts): try a few times, and answer what happened.
        for _ in 0..TRANSFER_ATTEMPTS {
            node.raft
                .trigger()
                .transfer_leader(target_id)
                .await
                .map_err(|e| refuse(e.to_string()))?;
            let elected = node
                .raft
                .wait(Some(ELECTED_WITHIN))
                .metrics(|m| m.current_leader == Some(target_id), "the target leads")
                .await;
            if elected.is_ok() {
                return json_reply(&format!(
                    "Master role handed over to {wanted}; it serves as master now."
                ));
            }
            if node.raft.metrics().borrow_watched().current_leader != Some(status.id) {
                break;
            }
        }
        let now = node.raft.metrics().borrow_watched().current_leader;
        Err(refuse(format!(
            "{wanted} was not elected (the master is now member {}); retry, or check its log",
            now.map_or("none".to_owned(), |id| id.to_string())
        )))
    }
}

/// Installs `get_raft` and `xfer_master` answering from `node`.
pub fn register(
    router: &mut Router<ControlContext>,
    node: FailoverNode,
) -> Result<(), DuplicateRoute> {
    router
        .route(GET_RAFT, GetRaft(node.clone()))?
        .route(TRANSFER_MASTER, TransferMaster(node))
        .map(|_| ())
}
