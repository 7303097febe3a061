//! The agent commands of the control socket (names and payloads in [`protocol`]): listing,
//! registration, deletion, groups and status reports, the same on the master and on a worker.
//!
//! - [`list`]: `agent_list`, and [`ClusterAgentList`], its handler on the master's cluster
//!   connections for the workers' sockets.
//! - `manage`: registration, deletion and groups through the node's `AgentApi`.
//! - `report`: `agent_stat`.

mod json;
pub mod list;
mod manage;
pub mod protocol;
mod report;

use wazuh_cluster_core::session::{DuplicateRoute, Router};

pub use list::ClusterAgentList;

use crate::control::ControlContext;

/// Installs every agent command.
pub(super) fn register(router: &mut Router<ControlContext>) -> Result<(), DuplicateRoute> {
    router.route(protocol::AGENT_LIST, list::ListAgentsCommand)?;
    router.route(protocol::AGENT_ADD, manage::Add)?;
    router.route(protocol::AGENT_DEL, manage::Delete)?;
    router.route(protocol::GROUP_ADD, manage::CreateGroup)?;
    router.route(
        protocol::GROUP_JOIN,
        manage::ChangeMembership { join: true },
    )?;
    router.route(
        protocol::GROUP_LEAVE,
        manage::ChangeMembership { join: false },
    )?;
    router.route(protocol::GROUP_LIST, manage::ListGroups)?;
    router.route(protocol::AGENT_STAT, report::Report)?;
    Ok(())
}
