//! The core's [`AgentStore`] on SQLite: tables `agent`, `agent_group_assignment`, `agent_group`
//! and `agent_info` (migration `0003_agents.sql`; `0005` dropped the index on keepalives).
//! Every method is one transaction or one statement; lookups by id go through the primary keys,
//! with the ids passed as one JSON array (`json_each`) so that a batch of 10k ids is one
//! statement.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Row, Sqlite, Transaction};
use wazuh_cluster_core::StorageError;
use wazuh_cluster_core::agents::{
    AgentId, AgentInfoRecord, AgentRecord, AgentStore, ConnectionStatus, InfoIngested, StatusCount,
};

use super::SqliteStorage;
use super::error::storage_error;
use super::info_upsert::{id_array, upsert_info};

fn agent_id(row: &SqliteRow, column: &str, operation: &str) -> Result<AgentId, StorageError> {
    let id: i64 = row.get(column);
    u32::try_from(id)
        .map(AgentId)
        .map_err(|_| StorageError::new(operation, format!("agent id {id} out of range")))
}

fn agent_from_row(row: &SqliteRow, operation: &str) -> Result<AgentRecord, StorageError> {
    let ip: String = row.get("ip");
    let key: String = row.get("key");
    Ok(AgentRecord {
        id: agent_id(row, "id", operation)?,
        name: row.get("name"),
        ip: ip.parse().map_err(|e| StorageError::new(operation, e))?,
        key: key.parse().map_err(|e| StorageError::new(operation, e))?,
        groups: Vec::new(),
        registered_at: row.get("registered_at"),
    })
}

fn info_from_row(row: &SqliteRow, operation: &str) -> Result<AgentInfoRecord, StorageError> {
    let status: String = row.get("status");
    Ok(AgentInfoRecord {
        id: agent_id(row, "id", operation)?,
        status: ConnectionStatus::parse(&status).ok_or_else(|| {
            StorageError::new(operation, format!("unknown connection status {status:?}"))
        })?,
        last_keepalive: row.get("last_keepalive"),
        disconnection_time: row.get("disconnection_time"),
        version: row.get("version"),
        os: row.get("os"),
        node: row.get("node"),
    })
}

/// Rows `(agent_id, group_name)` ascending by agent and position, grouped per agent.
fn group_assignments(
    rows: &[SqliteRow],
    operation: &str,
) -> Result<Vec<(AgentId, Vec<String>)>, StorageError> {
    let mut assignments: Vec<(AgentId, Vec<String>)> = Vec::new();
    for row in rows {
        let id = agent_id(row, "agent_id", operation)?;
        let group: String = row.get("group_name");
        match assignments.last_mut() {
            Some((last, groups)) if *last == id => groups.push(group),
            _ => assignments.push((id, vec![group])),
        }
    }
    Ok(assignments)
}

/// A new agent's row (an existing id is refused).
const INSERT_AGENT: &str =
    "INSERT INTO agent (id, name, ip, key, registered_at) VALUES (?1, ?2, ?3, ?4, ?5)";
/// An agent's row, replacing the one with the same id (its agent-info, in its own table, stays).
const UPSERT_AGENT: &str =
    "INSERT OR REPLACE INTO agent (id, name, ip, key, registered_at) VALUES (?1, ?2, ?3, ?4, ?5)";

/// Writes `agent`'s row with `statement` ([`INSERT_AGENT`] or [`UPSERT_AGENT`]) and its group
/// assignments.
async fn write_agent(
    tx: &mut Transaction<'_, Sqlite>,
    agent: &AgentRecord,
    statement: &'static str,
) -> Result<(), sqlx::Error> {
    sqlx::query(statement)
        .bind(i64::from(agent.id.0))
        .bind(&agent.name)
        .bind(agent.ip.to_string())
        .bind(agent.key.as_str())
        .bind(agent.registered_at)
        .execute(&mut **tx)
        .await?;
    replace_groups(tx, agent.id, &agent.groups).await
}

async fn replace_groups(
    tx: &mut Transaction<'_, Sqlite>,
    id: AgentId,
    groups: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM agent_group_assignment WHERE agent_id = ?1")
        .bind(i64::from(id.0))
        .execute(&mut **tx)
        .await?;
    for (position, group) in groups.iter().enumerate() {
        sqlx::query(
            "INSERT INTO agent_group_assignment (agent_id, position, group_name) \
             VALUES (?1, ?2, ?3)",
        )
        .bind(i64::from(id.0))
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(group)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Assignment rows written by one statement (3 parameters each, within SQLite's 32766).
const ASSIGNMENT_BATCH: usize = 10_000;

/// Replaces the groups of every agent of `assignments` (the last row of an agent wins) with
/// one `DELETE` per [`ASSIGNMENT_BATCH`] agents and one `INSERT` per [`ASSIGNMENT_BATCH`]
/// groups, not two statements per agent.
async fn replace_groups_of(
    tx: &mut Transaction<'_, Sqlite>,
    assignments: &[(AgentId, Vec<String>)],
) -> Result<(), sqlx::Error> {
    let last: std::collections::BTreeMap<AgentId, &[String]> = assignments
        .iter()
        .map(|(id, groups)| (*id, groups.as_slice()))
        .collect();
    let ids: Vec<AgentId> = last.keys().copied().collect();
    for batch in ids.chunks(ASSIGNMENT_BATCH) {
        sqlx::query(
            "DELETE FROM agent_group_assignment \
             WHERE agent_id IN (SELECT value FROM json_each(?1))",
        )
        .bind(id_array(batch))
        .execute(&mut **tx)
        .await?;
    }
    let rows: Vec<(AgentId, usize, &String)> = last
        .iter()
        .flat_map(|(id, groups)| groups.iter().enumerate().map(|(p, g)| (*id, p, g)))
        .collect();
    for batch in rows.chunks(ASSIGNMENT_BATCH) {
        let mut sql = String::from(
            "INSERT INTO agent_group_assignment (agent_id, position, group_name) VALUES ",
        );
        for i in 0..batch.len() {
            sql.push_str(if i == 0 { "(?,?,?)" } else { ",(?,?,?)" });
        }
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (id, position, group) in batch {
            query = query
                .bind(i64::from(id.0))
                .bind(i64::try_from(*position).unwrap_or(i64::MAX))
                .bind(group.as_str());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

#[async_trait]
impl AgentStore for SqliteStorage {
    async fn agents(&self) -> Result<Vec<AgentRecord>, StorageError> {
        let operation = "read the registered agents";
        let mut tx = self
            .agent_reads()
            .begin()
            .await
            .map_err(|e| storage_error(operation, e))?;
        let rows = sqlx::query("SELECT id, name, ip, key, registered_at FROM agent ORDER BY id")
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| storage_error(operation, e))?;
        let groups = sqlx::query(
            "SELECT a.agent_id, a.group_name FROM agent_group_assignment a \
             JOIN agent ON agent.id = a.agent_id ORDER BY a.agent_id, a.position",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| storage_error(operation, e))?;
        tx.commit().await.map_err(|e| storage_error(operation, e))?;
        let mut groups = group_assignments(&groups, operation)?
            .into_iter()
            .peekable();
        rows.iter()
            .map(|row| {
                let mut agent = agent_from_row(row, operation)?;
                if let Some((_, list)) = groups.next_if(|(id, _)| *id == agent.id) {
                    agent.groups = list;
                }
                Ok(agent)
            })
            .collect()
    }

    async fn insert_agent(&self, agent: &AgentRecord) -> Result<(), StorageError> {
        let operation = || format!("insert agent {} ({})", agent.id, agent.name);
        let mut tx = self
            .agents_pool()
            .begin()
            .await
            .map_err(|e| storage_error(operation(), e))?;
        write_agent(&mut tx, agent, INSERT_AGENT)
            .await
            .map_err(|e| storage_error(operation(), e))?;
        tx.commit().await.map_err(|e| storage_error(operation(), e))
    }

    async fn upsert_agents(&self, agents: &[AgentRecord]) -> Result<(), StorageError> {
        let operation = || format!("store {} agents", agents.len());
        let mut tx = self
            .agents_pool()
            .begin()
            .await
            .map_err(|e| storage_error(operation(), e))?;
        for agent in agents {
            write_agent(&mut tx, agent, UPSERT_AGENT)
                .await
                .map_err(|e| storage_error(operation(), e))?;
        }
        tx.commit().await.map_err(|e| storage_error(operation(), e))
    }

    async fn remove_agent(&self, id: AgentId) -> Result<bool, StorageError> {
        let operation = || format!("remove agent {id}");
        let mut tx = self
            .agents_pool()
            .begin()
            .await
            .map_err(|e| storage_error(operation(), e))?;
        let mut removed = 0;
        for statement in [
            "DELETE FROM agent WHERE id = ?1",
            "DELETE FROM agent_group_assignment WHERE agent_id = ?1",
            "DELETE FROM agent_info WHERE id = ?1",
        ] {
            removed += sqlx::query(statement)
                .bind(i64::from(id.0))
                .execute(&mut *tx)
                .await
                .map_err(|e| storage_error(operation(), e))?
                .rows_affected();
        }
        tx.commit()
            .await
            .map_err(|e| storage_error(operation(), e))?;
        Ok(removed > 0)
    }

    async fn set_agent_groups(&self, id: AgentId, groups: &[String]) -> Result<(), StorageError> {
        let operation = || format!("set the groups of agent {id} to {groups:?}");
        let mut tx = self
            .agents_pool()
            .begin()
            .await
            .map_err(|e| storage_error(operation(), e))?;
        replace_groups(&mut tx, id, groups)
            .await
            .map_err(|e| storage_error(operation(), e))?;
        tx.commit().await.map_err(|e| storage_error(operation(), e))
    }

    async fn set_groups_of(
        &self,
        assignments: &[(AgentId, Vec<String>)],
    ) -> Result<(), StorageError> {
        let operation = || format!("set the groups of {} agents", assignments.len());
        let mut tx = self
            .agents_pool()
            .begin()
            .await
            .map_err(|e| storage_error(operation(), e))?;
        replace_groups_of(&mut tx, assignments)
            .await
            .map_err(|e| storage_error(operation(), e))?;
        tx.commit().await.map_err(|e| storage_error(operation(), e))
    }

    async fn agent_groups(&self) -> Result<Vec<(AgentId, Vec<String>)>, StorageError> {
        let operation = "read the group assignments";
        let rows = sqlx::query(
            "SELECT agent_id, group_name FROM agent_group_assignment \
             ORDER BY agent_id, position",
        )
        .fetch_all(self.agent_reads())
        .await
        .map_err(|e| storage_error(operation, e))?;
        group_assignments(&rows, operation)
    }

    async fn groups(&self) -> Result<Vec<String>, StorageError> {
        sqlx::query_scalar("SELECT name FROM agent_group ORDER BY name")
            .fetch_all(self.agent_reads())
            .await
            .map_err(|e| storage_error("read the groups", e))
    }

    async fn insert_group(&self, name: &str) -> Result<bool, StorageError> {
        let done = sqlx::query("INSERT OR IGNORE INTO agent_group (name) VALUES (?1)")
            .bind(name)
            .execute(self.agents_pool())
            .await
            .map_err(|e| storage_error(format!("insert group {name:?}"), e))?;
        Ok(done.rows_affected() == 1)
    }

    async fn apply_info(&self, rows: &[AgentInfoRecord]) -> Result<usize, StorageError> {
        let operation = || format!("apply {} agent-info rows", rows.len());
        let mut tx = self
            .agents_pool()
            .begin()
            .await
            .map_err(|e| storage_error(operation(), e))?;
        let written = upsert_info(&mut tx, rows, false)
            .await
            .map_err(|e| storage_error(operation(), e))?;
        tx.commit()
            .await
            .map_err(|e| storage_error(operation(), e))?;
        Ok(usize::try_from(written).unwrap_or(usize::MAX))
    }

    /// The rows go to the group commit of ingests (the `info_writer` module): alone, one
    /// statement on the writing connection when they fit in one (a statement is atomic by
    /// itself, and takes the write lock before it reads); with the other ingests waiting, one
    /// transaction for all, each ingest atomic on its own. The registered ones are counted
    /// beside it on a reading connection.
    async fn ingest_info(&self, rows: &[AgentInfoRecord]) -> Result<InfoIngested, StorageError> {
        let operation = || format!("ingest {} agent-info rows", rows.len());
        if rows.is_empty() {
            return Ok(InfoIngested::default());
        }
        let ids: Vec<AgentId> = rows.iter().map(|row| row.id).collect();
        let count = sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM json_each(?1) AS r \
             WHERE EXISTS (SELECT 1 FROM agent WHERE agent.id = r.value)",
        )
        .bind(id_array(&ids))
        .fetch_one(self.agent_reads());
        let write = self.info_writer().ingest(rows.to_vec());
        let (registered, written) = tokio::join!(count, write);
        let written = written?;
        let registered = registered.map_err(|e| storage_error(operation(), e))?;
        let registered = usize::try_from(registered).unwrap_or(usize::MAX);
        Ok(InfoIngested {
            written: usize::try_from(written).unwrap_or(usize::MAX),
            unknown: rows.len().saturating_sub(registered),
        })
    }

    async fn infos(&self) -> Result<Vec<AgentInfoRecord>, StorageError> {
        let operation = "read the agent-info rows";
        let rows = sqlx::query(
            "SELECT id, status, last_keepalive, disconnection_time, version, os, node \
             FROM agent_info ORDER BY id",
        )
        .fetch_all(self.agent_reads())
        .await
        .map_err(|e| storage_error(operation, e))?;
        rows.iter()
            .map(|row| info_from_row(row, operation))
            .collect()
    }

    async fn infos_of(&self, ids: &[AgentId]) -> Result<Vec<AgentInfoRecord>, StorageError> {
        let operation = || format!("read the agent-info rows of {} agents", ids.len());
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT id, status, last_keepalive, disconnection_time, version, os, node \
             FROM agent_info WHERE id IN (SELECT DISTINCT value FROM json_each(?1)) ORDER BY id",
        )
        .bind(id_array(ids))
        .fetch_all(self.agent_reads())
        .await
        .map_err(|e| storage_error(operation(), e))?;
        rows.iter()
            .map(|row| info_from_row(row, &operation()))
            .collect()
    }

    /// A scan of the whole table (7 ms at 100,000 rows): an index on the keepalives cost every
    /// ingest more than it saved here (migration `0005`).
    async fn mark_silent_disconnected(&self, cutoff: i64, now: i64) -> Result<usize, StorageError> {
        let done = sqlx::query(
            "UPDATE agent_info SET status = 'disconnected', disconnection_time = ?2, \
             seen_at = MAX(COALESCE(last_keepalive, ?3), ?2) \
             WHERE status = 'active' AND (last_keepalive IS NULL OR last_keepalive < ?1)",
        )
        .bind(cutoff)
        .bind(now)
        .bind(i64::MIN)
        .execute(self.agents_pool())
        .await
        .map_err(|e| {
            storage_error(
                format!("mark agents silent since before {cutoff} as disconnected"),
                e,
            )
        })?;
        Ok(usize::try_from(done.rows_affected()).unwrap_or(usize::MAX))
    }

    async fn status_counts(&self) -> Result<Vec<StatusCount>, StorageError> {
        let operation = "count the agents by node and status";
        let rows = sqlx::query(
            "SELECT node, status, count(*) AS n FROM agent_info GROUP BY node, status \
             ORDER BY node, status",
        )
        .fetch_all(self.agent_reads())
        .await
        .map_err(|e| storage_error(operation, e))?;
        rows.iter()
            .map(|row| {
                let status: String = row.get("status");
                let count: i64 = row.get("n");
                Ok(StatusCount {
                    node: row.get("node"),
                    status: ConnectionStatus::parse(&status)
                        .ok_or_else(|| {
                            StorageError::new(
                                operation,
                                format!("unknown connection status {status:?}"),
                            )
                        })?
                        .as_str(),
                    count: usize::try_from(count).unwrap_or(0),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use wazuh_cluster_core::agents::{AgentIp, AgentKey};

    use super::super::info_upsert::INFO_BATCH;
    use super::*;

    fn info(id: u32) -> AgentInfoRecord {
        AgentInfoRecord {
            id: AgentId(id),
            status: ConnectionStatus::Active,
            last_keepalive: Some(100),
            disconnection_time: None,
            version: None,
            os: None,
            node: Some("worker01".into()),
        }
    }

    fn agent(id: u32) -> AgentRecord {
        AgentRecord {
            id: AgentId(id),
            name: format!("agent{id}"),
            ip: AgentIp::Addr(Ipv4Addr::LOCALHOST.into()),
            key: AgentKey::from_bytes([1; 32]),
            groups: Vec::new(),
            registered_at: 0,
        }
    }

    /// Reads run on connections of their own: a write transaction held open on the writing
    /// connection (an ingest, a registration) holds back no listing, lookup or count.
    #[tokio::test]
    async fn reads_do_not_wait_for_the_writer() {
        let home = tempfile::tempdir().unwrap();
        let store = SqliteStorage::open_in_home(home.path()).await.unwrap();
        store.upsert_agents(&[agent(1), agent(2)]).await.unwrap();
        store.apply_info(&[info(1)]).await.unwrap();
        let mut writing = store
            .agents_pool()
            .begin_with("BEGIN IMMEDIATE")
            .await
            .unwrap();
        sqlx::query("DELETE FROM agent WHERE id = 2")
            .execute(&mut *writing)
            .await
            .unwrap();
        let reads = async {
            (
                store.agents().await.unwrap().len(),
                store.infos_of(&[AgentId(1)]).await.unwrap().len(),
                store.status_counts().await.unwrap()[0].count,
                store.groups().await.unwrap().len(),
            )
        };
        let read = tokio::time::timeout(std::time::Duration::from_secs(3), reads)
            .await
            .expect("the reads answered while the writer held its transaction");
        assert_eq!(
            read,
            (2, 1, 1, 0),
            "the committed state, not the open write"
        );
        writing.commit().await.unwrap();
        assert_eq!(store.agents().await.unwrap().len(), 1, "the commit is seen");
        store.close().await;
    }

    /// A row refused in the last statement of a batch leaves none of the batch written.
    #[tokio::test]
    async fn ingest_is_all_or_nothing() {
        let home = tempfile::tempdir().unwrap();
        let store = SqliteStorage::open_in_home(home.path()).await.unwrap();
        let rows = u32::try_from(INFO_BATCH).unwrap() + 10;
        let agents: Vec<AgentRecord> = (1..=rows).map(agent).collect();
        store.upsert_agents(&agents).await.unwrap();
        sqlx::query(AssertSqlSafe(format!(
            "CREATE TRIGGER refuse_last BEFORE INSERT ON agent_info WHEN NEW.id = {rows} \
             BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )))
        .execute(store.agents_pool())
        .await
        .unwrap();
        let batch: Vec<AgentInfoRecord> = (1..=rows).map(info).collect();
        assert!(store.ingest_info(&batch).await.is_err());
        assert!(store.infos().await.unwrap().is_empty(), "nothing written");
        let ingested = store.ingest_info(&batch[..10]).await.unwrap();
        assert_eq!(ingested.written, 10, "the store is usable afterwards");
        store.close().await;
    }
}
