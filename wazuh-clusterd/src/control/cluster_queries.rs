//! [`ClusterQueries`]: the master's module that answers the control requests its workers
//! forward over the cluster connection (`get_files` for `cluster_control -f`, `agent_list` for
//! `cluster_control -a`). `get_health` is the [`HealthModule`](super::health::HealthModule)'s.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use wazuh_cluster_core::agents::AgentStore;
use wazuh_cluster_core::master::MasterConn;
use wazuh_cluster_core::session::{DuplicateRoute, Router};
use wazuh_cluster_core::{MasterRole, Module, SyncStateStore};

use super::commands::agents::ClusterAgentList;
use super::commands::agents::protocol::AGENT_LIST;
use super::commands::files::ClusterFilesHandler;
use super::protocol::files::GET_FILES;

/// Answers `get_files` from the master's sync states and `agent_list` from its agent store.
pub struct ClusterQueries {
    sync_states: Arc<dyn SyncStateStore>,
    agents: Arc<dyn AgentStore>,
}

impl ClusterQueries {
    /// Answers from `sync_states` and `agents`, the master's stores.
    pub fn new(sync_states: Arc<dyn SyncStateStore>, agents: Arc<dyn AgentStore>) -> Arc<Self> {
        Arc::new(Self {
            sync_states,
            agents,
        })
    }
}

impl Module<MasterRole> for ClusterQueries {
    fn install(self: Arc<Self>, router: &mut Router<MasterConn>) -> Result<(), DuplicateRoute> {
        router
            .route(
                GET_FILES,
                ClusterFilesHandler::new(self.sync_states.clone()),
            )?
            .route(AGENT_LIST, ClusterAgentList::new(self.agents.clone()))?;
        Ok(())
    }

    fn run(self: Arc<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }
}
