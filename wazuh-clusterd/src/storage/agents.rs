//! The core's [`AgentStore`] on SQLite: tables `agent`, `agent_group_assignment`, `agent_group`
//! and `agent_info` (migration `0003_agents.sql`). Every method is one transaction or one
//! statement; lookups by id go through the primary keys, with the ids passed as one JSON array
//! (`json_each`) so that a batch of 10k ids is one statement.

use std::collections::BTreeSet;

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Row, Sqlite, Transaction};
use wazuh_cluster_core::StorageError;
use wazuh_cluster_core::agents::{
    AgentId, AgentInfoRecord, AgentRecord, AgentStore, ConnectionStatus,
};

use super::SqliteStorage;

/// Ids as the JSON array `json_each` reads.
fn id_array(ids: &[AgentId]) -> String {
    let mut text = String::with_capacity(ids.len() * 7 + 2);
    text.push('[');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&id.0.to_string());
    }
    text.push(']');
    text
}

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

/// Agent-info rows written by one statement (8 parameters each, within SQLite's 32766).
const INFO_BATCH: usize = 500;

/// The upsert of `rows` agent-info rows: one `VALUES` tuple per row, in order, so a later row
/// of the same agent meets the earlier one. Only placeholders vary, never data.
fn upsert_info_sql(rows: usize) -> AssertSqlSafe<String> {
    let mut sql = String::from(
        "INSERT INTO agent_info \
         (id, status, last_keepalive, disconnection_time, version, os, node, seen_at) VALUES ",
    );
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?,?,?,?,?,?,?)");
    }
    sql.push_str(
        " ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
         last_keepalive = excluded.last_keepalive, \
         disconnection_time = excluded.disconnection_time, \
         version = excluded.version, os = excluded.os, node = excluded.node, \
         seen_at = excluded.seen_at \
         WHERE excluded.seen_at > agent_info.seen_at \
         OR (excluded.seen_at = agent_info.seen_at AND excluded.node IS agent_info.node)",
    );
    AssertSqlSafe(sql)
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

#[async_trait]
impl AgentStore for SqliteStorage {
    async fn agents(&self) -> Result<Vec<AgentRecord>, StorageError> {
        let operation = "read the registered agents";
        let mut tx = self
            .agents_pool()
            .begin()
            .await
            .map_err(|e| StorageError::new(operation, e))?;
        let rows = sqlx::query("SELECT id, name, ip, key, registered_at FROM agent ORDER BY id")
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| StorageError::new(operation, e))?;
        let groups = sqlx::query(
            "SELECT a.agent_id, a.group_name FROM agent_group_assignment a \
             JOIN agent ON agent.id = a.agent_id ORDER BY a.agent_id, a.position",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| StorageError::new(operation, e))?;
        tx.commit()
            .await
            .map_err(|e| StorageError::new(operation, e))?;
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

    async fn registered(&self, ids: &[AgentId]) -> Result<BTreeSet<AgentId>, StorageError> {
        let operation = || format!("look up {} agent ids", ids.len());
        if ids.is_empty() {
            return Ok(BTreeSet::new());
        }
        // One row with every id: the driver hands rows over one by one between threads.
        let found: Option<String> = sqlx::query_scalar(
            "SELECT group_concat(id) FROM agent \
             WHERE id IN (SELECT DISTINCT value FROM json_each(?1))",
        )
        .bind(id_array(ids))
        .fetch_one(self.agents_pool())
        .await
        .map_err(|e| StorageError::new(operation(), e))?;
        found
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .filter(|id| !id.is_empty())
            .map(|id| {
                id.parse().map(AgentId).map_err(|_| {
                    StorageError::new(operation(), format!("stored agent id {id:?} out of range"))
                })
            })
            .collect()
    }

    async fn insert_agent(&self, agent: &AgentRecord) -> Result<(), StorageError> {
        let operation = || format!("insert agent {} ({})", agent.id, agent.name);
        let mut tx = self
            .agents_pool()
            .begin()
            .await
            .map_err(|e| StorageError::new(operation(), e))?;
        sqlx::query(
            "INSERT INTO agent (id, name, ip, key, registered_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(i64::from(agent.id.0))
        .bind(&agent.name)
        .bind(agent.ip.to_string())
        .bind(agent.key.as_str())
        .bind(agent.registered_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| StorageError::new(operation(), e))?;
        replace_groups(&mut tx, agent.id, &agent.groups)
            .await
            .map_err(|e| StorageError::new(operation(), e))?;
        tx.commit()
            .await
            .map_err(|e| StorageError::new(operation(), e))
    }

    async fn remove_agent(&self, id: AgentId) -> Result<bool, StorageError> {
        let operation = || format!("remove agent {id}");
        let mut tx = self
            .agents_pool()
            .begin()
            .await
            .map_err(|e| StorageError::new(operation(), e))?;
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
                .map_err(|e| StorageError::new(operation(), e))?
                .rows_affected();
        }
        tx.commit()
            .await
            .map_err(|e| StorageError::new(operation(), e))?;
        Ok(removed > 0)
    }

    async fn set_agent_groups(&self, id: AgentId, groups: &[String]) -> Result<(), StorageError> {
        let operation = || format!("set the groups of agent {id} to {groups:?}");
        let mut tx = self
            .agents_pool()
            .begin()
            .await
            .map_err(|e| StorageError::new(operation(), e))?;
        replace_groups(&mut tx, id, groups)
            .await
            .map_err(|e| StorageError::new(operation(), e))?;
        tx.commit()
            .await
            .map_err(|e| StorageError::new(operation(), e))
    }

    async fn agent_groups(&self) -> Result<Vec<(AgentId, Vec<String>)>, StorageError> {
        let operation = "read the group assignments";
        let rows = sqlx::query(
            "SELECT agent_id, group_name FROM agent_group_assignment \
             ORDER BY agent_id, position",
        )
        .fetch_all(self.agents_pool())
        .await
        .map_err(|e| StorageError::new(operation, e))?;
        group_assignments(&rows, operation)
    }

    async fn groups(&self) -> Result<Vec<String>, StorageError> {
        sqlx::query_scalar("SELECT name FROM agent_group ORDER BY name")
            .fetch_all(self.agents_pool())
            .await
            .map_err(|e| StorageError::new("read the groups", e))
    }

    async fn insert_group(&self, name: &str) -> Result<bool, StorageError> {
        let done = sqlx::query("INSERT OR IGNORE INTO agent_group (name) VALUES (?1)")
            .bind(name)
            .execute(self.agents_pool())
            .await
            .map_err(|e| StorageError::new(format!("insert group {name:?}"), e))?;
        Ok(done.rows_affected() == 1)
    }

    async fn apply_info(&self, rows: &[AgentInfoRecord]) -> Result<usize, StorageError> {
        let operation = || format!("apply {} agent-info rows", rows.len());
        let mut tx = self
            .agents_pool()
            .begin()
            .await
            .map_err(|e| StorageError::new(operation(), e))?;
        let mut written = 0u64;
        for batch in rows.chunks(INFO_BATCH) {
            let mut query = sqlx::query(upsert_info_sql(batch.len()));
            for row in batch {
                query = query
                    .bind(i64::from(row.id.0))
                    .bind(row.status.as_str())
                    .bind(row.last_keepalive)
                    .bind(row.disconnection_time)
                    .bind(row.version.as_deref())
                    .bind(row.os.as_deref())
                    .bind(row.node.as_deref())
                    .bind(row.seen_at());
            }
            written += query
                .execute(&mut *tx)
                .await
                .map_err(|e| StorageError::new(operation(), e))?
                .rows_affected();
        }
        tx.commit()
            .await
            .map_err(|e| StorageError::new(operation(), e))?;
        Ok(usize::try_from(written).unwrap_or(usize::MAX))
    }

    async fn infos(&self) -> Result<Vec<AgentInfoRecord>, StorageError> {
        let operation = "read the agent-info rows";
        let rows = sqlx::query(
            "SELECT id, status, last_keepalive, disconnection_time, version, os, node \
             FROM agent_info ORDER BY id",
        )
        .fetch_all(self.agents_pool())
        .await
        .map_err(|e| StorageError::new(operation, e))?;
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
        .fetch_all(self.agents_pool())
        .await
        .map_err(|e| StorageError::new(operation(), e))?;
        rows.iter()
            .map(|row| info_from_row(row, &operation()))
            .collect()
    }

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
            StorageError::new(
                format!("mark agents silent since before {cutoff} as disconnected"),
                e,
            )
        })?;
        Ok(usize::try_from(done.rows_affected()).unwrap_or(usize::MAX))
    }
}
