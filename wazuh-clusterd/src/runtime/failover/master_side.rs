//! What failover adds to the master role: the Raft RPCs on the master's listener
//! ([`RaftModule`]), the replicated registry as the agents' backend, and, before the new master
//! serves, the committed registry adopted into its store and files ([`adopt_committed`]).

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use futures_util::future::BoxFuture;
use openraft::ReadPolicy;
use wazuh_cluster_core::Module;
use wazuh_cluster_core::agents::groups::DEFAULT_GROUP;
use wazuh_cluster_core::agents::{AgentRegistry, MasterAgents, RegistryBackend};
use wazuh_cluster_core::master::{MasterConn, MasterRole};
use wazuh_cluster_core::replicated::{RegistryCommand, ReplicatedRegistry};
use wazuh_cluster_core::session::{DuplicateRoute, Router};

use super::{FailoverNode, LocalRegistry};
use crate::runtime::NodeError;

/// Entries of an import handed to Raft in one message.
const IMPORT_BATCH: usize = 1024;

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
) -> impl FnOnce(Arc<AgentRegistry>) -> Arc<dyn RegistryBackend> {
    let raft = failover.raft.clone();
    move |local| Arc::new(ReplicatedRegistry::new(raft, local))
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
    let pending = failover
        .pending_import
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    match (pending, empty) {
        (Some(local), true) => import_local(failover, local).await?,
        (Some(local), false) => tracing::warn!(
            tag = "Master",
            subtag = "Agents",
            "{} agents of this node's single-master registry were not imported: the replicated \
             registry has agents already (another master registered them first).",
            local.agents.len()
        ),
        (None, _) => {}
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

/// Proposes the agents and groups of `local` (a master upgraded from the single-master mode)
/// with their ids, keys and times unchanged.
async fn import_local(failover: &FailoverNode, local: LocalRegistry) -> Result<(), NodeError> {
    let raft_error = |e: &dyn std::fmt::Display| NodeError::Raft(e.to_string());
    let LocalRegistry { agents, groups } = local;
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
    // Groups first (agents refer to them), then the agents, in order (ids only increase), many
    // entries per message to the Raft core: one append (one fsync) per batch.
    for chunk in commands.chunks(IMPORT_BATCH) {
        let whats: Vec<String> = chunk.iter().map(ToString::to_string).collect();
        let mut answers = failover
            .raft
            .client_write_many(chunk.iter().cloned())
            .await
            .map_err(|e| raft_error(&e))?;
        let mut whats = whats.into_iter();
        while let Some(answer) = answers.next().await {
            let what = whats.next().unwrap_or_default();
            let written = answer.map_err(|e| raft_error(&e))?;
            match written {
                Ok(response) => {
                    if let Err(refused) = &response.response.0 {
                        tracing::warn!(
                            tag = "Master",
                            subtag = "Agents",
                            "Import: {what}: {refused}"
                        );
                    }
                }
                Err(error) => return Err(raft_error(&format!("import: {what}: {error}"))),
            }
        }
    }
    tracing::info!(
        tag = "Master",
        subtag = "Agents",
        "Imported {count} agents of the single-master registry into the replicated registry."
    );
    Ok(())
}
