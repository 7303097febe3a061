//! `get_raft` ([`RaftReply`]) and `xfer_master` (leader transfer, for planned maintenance),
//! answered from this node's Raft metrics. Registered only on master-eligible nodes.

use async_trait::async_trait;
use openraft::async_runtime::WatchReceiver;
use wazuh_cluster_core::replicated::Leadership;
use wazuh_cluster_core::session::{DuplicateRoute, Handler, HandlerResult, Request, Router};
use wazuh_cluster_proto::payload::WazuhException;

use crate::control::ControlContext;
use crate::control::protocol::json_reply;
use crate::control::protocol::raft::{GET_RAFT, RaftMember, RaftReply, TRANSFER_MASTER};
use crate::runtime::failover::{FailoverNode, LEASE};

struct GetRaft(FailoverNode);

#[async_trait]
impl Handler<ControlContext> for GetRaft {
    async fn handle(&self, _ctx: &ControlContext, _request: Request) -> HandlerResult {
        json_reply(&status(&self.0))
    }
}

/// This node's view of the election.
fn status(node: &FailoverNode) -> RaftReply {
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
        serving: Leadership::of(&metrics, LEASE).leads(),
        term: metrics.current_term,
        leader: metrics.current_leader,
        committed: metrics.local_committed.map(|log| log.index),
        applied: metrics.last_applied.map(|log| log.index),
        members,
    }
}

struct TransferMaster(FailoverNode);

#[async_trait]
impl Handler<ControlContext> for TransferMaster {
    async fn handle(&self, _ctx: &ControlContext, request: Request) -> HandlerResult {
        let node = &self.0;
        let wanted = serde_json::from_slice::<String>(&request.payload)
            .unwrap_or_else(|_| String::from_utf8_lossy(&request.payload).trim().to_owned());
        let refuse = |message: String| WazuhException::internal(1000).with_extra_message(message);
        let status = status(node);
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
        tracing::info!(
            tag = "Cluster",
            subtag = "Raft",
            "Handing the master role over to {wanted} (member {}) on request.",
            target.id
        );
        node.raft
            .trigger()
            .transfer_leader(target.id)
            .await
            .map_err(|e| refuse(e.to_string()))?;
        json_reply(&format!(
            "Master role handed over to {wanted}; it serves as master once elected."
        ))
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
