//! [`AgentStore`]: where a node keeps its agents. Separate from the cluster's
//! [`Storage`](crate::storage::Storage) so that backends add it without changing that trait.

use async_trait::async_trait;

use super::model::{AgentId, AgentInfoRecord, AgentRecord, ConnectionStatus};
use crate::storage::StorageError;

/// What [`AgentStore::ingest_info`] did with a batch of agent-info rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InfoIngested {
    /// Rows written (newer than what was stored).
    pub written: usize,
    /// Rows of agents that are not registered, dropped.
    pub unknown: usize,
}

/// How many agent-info rows report to one node with one status.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StatusCount {
    /// The node the agents report to (`None` when the row names none).
    pub node: Option<String>,
    /// Their connection status, as stored (`active`, `disconnected`...).
    pub status: &'static str,
    /// How many.
    pub count: usize,
}

/// The agents a node keeps: on the master the registry (records, groups) and the agent-info of
/// the whole cluster; on a worker the group assignments the master sent and the agent-info of
/// the agents connected to it.
///
/// Obligations of an implementation (checked by `agents::store_suite` under feature `testing`):
/// - Every method is atomic: after a crash the store holds the old or the new state, never a
///   mix; a call that returned `Ok` survives a restart. Concurrent calls are serialized.
/// - [`insert_agent`](Self::insert_agent) stores the record and its groups together, and
///   refuses (changing nothing) an id that exists.
/// - [`agents`](Self::agents) lists records ascending by id, each with its current groups.
/// - [`infos_of`](Self::infos_of) is an indexed lookup: its cost grows with the ids asked
///   for, not with the agents stored.
/// - [`remove_agent`](Self::remove_agent) removes everything held for that id (record, group
///   assignment, agent-info) and nothing else; an unknown id answers `false`.
/// - [`set_agent_groups`](Self::set_agent_groups) works with or without a record (workers hold
///   assignments only); an empty list removes the assignment. Listed ascending by id.
/// - [`set_groups_of`](Self::set_groups_of) does the same for many agents at once, all or
///   none, the last row of an agent winning.
/// - [`apply_info`](Self::apply_info) writes each row only if there is no row for that agent
///   or [`AgentInfoRecord::supersedes`] the stored one, and answers how many were written.
/// - [`ingest_info`](Self::ingest_info) does the same for the rows of registered agents only,
///   in order (a later row of an agent meets the earlier one), all or nothing, and counts the
///   rows of agents without a record; its cost grows with the rows, not with the agents stored.
/// - [`status_counts`](Self::status_counts) answers what counting [`infos`](Self::infos) by
///   node and status would, sorted, without listing the rows.
/// - [`mark_silent_disconnected`](Self::mark_silent_disconnected) turns every `active` row whose
///   last keepalive is older than the cutoff (or absent) into `disconnected` at `now`.
#[async_trait]
pub trait AgentStore: Send + Sync + 'static {
    /// Every registered agent, ascending by id, with its groups.
    async fn agents(&self) -> Result<Vec<AgentRecord>, StorageError>;

    /// Registers `agent` with its groups; refuses an existing id.
    async fn insert_agent(&self, agent: &AgentRecord) -> Result<(), StorageError>;

    /// Stores `agents` with their groups, replacing the records (and groups) of existing ids
    /// and keeping their agent-info: all or none. How a node adopts registrations committed
    /// elsewhere, many in one write.
    async fn upsert_agents(&self, agents: &[AgentRecord]) -> Result<(), StorageError>;

    /// Removes the record, groups and info of `id`; `false` if nothing was held for it.
    async fn remove_agent(&self, id: AgentId) -> Result<bool, StorageError>;

    /// Replaces the groups of `id` (an empty list removes them).
    async fn set_agent_groups(&self, id: AgentId, groups: &[String]) -> Result<(), StorageError>;

    /// Replaces the groups of every agent listed (an empty list removes them), all or none; a
    /// later row of the same agent wins. How a worker applies the master's agent-groups: one
    /// write for thousands of agents instead of one each.
    async fn set_groups_of(
        &self,
        assignments: &[(AgentId, Vec<String>)],
    ) -> Result<(), StorageError>;

    /// Every group assignment, ascending by id.
    async fn agent_groups(&self) -> Result<Vec<(AgentId, Vec<String>)>, StorageError>;

    /// Every group name, sorted.
    async fn groups(&self) -> Result<Vec<String>, StorageError>;

    /// Adds a group name; `false` if it existed.
    async fn insert_group(&self, name: &str) -> Result<bool, StorageError>;

    /// Writes the rows that supersede what is stored; answers how many were written.
    async fn apply_info(&self, rows: &[AgentInfoRecord]) -> Result<usize, StorageError>;

    /// Writes the rows of registered agents that supersede what is stored, in one atomic call
    /// (the master ingesting a worker's agent-info).
    async fn ingest_info(&self, rows: &[AgentInfoRecord]) -> Result<InfoIngested, StorageError>;

    /// Every agent-info row, ascending by id.
    async fn infos(&self) -> Result<Vec<AgentInfoRecord>, StorageError>;

    /// The agent-info rows of `ids` that exist, ascending by id.
    async fn infos_of(&self, ids: &[AgentId]) -> Result<Vec<AgentInfoRecord>, StorageError>;

    /// Marks `active` rows silent since before `cutoff` as disconnected at `now`; answers how
    /// many changed.
    async fn mark_silent_disconnected(&self, cutoff: i64, now: i64) -> Result<usize, StorageError>;

    /// How many agent-info rows report to each node with each status, sorted by node and
    /// status (what a metrics scrape or a health check shows). Counts [`infos`](Self::infos)
    /// unless the store can count without listing the rows.
    async fn status_counts(&self) -> Result<Vec<StatusCount>, StorageError> {
        Ok(count_statuses(
            self.infos()
                .await?
                .into_iter()
                .map(|info| (info.node, info.status)),
        ))
    }
}

/// The sorted counts of `(node, status)` pairs.
pub fn count_statuses(
    rows: impl IntoIterator<Item = (Option<String>, ConnectionStatus)>,
) -> Vec<StatusCount> {
    let mut counts: std::collections::BTreeMap<(Option<String>, &'static str), usize> =
        std::collections::BTreeMap::new();
    for (node, status) in rows {
        *counts.entry((node, status.as_str())).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|((node, status), count)| StatusCount {
            node,
            status,
            count,
        })
        .collect()
}
