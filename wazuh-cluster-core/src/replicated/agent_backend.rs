//! [`ReplicatedRegistry`]: the master's registry operations with failover. Each change is
//! decided on the leader (key drawn, time read, values checked), proposed to the Raft log, and
//! answered only once a quorum of master-eligible nodes stored it and the leader applied it;
//! then the local [`AgentRegistry`] adopts it (store, `client.keys`, group folders) for the
//! workers' integrity sync.
//!
//! A change that is not committed gets [`AgentError::NotCommitted`] naming why: this node is not
//! the master any more (and which node is), or no quorum answered within the commit timeout (the
//! change may still be committed later, when the quorum comes back: list before retrying).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use openraft::error::{ClientWriteError, RaftError};
use openraft::storage::RaftStateMachine;

use super::command::{Applied, RegistryCommand};
use super::registry::Registry;
use super::type_config::{RegistryRaft, RegistryRaftConfig as C};
use crate::agents::groups::DEFAULT_GROUP;
use crate::agents::model::{validate_agent_name, validate_group_name};
use crate::agents::{
    AgentError, AgentId, AgentIp, AgentRecord, AgentRegistry, AgentSummary, Registration,
    RegistryBackend,
};

/// How long a change may wait for a quorum before it is answered as not committed.
pub const COMMIT_TIMEOUT: Duration = Duration::from_secs(10);

/// The registry operations of a master-eligible node that leads the Raft group.
pub struct ReplicatedRegistry<SM: RaftStateMachine<C>> {
    raft: RegistryRaft<SM>,
    local: Arc<AgentRegistry>,
    commit_timeout: Duration,
}

impl<SM: RaftStateMachine<C, SnapshotData = Registry>> ReplicatedRegistry<SM> {
    /// Operations proposed to `raft` and adopted by `local` (whose clock and key generator
    /// decide the registration time and key).
    pub fn new(raft: RegistryRaft<SM>, local: Arc<AgentRegistry>) -> Self {
        ReplicatedRegistry {
            raft,
            local,
            commit_timeout: COMMIT_TIMEOUT,
        }
    }

    /// Answers a change as not committed after `timeout` instead of [`COMMIT_TIMEOUT`].
    pub fn with_commit_timeout(mut self, timeout: Duration) -> Self {
        self.commit_timeout = timeout;
        self
    }

    /// Proposes `command` and waits for its answer: what it changed, or why nothing changed.
    async fn commit(&self, command: RegistryCommand) -> Result<Applied, AgentError> {
        let what = command.to_string();
        let written = tokio::time::timeout(self.commit_timeout, self.raft.client_write(command))
            .await
            .map_err(|_| AgentError::NotCommitted {
                what: what.clone(),
                reason: format!(
                    "no quorum of master-eligible nodes stored it within {}s; it may still take \
                     effect when they answer: list the agents before retrying",
                    self.commit_timeout.as_secs()
                ),
            })?;
        match written {
            Ok(answer) => Ok(answer.response().0.clone()?),
            Err(RaftError::APIError(ClientWriteError::ForwardToLeader(forward))) => {
                let master = match (forward.leader_id, forward.leader_node) {
                    (Some(id), Some(node)) => {
                        format!("node {id} ({}) is the master now", node.addr)
                    }
                    _ => "no master is elected now".to_owned(),
                };
                Err(AgentError::NotCommitted {
                    what,
                    reason: format!("this node is not the master any more: {master}; retry there"),
                })
            }
            Err(error) => Err(AgentError::NotCommitted {
                what,
                reason: error.to_string(),
            }),
        }
    }

    /// Has the local registry adopt a committed change. The change stands whatever happens
    /// here: a failure to write the files is logged and repaired by the next change or the
    /// next master's start.
    async fn adopt(&self, adopted: Result<(), AgentError>) {
        if let Err(error) = adopted {
            tracing::error!(
                tag = "Master",
                subtag = "Agents",
                "A committed registry change could not be written locally: {error}; the files \
                 are rewritten at the next change."
            );
        }
    }
}

fn unexpected(what: &str, applied: &Applied) -> AgentError {
    AgentError::Protocol {
        what: "replicated registry answer",
        reason: format!("{what} answered {applied:?}"),
    }
}

#[async_trait]
impl<SM: RaftStateMachine<C, SnapshotData = Registry>> RegistryBackend for ReplicatedRegistry<SM> {
    async fn register(
        &self,
        name: &str,
        ip: &str,
        groups: &[String],
    ) -> Result<Registration, AgentError> {
        validate_agent_name(name)?;
        let ip: AgentIp = ip.parse()?;
        let mut unique: Vec<String> = Vec::new();
        for group in groups {
            validate_group_name(group)?;
            if !unique.contains(group) {
                unique.push(group.clone());
            }
        }
        let key = self.local.fresh_key();
        let registered_at = self.local.now();
        let command = RegistryCommand::RegisterAgent {
            id: None,
            name: name.to_owned(),
            ip,
            key: key.clone(),
            groups: unique.clone(),
            registered_at,
        };
        let id = match self.commit(command).await? {
            Applied::Registered { id } => id,
            other => return Err(unexpected("a registration", &other)),
        };
        if unique.is_empty() {
            unique.push(DEFAULT_GROUP.to_owned());
        }
        let record = AgentRecord {
            id,
            name: name.to_owned(),
            ip,
            key: key.clone(),
            groups: unique,
            registered_at,
        };
        self.adopt(self.local.adopt_agent(&record).await).await;
        Ok(Registration {
            id,
            name: record.name,
            ip: ip.to_string(),
            key,
        })
    }

    async fn delete(&self, id: AgentId) -> Result<(), AgentError> {
        match self.commit(RegistryCommand::DeleteAgent { id }).await? {
            Applied::Deleted { .. } => {
                self.adopt(self.local.adopt_deletion(id).await).await;
                Ok(())
            }
            other => Err(unexpected("a deletion", &other)),
        }
    }

    async fn create_group(&self, group: &str) -> Result<(), AgentError> {
        validate_group_name(group)?;
        let command = RegistryCommand::CreateGroup {
            name: group.to_owned(),
        };
        match self.commit(command).await? {
            Applied::GroupCreated { .. } => {
                self.adopt(self.local.adopt_group(group).await).await;
                Ok(())
            }
            other => Err(unexpected("a group creation", &other)),
        }
    }

    async fn assign_group(&self, id: AgentId, group: &str) -> Result<(), AgentError> {
        validate_group_name(group)?;
        let command = RegistryCommand::AssignGroup {
            id,
            group: group.to_owned(),
        };
        self.change_groups(command).await
    }

    async fn unassign_group(&self, id: AgentId, group: &str) -> Result<(), AgentError> {
        validate_group_name(group)?;
        let command = RegistryCommand::UnassignGroup {
            id,
            group: group.to_owned(),
        };
        self.change_groups(command).await
    }

    async fn list_agents(&self) -> Result<Vec<AgentSummary>, AgentError> {
        self.local.list_agents().await
    }

    async fn list_groups(&self) -> Result<Vec<String>, AgentError> {
        self.local.list_groups().await
    }
}

impl<SM: RaftStateMachine<C, SnapshotData = Registry>> ReplicatedRegistry<SM> {
    async fn change_groups(&self, command: RegistryCommand) -> Result<(), AgentError> {
        match self.commit(command).await? {
            Applied::GroupsChanged { id, groups } => {
                self.adopt(self.local.adopt_groups(id, &groups).await).await;
                Ok(())
            }
            other => Err(unexpected("a group change", &other)),
        }
    }
}
