//! `get_nodes`: the node list (`cluster_control -l`), answered by the core on the master and
//! forwarded to the master by a worker.

use async_trait::async_trait;
use wazuh_cluster_core::master::{GetNodesArgs, get_nodes};
use wazuh_cluster_core::session::{DuplicateRoute, Handler, HandlerResult, Request, Router};
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::{WazuhException, error_codes};

use super::forward;
use crate::control::protocol::json_reply;
use crate::control::{ControlContext, ControlNode};

struct GetNodes;

#[async_trait]
impl Handler<ControlContext> for GetNodes {
    async fn handle(&self, ctx: &ControlContext, request: Request) -> HandlerResult {
        match &ctx.node {
            ControlNode::Master(master) => {
                let args: GetNodesArgs = if request.payload.iter().all(u8::is_ascii_whitespace) {
                    GetNodesArgs::default()
                } else {
                    serde_json::from_slice::<Option<GetNodesArgs>>(&request.payload)
                        .map_err(|e| {
                            WazuhException::cluster(error_codes::BAD_JSON)
                                .with_extra_message(e.to_string())
                        })?
                        .unwrap_or_default()
                };
                let reply = get_nodes(&master.handle.nodes(), &args).map_err(|e| *e)?;
                json_reply(&reply)
            }
            ControlNode::Worker(worker) => {
                forward::to_master(&worker.handle, names::GET_NODES, request.payload).await
            }
        }
    }
}

/// Installs `get_nodes`.
pub(super) fn register(router: &mut Router<ControlContext>) -> Result<(), DuplicateRoute> {
    router.route(names::GET_NODES, GetNodes).map(|_| ())
}
