//! [`RegistryBackend`]: what executes the master's registry operations, whoever asks (the
//! control socket of the master, or a worker's forwarded `sendsync`).
//!
//! In the single-master mode it is the master's own [`AgentRegistry`]. With failover it is the
//! replicated registry (`crate::replicated::ReplicatedRegistry`): every change goes through the
//! Raft log first, then into the local [`AgentRegistry`] and its files.

use async_trait::async_trait;

use super::api::{AgentSummary, Registration};
use super::error::AgentError;
use super::model::AgentId;
use super::registry::AgentRegistry;

/// The master's registry operations.
#[async_trait]
pub trait RegistryBackend: Send + Sync + 'static {
    /// Registers an agent (`ip` is `any` or an address; `groups` must exist, none means
    /// `default`); its id and key.
    async fn register(
        &self,
        name: &str,
        ip: &str,
        groups: &[String],
    ) -> Result<Registration, AgentError>;
    /// Removes agent `id`.
    async fn delete(&self, id: AgentId) -> Result<(), AgentError>;
    /// Creates a group.
    async fn create_group(&self, group: &str) -> Result<(), AgentError>;
    /// Adds `group` to agent `id`'s groups (last in priority).
    async fn assign_group(&self, id: AgentId, group: &str) -> Result<(), AgentError>;
    /// Removes `group` from agent `id`'s groups.
    async fn unassign_group(&self, id: AgentId, group: &str) -> Result<(), AgentError>;
    /// Every agent, ascending by id.
    async fn list_agents(&self) -> Result<Vec<AgentSummary>, AgentError>;
    /// Every group, sorted.
    async fn list_groups(&self) -> Result<Vec<String>, AgentError>;
}

#[async_trait]
impl RegistryBackend for AgentRegistry {
    async fn register(
        &self,
        name: &str,
        ip: &str,
        groups: &[String],
    ) -> Result<Registration, AgentError> {
        AgentRegistry::register(self, name, ip, groups).await
    }

    async fn delete(&self, id: AgentId) -> Result<(), AgentError> {
        AgentRegistry::delete(self, id).await
    }

    async fn create_group(&self, group: &str) -> Result<(), AgentError> {
        AgentRegistry::create_group(self, group).await
    }

    async fn assign_group(&self, id: AgentId, group: &str) -> Result<(), AgentError> {
        AgentRegistry::assign_group(self, id, group).await
    }

    async fn unassign_group(&self, id: AgentId, group: &str) -> Result<(), AgentError> {
        AgentRegistry::unassign_group(self, id, group).await
    }

    async fn list_agents(&self) -> Result<Vec<AgentSummary>, AgentError> {
        AgentRegistry::list_agents(self).await
    }

    async fn list_groups(&self) -> Result<Vec<String>, AgentError> {
        AgentRegistry::list_groups(self).await
    }
}
