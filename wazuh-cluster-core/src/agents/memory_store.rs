//! [`MemoryAgentStore`]: the in-memory [`AgentStore`] for tests and embedders without a database.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use super::model::{AgentId, AgentInfoRecord, AgentRecord, ConnectionStatus};
use super::store::{AgentStore, InfoIngested};
use crate::storage::StorageError;

#[derive(Default)]
struct State {
    /// Calls of [`AgentStore::agents`] so far.
    full_reads: u64,
    agents: BTreeMap<AgentId, AgentRecord>,
    assignments: BTreeMap<AgentId, Vec<String>>,
    groups: BTreeSet<String>,
    infos: BTreeMap<AgentId, AgentInfoRecord>,
}

/// An [`AgentStore`] in memory: one mutex makes every call atomic.
#[derive(Default)]
pub struct MemoryAgentStore {
    state: Mutex<State>,
}

impl MemoryAgentStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many times every agent was read ([`AgentStore::agents`]) so far.
    pub fn full_reads(&self) -> u64 {
        self.state().full_reads
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Stores `row` if there is no row for its agent or it supersedes the stored one.
fn write_if_newer(infos: &mut BTreeMap<AgentId, AgentInfoRecord>, row: &AgentInfoRecord) -> bool {
    let newer = infos
        .get(&row.id)
        .is_none_or(|stored| row.supersedes(stored));
    if newer {
        infos.insert(row.id, row.clone());
    }
    newer
}

#[async_trait]
impl AgentStore for MemoryAgentStore {
    async fn agents(&self) -> Result<Vec<AgentRecord>, StorageError> {
        let mut state = self.state();
        state.full_reads += 1;
        Ok(state
            .agents
            .values()
            .map(|agent| AgentRecord {
                groups: state
                    .assignments
                    .get(&agent.id)
                    .cloned()
                    .unwrap_or_default(),
                ..agent.clone()
            })
            .collect())
    }

    async fn insert_agent(&self, agent: &AgentRecord) -> Result<(), StorageError> {
        let mut state = self.state();
        if state.agents.contains_key(&agent.id) {
            return Err(StorageError::new(
                format!("insert agent {}", agent.id),
                "an agent with this id exists",
            ));
        }
        state.agents.insert(agent.id, agent.clone());
        if agent.groups.is_empty() {
            state.assignments.remove(&agent.id);
        } else {
            state.assignments.insert(agent.id, agent.groups.clone());
        }
        Ok(())
    }

    async fn upsert_agents(&self, agents: &[AgentRecord]) -> Result<(), StorageError> {
        let mut state = self.state();
        for agent in agents {
            state.agents.insert(agent.id, agent.clone());
            if agent.groups.is_empty() {
                state.assignments.remove(&agent.id);
            } else {
                state.assignments.insert(agent.id, agent.groups.clone());
            }
        }
        Ok(())
    }

    async fn remove_agent(&self, id: AgentId) -> Result<bool, StorageError> {
        let mut state = self.state();
        let a = state.agents.remove(&id).is_some();
        let g = state.assignments.remove(&id).is_some();
        let i = state.infos.remove(&id).is_some();
        Ok(a || g || i)
    }

    async fn set_agent_groups(&self, id: AgentId, groups: &[String]) -> Result<(), StorageError> {
        let mut state = self.state();
        if groups.is_empty() {
            state.assignments.remove(&id);
        } else {
            state.assignments.insert(id, groups.to_vec());
        }
        Ok(())
    }

    async fn set_groups_of(
        &self,
        assignments: &[(AgentId, Vec<String>)],
    ) -> Result<(), StorageError> {
        let mut state = self.state();
        for (id, groups) in assignments {
            if groups.is_empty() {
                state.assignments.remove(id);
            } else {
                state.assignments.insert(*id, groups.clone());
            }
        }
        Ok(())
    }

    async fn agent_groups(&self) -> Result<Vec<(AgentId, Vec<String>)>, StorageError> {
        Ok(self
            .state()
            .assignments
            .iter()
            .map(|(id, groups)| (*id, groups.clone()))
            .collect())
    }

    async fn groups(&self) -> Result<Vec<String>, StorageError> {
        Ok(self.state().groups.iter().cloned().collect())
    }

    async fn insert_group(&self, name: &str) -> Result<bool, StorageError> {
        Ok(self.state().groups.insert(name.to_owned()))
    }

    async fn apply_info(&self, rows: &[AgentInfoRecord]) -> Result<usize, StorageError> {
        let mut state = self.state();
        Ok(rows
            .iter()
            .filter(|row| write_if_newer(&mut state.infos, row))
            .count())
    }

    async fn ingest_info(&self, rows: &[AgentInfoRecord]) -> Result<InfoIngested, StorageError> {
        let mut state = self.state();
        let mut ingested = InfoIngested::default();
        for row in rows {
            if !state.agents.contains_key(&row.id) {
                ingested.unknown += 1;
            } else if write_if_newer(&mut state.infos, row) {
                ingested.written += 1;
            }
        }
        Ok(ingested)
    }

    async fn infos(&self) -> Result<Vec<AgentInfoRecord>, StorageError> {
        Ok(self.state().infos.values().cloned().collect())
    }

    async fn infos_of(&self, ids: &[AgentId]) -> Result<Vec<AgentInfoRecord>, StorageError> {
        let state = self.state();
        let wanted: BTreeSet<AgentId> = ids.iter().copied().collect();
        Ok(wanted
            .iter()
            .filter_map(|id| state.infos.get(id).cloned())
            .collect())
    }

    async fn mark_silent_disconnected(&self, cutoff: i64, now: i64) -> Result<usize, StorageError> {
        let mut state = self.state();
        let mut changed = 0;
        for info in state.infos.values_mut() {
            if info.status == ConnectionStatus::Active
                && info.last_keepalive.is_none_or(|ka| ka < cutoff)
            {
                info.status = ConnectionStatus::Disconnected;
                info.disconnection_time = Some(now);
                changed += 1;
            }
        }
        Ok(changed)
    }
}
