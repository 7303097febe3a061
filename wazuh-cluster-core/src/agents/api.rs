//! What an embedder (the daemon, its control socket, `manage_agents`) calls: [`AgentApi`], the
//! same on the master (which decides) and on a worker (which forwards to the master).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::error::AgentError;
use super::model::{AgentId, AgentKey, AgentRecord};

/// A new agent's id and key, as the master answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// Its id.
    pub id: AgentId,
    /// Its name.
    pub name: String,
    /// Its IP text (`any` or an address).
    pub ip: String,
    /// Its key.
    pub key: AgentKey,
}

impl Registration {
    /// The `client.keys` line to give the agent (`ID NAME IP KEY`).
    pub fn key_line(&self) -> String {
        format!(
            "{} {} {} {}",
            self.id,
            self.name,
            self.ip,
            self.key.as_str()
        )
    }
}

/// An agent as listed (its key left out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentSummary {
    /// Id, zero-padded (`001`).
    pub id: String,
    /// Name.
    pub name: String,
    /// IP text.
    pub ip: String,
    /// Groups in priority order.
    pub groups: Vec<String>,
    /// Registration time, seconds since the Unix epoch.
    pub registered_at: i64,
}

impl From<&AgentRecord> for AgentSummary {
    fn from(record: &AgentRecord) -> Self {
        Self {
            id: record.id.to_string(),
            name: record.name.clone(),
            ip: record.ip.to_string(),
            groups: record.groups.clone(),
            registered_at: record.registered_at,
        }
    }
}

/// What the local manager tells its node about an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentEvent {
    /// The agent connected (or sent a keepalive, which is the same news).
    Keepalive {
        /// Agent version, such as `Wazuh v4.9.2`, if known.
        version: Option<String>,
        /// Operating system, if known.
        os: Option<String>,
    },
    /// The agent disconnected.
    Disconnected,
}

/// Agent management and status, the same on every node.
#[async_trait]
pub trait AgentApi: Send + Sync {
    /// Registers an agent (`ip` is `any` or an address; no groups means `default`).
    async fn register(
        &self,
        name: &str,
        ip: &str,
        groups: &[String],
    ) -> Result<Registration, AgentError>;
    /// Deletes an agent.
    async fn delete(&self, id: AgentId) -> Result<(), AgentError>;
    /// Creates a group.
    async fn create_group(&self, group: &str) -> Result<(), AgentError>;
    /// Adds a group to an agent.
    async fn assign_group(&self, id: AgentId, group: &str) -> Result<(), AgentError>;
    /// Removes a group from an agent.
    async fn unassign_group(&self, id: AgentId, group: &str) -> Result<(), AgentError>;
    /// Every agent, ascending by id.
    async fn list_agents(&self) -> Result<Vec<AgentSummary>, AgentError>;
    /// Every group, sorted.
    async fn list_groups(&self) -> Result<Vec<String>, AgentError>;
    /// Records what the local manager saw of an agent; refused for an agent that is not in
    /// this node's current `client.keys`.
    async fn report(&self, id: AgentId, event: AgentEvent) -> Result<(), AgentError>;
    /// Records `event` for each of `ids` at once (a local manager reporting many agents):
    /// answers the refusals, each id not in this node's current `client.keys` with its error;
    /// the others are recorded together. `Err` when nothing could be recorded.
    async fn report_many(
        &self,
        ids: &[AgentId],
        event: AgentEvent,
    ) -> Result<Vec<(AgentId, AgentError)>, AgentError>;
}
