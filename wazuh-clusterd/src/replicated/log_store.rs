//! [`SqliteLogStore`]: the Raft log, vote and commit point in `raft_log` and `raft_meta`.

use std::fmt::Debug;
use std::io;
use std::ops::{Bound, RangeBounds};

use openraft::entry::RaftEntry;
use openraft::storage::{IOFlushed, LogState, RaftLogReader, RaftLogStorage};
use sqlx::sqlite::SqlitePool;
use sqlx::{QueryBuilder, Sqlite};
use wazuh_cluster_core::replicated::{
    RegistryEntry, RegistryLogId, RegistryRaftConfig as C, RegistryVote,
};

use super::db::{from_json, io_error, read_meta, to_json, write_meta};

const VOTE: &str = "vote";
const COMMITTED: &str = "committed";
const LAST_PURGED: &str = "last_purged";

/// Entries per `INSERT` statement (two parameters each, far below SQLite's 32,766): one
/// statement per few hundred entries instead of one per entry.
const ROWS_PER_INSERT: usize = 256;

/// The log store; clones share the pool (a clone is openraft's log reader).
#[derive(Debug, Clone)]
pub struct SqliteLogStore {
    pool: SqlitePool,
}

impl SqliteLogStore {
    pub(super) fn new(pool: SqlitePool) -> Self {
        SqliteLogStore { pool }
    }
}

/// The indexes `range` covers, as a half-open `[start, end)` of SQLite integers.
fn index_bounds(range: &impl RangeBounds<u64>) -> (i64, i64) {
    let clamp = |i: u64| i64::try_from(i).unwrap_or(i64::MAX);
    let start = match range.start_bound() {
        Bound::Included(&i) => clamp(i),
        Bound::Excluded(&i) => clamp(i).saturating_add(1),
        Bound::Unbounded => 0,
    };
    let end = match range.end_bound() {
        Bound::Included(&i) => clamp(i).saturating_add(1),
        Bound::Excluded(&i) => clamp(i),
        Bound::Unbounded => i64::MAX,
    };
    (start, end)
}

fn index(i: u64) -> io::Result<i64> {
    i64::try_from(i).map_err(|_| io_error("log index", format!("{i} is beyond SQLite's integers")))
}

impl RaftLogReader<C> for SqliteLogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> Result<Vec<RegistryEntry>, io::Error> {
        let (start, end) = index_bounds(&range);
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT entry FROM raft_log WHERE log_index >= ? AND log_index < ? ORDER BY log_index",
        )
        .bind(start)
        .bind(end)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| io_error("read log entries", e))?;
        rows.iter()
            .map(|text| from_json("log entry", text))
            .collect()
    }

    async fn read_vote(&mut self) -> Result<Option<RegistryVote>, io::Error> {
        read_meta(&self.pool, VOTE).await
    }
}

impl RaftLogStorage<C> for SqliteLogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<C>, io::Error> {
        let last_purged: Option<RegistryLogId> = read_meta(&self.pool, LAST_PURGED).await?;
        let last: Option<String> =
            sqlx::query_scalar("SELECT entry FROM raft_log ORDER BY log_index DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| io_error("read the last log entry", e))?;
        let last = last
            .map(|text| from_json::<RegistryEntry>("log entry", &text).map(|e| e.log_id()))
            .transpose()?;
        Ok(LogState {
            last_purged_log_id: last_purged,
            last_log_id: last.or(last_purged),
        })
    }

    async fn get_log_reader(&mut self) -> Self {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &RegistryVote) -> Result<(), io::Error> {
        write_meta(&self.pool, VOTE, vote).await
    }

    async fn save_committed(&mut self, committed: Option<RegistryLogId>) -> Result<(), io::Error> {
        write_meta(&self.pool, COMMITTED, &committed).await
    }

    async fn read_committed(&mut self) -> Result<Option<RegistryLogId>, io::Error> {
        Ok(read_meta::<Option<RegistryLogId>>(&self.pool, COMMITTED)
            .await?
            .flatten())
    }

    /// Writes the entries in one transaction; its commit is the fsync that makes them durable,
    /// and only then are they reported flushed.
    async fn append<I>(&mut self, entries: I, callback: IOFlushed<C>) -> Result<(), io::Error>
    where
        I: IntoIterator<Item = RegistryEntry> + Send,
        I::IntoIter: Send,
    {
        let written: io::Result<()> = async {
            let mut tx = self
                .pool
                .begin()
                .await
                .map_err(|e| io_error("begin an append", e))?;
            let rows = entries
                .into_iter()
                .map(|entry| Ok((index(entry.index())?, to_json("log entry", &entry)?)))
                .collect::<io::Result<Vec<(i64, String)>>>()?;
            for chunk in rows.chunks(ROWS_PER_INSERT) {
                QueryBuilder::<Sqlite>::new("INSERT OR REPLACE INTO raft_log (log_index, entry) ")
                    .push_values(chunk, |mut row, (index, entry)| {
                        row.push_bind(*index).push_bind(entry);
                    })
                    .build()
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| io_error("append log entries", e))?;
            }
            tx.commit()
                .await
                .map_err(|e| io_error("commit an append", e))
        }
        .await;
        match written {
            Ok(()) => {
                callback.io_completed(Ok(()));
                Ok(())
            }
            Err(error) => {
                callback.io_completed(Err(io::Error::new(error.kind(), error.to_string())));
                Err(error)
            }
        }
    }

    async fn truncate_after(&mut self, last: Option<RegistryLogId>) -> Result<(), io::Error> {
        let from = match last {
            Some(id) => index(id.index())?.saturating_add(1),
            None => 0,
        };
        sqlx::query("DELETE FROM raft_log WHERE log_index >= ?")
            .bind(from)
            .execute(&self.pool)
            .await
            .map_err(|e| io_error("truncate the log", e))?;
        Ok(())
    }

    async fn purge(&mut self, upto: RegistryLogId) -> Result<(), io::Error> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| io_error("begin a purge", e))?;
        write_meta(&mut *tx, LAST_PURGED, &upto).await?;
        sqlx::query("DELETE FROM raft_log WHERE log_index <= ?")
            .bind(index(upto.index())?)
            .execute(&mut *tx)
            .await
            .map_err(|e| io_error("purge the log", e))?;
        tx.commit().await.map_err(|e| io_error("commit a purge", e))
    }
}
