//! Routing the integrity commands of either role on its session router.

use wazuh_cluster_proto::Command;

use crate::session::{Handler, Router};

/// Routes each `(command, handler)` on `router`; a command another module already routes keeps
/// its first handler, and the refusal is logged under `tag`.
pub(crate) fn route_integrity<Ctx: Send + Sync + 'static, H: Handler<Ctx>>(
    router: &mut Router<Ctx>,
    routes: impl IntoIterator<Item = (Command, H)>,
    tag: &str,
) {
    for (command, handler) in routes {
        if let Err(error) = router.route(command, handler) {
            tracing::error!(
                tag,
                subtag = "Main",
                "{error}: the integrity synchronization cannot take it over"
            );
        }
    }
}
