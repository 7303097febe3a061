//! [`RaftDb`]: the connection pool the Raft storage writes through, and its single values.

use std::io;
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::sqlite::{SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Executor, Sqlite};
use thiserror::Error;

use super::{SqliteLogStore, SqliteStateMachine};
use crate::storage::SqliteStorage;

/// Connections of the Raft pool: one for the log store, one for the state machine.
const RAFT_POOL_SIZE: u32 = 2;

/// Why the Raft storage could not be opened.
#[derive(Debug, Error)]
pub enum RaftDbError {
    /// The connections could not be opened.
    #[error("cannot open the Raft connections of the cluster database {path}: {source}")]
    Connect {
        /// The database file.
        path: String,
        /// sqlx's error.
        source: sqlx::Error,
    },
    /// The stored state could not be read back.
    #[error(
        "cannot read the replicated registry from the cluster database: {0}; move the database away to rejoin the cluster from a snapshot"
    )]
    Load(#[from] io::Error),
}

/// The Raft storage's connections: the cluster database's file with `synchronous = FULL`.
#[derive(Debug, Clone)]
pub struct RaftDb {
    pool: SqlitePool,
}

impl RaftDb {
    /// Opens Raft connections to `storage`'s database (migrated by [`SqliteStorage::open`]).
    /// In memory there is one database per connection, so the Raft storage shares `storage`'s.
    pub async fn open(storage: &SqliteStorage) -> Result<Self, RaftDbError> {
        let options = storage.pool().connect_options();
        if options.get_filename() == Path::new(":memory:") {
            return Ok(RaftDb {
                pool: storage.pool().clone(),
            });
        }
        let options = (*options).clone().synchronous(SqliteSynchronous::Full);
        let pool = SqlitePoolOptions::new()
            .max_connections(RAFT_POOL_SIZE)
            .connect_with(options.clone())
            .await
            .map_err(|source| RaftDbError::Connect {
                path: options.get_filename().display().to_string(),
                source,
            })?;
        Ok(RaftDb { pool })
    }

    /// The Raft log store.
    pub fn log_store(&self) -> SqliteLogStore {
        SqliteLogStore::new(self.pool.clone())
    }

    /// The state machine, loaded from its tables.
    pub async fn state_machine(&self) -> Result<SqliteStateMachine, RaftDbError> {
        Ok(SqliteStateMachine::load(self.pool.clone()).await?)
    }
}

/// A storage failure as openraft wants it: an I/O error that names what failed.
pub(super) fn io_error(what: &str, error: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("Raft storage: {what}: {error}"))
}

/// The JSON text of a value.
pub(super) fn to_json(what: &str, value: &impl Serialize) -> io::Result<String> {
    serde_json::to_string(value).map_err(|e| io_error(what, e))
}

/// A value from its JSON text.
pub(super) fn from_json<T: DeserializeOwned>(what: &str, text: &str) -> io::Result<T> {
    serde_json::from_str(text).map_err(|e| io_error(what, e))
}

/// Reads the single value `name` of `raft_meta`.
pub(super) async fn read_meta<'e, T: DeserializeOwned>(
    executor: impl Executor<'e, Database = Sqlite>,
    name: &str,
) -> io::Result<Option<T>> {
    let text: Option<String> = sqlx::query_scalar("SELECT value FROM raft_meta WHERE name = ?")
        .bind(name)
        .fetch_optional(executor)
        .await
        .map_err(|e| io_error(name, e))?;
    text.map(|t| from_json(name, &t)).transpose()
}

/// Writes the single value `name` of `raft_meta`.
pub(super) async fn write_meta<'e>(
    executor: impl Executor<'e, Database = Sqlite>,
    name: &str,
    value: &impl Serialize,
) -> io::Result<()> {
    sqlx::query("INSERT OR REPLACE INTO raft_meta (name, value) VALUES (?, ?)")
        .bind(name)
        .bind(to_json(name, value)?)
        .execute(executor)
        .await
        .map_err(|e| io_error(name, e))?;
    Ok(())
}
