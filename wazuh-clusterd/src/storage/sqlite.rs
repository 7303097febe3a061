//! [`SqliteStorage`]: the core's [`Storage`] on SQLite.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use sqlx::Row;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous};
use thiserror::Error;
use wazuh_cluster_core::{NodeRecord, NodeType, Storage, StorageError};

use super::error::storage_error;
use super::info_writer::InfoWriter;
use super::pool::pool_options;

/// The database file, relative to the installation folder.
pub const DB_RELATIVE_PATH: &str = "var/db/cluster.db";
/// How long a statement waits for a lock held by another connection before failing.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections of the pool on a file (WAL lets readers run beside the one writer).
const FILE_POOL_SIZE: u32 = 4;
/// How long the agent store's writer waits for the write lock: longer than the other
/// connections, since what it writes (a registration, a worker's agent-info) is lost or
/// refused when it gives up, and at 25 workers the first file syncs' states held the lock for
/// more than [`BUSY_TIMEOUT`] in turn (`insert agent ... database is locked`, measured here).
const AGENT_WRITE_BUSY_TIMEOUT: Duration = Duration::from_secs(15);
/// How long the file sync states' writer waits for the write lock: the master's own
/// bookkeeping, which nothing else waits for, so it gives way to the agent writer rather than
/// give up: at 100 workers on a loaded machine the agent-info group commits held the lock in
/// turn for more than [`AGENT_WRITE_BUSY_TIMEOUT`] (`store N file sync states failed ...
/// database is locked`, measured by `loadtest --workers 100`). On the agent writer's own
/// connection instead, registrations queued behind every worker's first states and the
/// control socket's 30 s answer timeout passed (measured the same way).
const STATES_WRITE_BUSY_TIMEOUT: Duration = Duration::from_secs(120);
/// Read-only connections of the agent store on a file (its reads never wait for its writer).
const AGENT_READERS: u32 = 2;

/// Page cache of the agent store's writer, in KiB when negative (SQLite's default is 2 MB). It
/// reads through the memory map below; 8 MiB ingests agent-info as fast as 64 MiB did (35.7 ms
/// per 10,000 agents, benches/README.md) and bounds what the cache can hold.
const CACHE_SIZE: &str = "-8192";
/// Page cache of every other connection (about SQLite's default): they read whole tables now and
/// then (agent-groups, `cluster_control`), which the kernel's page cache serves.
const SMALL_CACHE_SIZE: &str = "-2048";
/// Bytes of the file the agent store's writer reads through a memory map. Only that connection
/// maps the file: every mapping counts its touched pages in the process's RSS again, and with
/// every connection mapping it, about 72 MB of a 25-worker master's RSS was the same 49 MB file
/// (`loadtest`, benches/README.md).
const MMAP_SIZE: &str = "268435456";

static MIGRATOR: Migrator = sqlx::migrate!();

/// Why the database could not be opened.
#[derive(Debug, Error)]
pub enum OpenError {
    /// The folder of the database could not be created.
    #[error("cannot create the database folder {path}: {source}; check that this user owns it")]
    Folder {
        /// The folder.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The database file could not be created with its mode, or is a symbolic link.
    #[error(
        "cannot prepare the cluster database {path} (mode 0640, no symbolic link): {source}; \
         check that this user owns it"
    )]
    File {
        /// The database file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// SQLite refused to open the file.
    #[error(
        "cannot open the cluster database {path}: {source}; check its permissions, or move a \
         damaged file away (the node rebuilds it)"
    )]
    Connect {
        /// The database file (`:memory:` in memory).
        path: PathBuf,
        /// sqlx's error.
        source: sqlx::Error,
    },
    /// A migration failed.
    #[error(
        "cannot bring the cluster database {path} to this version's schema: {source}; a database \
         written by a newer or modified build must be moved away"
    )]
    Migrate {
        /// The database file.
        path: PathBuf,
        /// sqlx's error.
        source: sqlx::migrate::MigrateError,
    },
}

/// The cluster database on SQLite. Cloning shares the pools.
///
/// The agent store writes on a connection of its own: a connection whose page cache is warm
/// keeps it only while no other connection writes, and sqlx hands out a pool's idle connections
/// in turn, so agent-info written by one connection made the next lookup on another reread the
/// pages it touched (about a quarter of an ingest's time). It reads on read-only connections of
/// their own (WAL lets them read beside the writer), so that a long read (every agent for a
/// listing) never holds back agent-info ingestion, and a burst of writes never holds back a
/// read.
/// The workers' agent-info ingests reach that writing connection through one task that writes
/// every ingest waiting in one transaction (`info_writer`: group commit).
///
/// The file sync states are written on one connection of their own too, a statement of a few
/// hundred rows at a time, each its own transaction: the workers' syncs then queue in the process
/// for that connection instead of in SQLite's lock, and every other writer of the database waits
/// for at most one such statement (25 workers' first syncs held the lock in turn for seconds
/// and the others failed with `database is locked`, measured by `loadtest`).
#[derive(Debug, Clone)]
pub struct SqliteStorage {
    pool: SqlitePool,
    agents: SqlitePool,
    agent_reads: SqlitePool,
    states: SqlitePool,
    info_writer: InfoWriter,
}

impl SqliteStorage {
    /// Opens (creating it if missing) the database file at `path`, in WAL mode, and applies the
    /// migrations.
    pub async fn open(path: &Path) -> Result<Self, OpenError> {
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).map_err(|source| OpenError::Folder {
                path: folder.to_path_buf(),
                source,
            })?;
        }
        super::file_mode::prepare(path).map_err(|source| OpenError::File {
            path: path.to_path_buf(),
            source,
        })?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            .pragma("cache_size", SMALL_CACHE_SIZE);
        let connect = |connections| pool_options(connections).connect_with(options.clone());
        let connect_error = |source| OpenError::Connect {
            path: path.to_path_buf(),
            source,
        };
        let pool = connect(FILE_POOL_SIZE).await.map_err(connect_error)?;
        let storage = Self::migrated(pool, path).await?;
        let agents = pool_options(1)
            .connect_with(
                options
                    .clone()
                    .busy_timeout(AGENT_WRITE_BUSY_TIMEOUT)
                    .pragma("cache_size", CACHE_SIZE)
                    .pragma("mmap_size", MMAP_SIZE),
            )
            .await
            .map_err(connect_error)?;
        let states = pool_options(1)
            .connect_with(options.clone().busy_timeout(STATES_WRITE_BUSY_TIMEOUT))
            .await
            .map_err(connect_error)?;
        let reader = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .busy_timeout(BUSY_TIMEOUT)
            .pragma("cache_size", SMALL_CACHE_SIZE);
        let agent_reads = pool_options(AGENT_READERS)
            .connect_with(reader)
            .await
            .map_err(connect_error)?;
        super::file_mode::restrict_companions(path).map_err(|source| OpenError::File {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self {
            info_writer: InfoWriter::start(agents.clone()),
            agents,
            agent_reads,
            states,
            ..storage
        })
    }

    /// Opens `DIR/var/db/cluster.db` of the installation `home`.
    pub async fn open_in_home(home: &Path) -> Result<Self, OpenError> {
        let relative = Path::new(DB_RELATIVE_PATH);
        let folder = relative.parent().unwrap_or(Path::new(""));
        let dir = crate::home_path::real_dir(home, folder).map_err(|source| OpenError::Folder {
            path: home.join(folder),
            source,
        })?;
        Self::open(&dir.join(relative.file_name().unwrap_or_default())).await
    }

    /// A fresh database in memory (one connection), with the migrations applied.
    pub async fn in_memory() -> Result<Self, OpenError> {
        let path = Path::new(":memory:");
        let options = SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(|source| OpenError::Connect {
                path: path.to_path_buf(),
                source,
            })?
            .foreign_keys(true);
        let pool = pool_options(1)
            .connect_with(options)
            .await
            .map_err(|source| OpenError::Connect {
                path: path.to_path_buf(),
                source,
            })?;
        Self::migrated(pool, path).await
    }

    async fn migrated(pool: SqlitePool, path: &Path) -> Result<Self, OpenError> {
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|source| OpenError::Migrate {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Self {
            agents: pool.clone(),
            agent_reads: pool.clone(),
            states: pool.clone(),
            info_writer: InfoWriter::start(pool.clone()),
            pool,
        })
    }

    /// The connection pool, for modules that add their own tables by migration.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The agent store's own writing connection (the pool's one connection in memory).
    pub(super) fn agents_pool(&self) -> &SqlitePool {
        &self.agents
    }

    /// The group commit of agent-info ingests, on the agent store's writing connection.
    pub(super) fn info_writer(&self) -> &InfoWriter {
        &self.info_writer
    }

    /// The file sync states' writing connection (the pool's one connection in memory).
    pub(super) fn states_pool(&self) -> &SqlitePool {
        &self.states
    }

    /// The agent store's read-only connections (the pool's one connection in memory).
    pub(super) fn agent_reads(&self) -> &SqlitePool {
        &self.agent_reads
    }

    /// The journal mode SQLite reports (`wal` on a file, `memory` in memory).
    pub async fn journal_mode(&self) -> Result<String, sqlx::Error> {
        sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&self.pool)
            .await
    }

    /// Waits for running statements, checkpoints the WAL and closes every connection.
    pub async fn close(&self) {
        self.agent_reads.close().await;
        self.agents.close().await;
        self.states.close().await;
        self.pool.close().await;
    }
}

fn nanos_since_epoch(time: SystemTime) -> i64 {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
}

fn time_from_nanos(nanos: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(u64::try_from(nanos).unwrap_or(0))
}

fn node_type_from(text: &str) -> Result<NodeType, String> {
    match text {
        "master" => Ok(NodeType::Master),
        "worker" => Ok(NodeType::Worker),
        other => Err(format!(
            "table node holds node_type {other:?}; only master and worker are allowed"
        )),
    }
}

#[async_trait]
impl Storage for SqliteStorage {
    async fn record_node(&self, node: NodeRecord) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO node (name, node_type, version, address, connected_since_ns) \
             VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (name) DO UPDATE SET node_type = excluded.node_type, \
             version = excluded.version, address = excluded.address, \
             connected_since_ns = excluded.connected_since_ns",
        )
        .bind(&node.name)
        .bind(node.node_type.as_str())
        .bind(&node.version)
        .bind(&node.address)
        .bind(nanos_since_epoch(node.connected_since))
        .execute(&self.pool)
        .await
        .map_err(|e| storage_error(format!("record node {}", node.name), e))?;
        Ok(())
    }

    async fn remove_node(&self, name: &str) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM node WHERE name = ?1")
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(|e| storage_error(format!("remove node {name}"), e))?;
        Ok(())
    }

    async fn nodes(&self) -> Result<Vec<NodeRecord>, StorageError> {
        let rows = sqlx::query(
            "SELECT name, node_type, version, address, connected_since_ns FROM node ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| storage_error("list nodes", e))?;
        rows.into_iter()
            .map(|row| {
                let node_type: String = row.get("node_type");
                Ok(NodeRecord {
                    name: row.get("name"),
                    node_type: node_type_from(&node_type)
                        .map_err(|e| StorageError::new("list nodes", e))?,
                    version: row.get("version"),
                    address: row.get("address"),
                    connected_since: time_from_nanos(row.get("connected_since_ns")),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pool on a file queues an operation for `ACQUIRE_TIMEOUT` rather than sqlx's 30 s:
    /// at 25 workers the setup's peak held the agent store's connections longer than that.
    #[tokio::test]
    async fn every_pool_waits_the_acquire_timeout() {
        let home = tempfile::tempdir().unwrap();
        let store = SqliteStorage::open_in_home(home.path()).await.unwrap();
        use super::super::pool::ACQUIRE_TIMEOUT;
        for pool in [
            store.pool(),
            store.agents_pool(),
            store.agent_reads(),
            store.states_pool(),
        ] {
            assert_eq!(pool.options().get_acquire_timeout(), ACQUIRE_TIMEOUT);
        }
        store.close().await;
    }
}
