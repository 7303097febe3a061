//! `echo-c`: a keepalive of the local client, answered with its own payload.

use async_trait::async_trait;
use wazuh_cluster_core::session::{DuplicateRoute, Handler, HandlerResult, Reply, Request, Router};
use wazuh_cluster_proto::command::names;

use crate::control::ControlContext;

struct Echo;

#[async_trait]
impl Handler<ControlContext> for Echo {
    async fn handle(&self, _ctx: &ControlContext, request: Request) -> HandlerResult {
        Ok(Some(Reply::ok(request.payload)))
    }
}

/// Installs `echo-c`.
pub(super) fn register(router: &mut Router<ControlContext>) -> Result<(), DuplicateRoute> {
    router.route(names::ECHO_C, Echo).map(|_| ())
}
