//! What failover adds to the master role: the Raft RPCs on the master's listener
//! ([`RaftModule`]), the replicated registry as the agents' backend, and, before the new master
//! serves, the committed registry adopted into its store and files ([`adopt_committed`]).

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use openraft::ReadPolicy;
use wazuh_cluster_core::agents::groups::DEFAULT_GROUP;
use wazuh_cluster_core::agents::{AgentRegistry, AgentStore, MasterAgents, RegistryBackend};
use wazuh_cluster_core::master::{MasterConn, MasterRole};
use wazuh_cluster_core::replicated::{RegistryCommand, ReplicatedRegistry};
use wazuh_cluster_core::session::{DuplicateRoute, Router};
use wazuh_cluster_core::{Clock, Module};

use super::FailoverNode;
use crate::runtime::NodeError;

/// How long a new master waits for its state machine to catch up with the committed log.
const CATCH_UP: Duration = Duration::from_secs(10);

/// The Raft RPCs, served on the master's own listener.
pub struct RaftModule(pub FailoverNode);

impl Module<MasterRole> for RaftModule {
    fn install(self: Arc<Self>, router: &mut Router<MasterConn>) -> Result<(), DuplicateRoute> {
        self.0.install_routes(router)
    }

    fn run(self: Arc<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }
}

/// The agents' registry backend of a master with failover: each change through the Raft log.
pub fn backend(
    failover: &FailoverNode,
    clock: Arc<dyn Clock>,
) -> impl FnOnce(Arc<AgentRegistry>) -> Arc<dyn RegistryBackend> {
    let raft = failover.raft.clone();
    move |local| Arc::new(ReplicatedRegistry::new(raft, local, clock, None))
}

/// Brings the new master's store and files to the committed registry: waits until this node
/// applied everything committed before it was elected, imports the agents of a master that
/// ran without failover when the replicated registry is still empty, then adopts the registry
/// whole (`client.keys`, group folders, multigroups).
pub async fn adopt_committed(
    failover: &FailoverNode,
    agents: &MasterAgents,
) -> Result<(), NodeError> {
    let raft_error = |e: &dyn std::fmt::Display| NodeError::Raft(e.to_string());
    tokio::time::timeout(
        CATCH_UP,
        failover.raft.ensure_linearizable(ReadPolicy::ReadIndex),
    )
    .await
    .map_err(|_| {
        raft_error(&format!(
            "the state machine did not catch up within {CATCH_UP:?}"
        ))
    })?
    .map_err(|e| raft_error(&e))?;
    let registry = agents.registry();
    let empty = failover
        .machine
        .read(|state| state.registry.data().agents.is_empty())
        .await;
    if empty {
        import_local(failover, registry.store().as_ref()).await?;
    }
    let (records, groups) = failover
        .machine
        .read(|state| {
            let data = state.registry.data();
            (
                data.agents.values().cloned().collect::<Vec<_>>(),
                data.groups.clone(),
            )
        })
        .await;
    registry
        .adopt_all(&records, &groups)
        .await
        .map_err(|e| raft_error(&e))?;
    tracing::info!(
        tag = "Master",
        subtag = "Agents",
        "Adopted the replicated registry: {} agents, {} groups.",
        records.len(),
        groups.len()
    );
    Ok(())
}

/// Proposes the agents and groups of `store` (a master upgraded from the single-master mode)
/// with their ids, keys and times unchanged.
async fn import_local(failover: &FailoverNode, store: &dyn AgentStore) -> Result<(), NodeError> {
    let raft_error = |e: &dyn std::fmt::Display| NodeError::Raft(e.to_string());
    let agents = store.agents().await.map_err(|e| raft_error(&e))?;
    if agents.is_empty() {
        return Ok(());
    }
    let groups = store.groups().await.map_err(|e| raft_error(&e))?;
    let mut commands: Vec<RegistryCommand> = groups
        .into_iter()
        .filter(|name| name != DEFAULT_GROUP)
        .map(|name| RegistryCommand::CreateGroup { name })
        .collect();
    commands.extend(agents.iter().map(|a| RegistryCommand::RegisterAgent {
        id: Some(a.id),
        name: a.name.clone(),
        ip: a.ip,
        key: a.key.clone(),
        groups: a.groups.clone(),
        registered_at: a.registered_at,
    }));
    let count = agents.len();
    for command in commands {
        let what = command.to_string();
        let answer = failover
            .raft
            .client_write(command)
            .await
            .map_err(|e| raft_error(&e))?;
        if let Err(refused) = &answer.response().0 {
            tracing::warn!(
                tag = "Master",
                subtag = "Agents",
                "Import: {what}: {refused}"
            );
        }
    }
    tracing::info!(
        tag = "Master",
        subtag = "Agents",
        "Imported {count} agents of the single-master registry into the replicated registry."
    );
    Ok(())
}
