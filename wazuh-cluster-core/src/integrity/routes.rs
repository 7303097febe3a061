//! Routing the integrity commands of either role on its session router.

use wazuh_cluster_proto::Command;

use crate::session::{DuplicateRoute, Handler, Router};

/// Routes each `(command, handler)` on `router`; refuses a command another module already
/// routes.
pub(crate) fn route_integrity<Ctx: Send + Sync + 'static, H: Handler<Ctx>>(
    router: &mut Router<Ctx>,
    routes: impl IntoIterator<Item = (Command, H)>,
) -> Result<(), DuplicateRoute> {
    for (command, handler) in routes {
        router.route(command, handler)?;
    }
    Ok(())
}
