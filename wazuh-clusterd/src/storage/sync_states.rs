//! The core's [`SyncStateStore`] on SQLite: table `file_sync_state` (migration
//! `0002_file_sync_state.sql`), one row per worker and file.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use sqlx::{AssertSqlSafe, Row};
use wazuh_cluster_core::{
    FileSyncState, StorageError, SyncStateQuery, SyncStateRecord, SyncStateStore,
};

use super::SqliteStorage;
use super::error::storage_error;

fn nanos_since_epoch(time: SystemTime) -> i64 {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
}

fn time_from_nanos(nanos: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(u64::try_from(nanos).unwrap_or(0))
}

/// Sync states written by one statement (4 parameters each, within SQLite's 32766): a
/// statement per row kept the write lock for seconds when a master stored 10,000 states for
/// each of 25 workers, and the other writers of the database then failed with `database is
/// locked` (seen by `wazuh-clusterd loadtest`).
const STATE_BATCH: usize = 500;

/// The upsert of `rows` sync states, one `VALUES` tuple per row in order (a later row of the
/// same node and file updates the earlier one). Only placeholders vary, never data.
fn upsert_states_sql(rows: usize) -> AssertSqlSafe<String> {
    let mut sql =
        String::from("INSERT INTO file_sync_state (node, file, state, changed_ns) VALUES ");
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?,?,?)");
    }
    sql.push_str(
        " ON CONFLICT (node, file) DO UPDATE SET state = excluded.state, \
         changed_ns = excluded.changed_ns",
    );
    AssertSqlSafe(sql)
}

#[async_trait]
impl SyncStateStore for SqliteStorage {
    /// Each batch of `STATE_BATCH` (500) rows is its own transaction on the sync states' writing
    /// connection (see [`SqliteStorage`]): a crash may leave some of a round's states written
    /// and others not, each row whole, and the next round writes them again.
    async fn set_states(&self, records: &[SyncStateRecord]) -> Result<(), StorageError> {
        let operation = || format!("store {} file sync states", records.len());
        let mut connection = self
            .states_pool()
            .acquire()
            .await
            .map_err(|e| storage_error(operation(), e))?;
        for batch in records.chunks(STATE_BATCH) {
            let mut query = sqlx::query(upsert_states_sql(batch.len()));
            for record in batch {
                query = query
                    .bind(&record.node)
                    .bind(&record.file)
                    .bind(record.state.as_str())
                    .bind(nanos_since_epoch(record.changed));
            }
            query
                .execute(&mut *connection)
                .await
                .map_err(|e| storage_error(operation(), e))?;
        }
        Ok(())
    }

    async fn states(&self, query: &SyncStateQuery) -> Result<Vec<SyncStateRecord>, StorageError> {
        let operation = "read file sync states";
        let rows = sqlx::query(
            "SELECT node, file, state, changed_ns FROM file_sync_state \
             WHERE (?1 IS NULL OR node = ?1) AND (?2 IS NULL OR file = ?2) \
             ORDER BY node, file",
        )
        .bind(query.node.as_deref())
        .bind(query.file.as_deref())
        .fetch_all(self.pool())
        .await
        .map_err(|e| storage_error(operation, e))?;
        rows.into_iter()
            .map(|row| {
                let state: String = row.get("state");
                Ok(SyncStateRecord {
                    node: row.get("node"),
                    file: row.get("file"),
                    state: state
                        .parse::<FileSyncState>()
                        .map_err(|e| StorageError::new(operation, e))?,
                    changed: time_from_nanos(row.get("changed_ns")),
                })
            })
            .collect()
    }

    async fn forget_node(&self, node: &str) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM file_sync_state WHERE node = ?1")
            .bind(node)
            .execute(self.states_pool())
            .await
            .map(|_| ())
            .map_err(|e| storage_error(format!("forget the file sync states of {node}"), e))
    }
}
