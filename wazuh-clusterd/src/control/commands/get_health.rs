//! `get_health`: the cluster's health (`cluster_control -i`), built on the master and forwarded
//! to the master by a worker.

use async_trait::async_trait;
use wazuh_cluster_core::session::{DuplicateRoute, Handler, HandlerResult, Request, Router};
use wazuh_cluster_proto::command::names;

use super::forward;
use crate::control::protocol::json_reply;
use crate::control::{ControlContext, ControlNode, health};

struct GetHealth;

#[async_trait]
impl Handler<ControlContext> for GetHealth {
    async fn handle(&self, ctx: &ControlContext, request: Request) -> HandlerResult {
        match &ctx.node {
            ControlNode::Master(master) => {
                let reply = health::master_health(
                    &master.handle,
                    &master.integrity,
                    &master.agents,
                    ctx.agent_store.as_ref(),
                    &request.payload,
                )
                .await?;
                json_reply(&reply)
            }
            ControlNode::Worker(worker) => {
                forward::to_master(&worker.handle, names::GET_HEALTH, request.payload).await
            }
        }
    }
}

/// Installs `get_health`.
pub(super) fn register(router: &mut Router<ControlContext>) -> Result<(), DuplicateRoute> {
    router.route(names::GET_HEALTH, GetHealth).map(|_| ())
}
