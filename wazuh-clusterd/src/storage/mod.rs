//! The cluster database on SQLite: `DIR/var/db/cluster.db`, through sqlx.
//!
//! # Schema
//!
//! The schema is the set of migrations in `wazuh-clusterd/migrations/`, applied in file-name
//! order at every start ([`SqliteStorage::open`]); sqlx records the applied ones in its table
//! `_sqlx_migrations` and refuses a database whose applied migrations were edited since.
//!
//! - `0001_nodes.sql`: table `node` (`name` primary key, `node_type` `master`|`worker`, `version`,
//!   `address`, `connected_since_ns` = nanoseconds since the Unix epoch, so that a
//!   [`std::time::SystemTime`] round-trips exactly).
//!
//! To add tables (file sync state, agents...), add a file `NNNN_what.sql` with the next number;
//! never edit one that was released. `build.rs` makes cargo rebuild when the folder changes.
//!
//! # Connection settings
//!
//! On a file: WAL journal, `synchronous = NORMAL` (a committed transaction survives a crash of
//! the process; WAL keeps the old or the new state after a power loss), a 5 s busy timeout,
//! foreign keys on, a 64 MB page cache and reads through a memory map. The agent store writes on a
//! connection of its own, so that its page cache stays warm between agent-info ingests, and
//! reads on read-only connections of its own, so that reads and writes never wait for each
//! other. In memory (tests): a single connection, since every connection to
//! `sqlite::memory:` would open its own empty database. An operation waits up to 600 s for a
//! connection of its pool (sqlx's default is 30 s): under load it queues instead of failing.
//!
//! # Errors
//!
//! sqlx's errors become the core's `StorageError` of a kind: `Closed` when the pool was closed
//! by the node's stop (the caller logs what was cut as a warning), `Busy` when every
//! connection stayed busy for the whole wait, `Failed` otherwise.

mod agents;
mod error;
mod file_mode;
mod info_upsert;
mod info_writer;
mod pool;
mod sqlite;
mod sync_states;

pub use file_mode::DB_MODE;
pub use sqlite::{BUSY_TIMEOUT, DB_RELATIVE_PATH, OpenError, SqliteStorage};
