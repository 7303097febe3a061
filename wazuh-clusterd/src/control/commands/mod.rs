//! The control commands, one module each. [`router`] installs them all; a new command is a new
//! module with a `register` function called from there.

pub mod agents;
pub mod clock_skew;
mod echo;
pub mod files;
mod forward;
mod get_health;
mod get_nodes;
pub mod raft;

use wazuh_cluster_core::session::Router;

use super::ControlContext;

/// The router of the control socket with every command installed.
pub fn router() -> Router<ControlContext> {
    let mut router = Router::new();
    echo::register(&mut router)
        .and_then(|()| get_nodes::register(&mut router))
        .and_then(|()| get_health::register(&mut router))
        .and_then(|()| files::register(&mut router))
        .and_then(|()| agents::register(&mut router))
        .expect("each control command is registered by one module");
    router
}
