//! The replicated registry's Raft storage in the node's SQLite database: the log, vote and
//! commit point ([`SqliteLogStore`]) and the state machine with its snapshot
//! ([`SqliteStateMachine`]), both on a [`RaftDb`] connection that makes every commit durable
//! before it returns. Tables: migration `0004_raft.sql`.
//!
//! How the role supervisor uses them: on a master-eligible node, after `SqliteStorage::open`,
//! `RaftDb::open(&storage)`, then `Raft::new(id, config, network, db.log_store(),
//! db.state_machine().await?)` (see `wazuh_cluster_core::replicated`). A restart reopens the
//! same tables: openraft reads the vote and log back, and the state machine its applied state.
//!
//! Durability: the Raft connection runs WAL with `synchronous = FULL`, so a transaction's
//! commit fsyncs the WAL before it returns; `append` reports its entries flushed only after
//! that commit, and openraft acknowledges nothing it was not told is flushed. One `append` is
//! one transaction, so entries that wait together share one fsync: openraft hands over every
//! client write queued while the previous flush ran.

mod db;
mod log_store;
mod state_machine;

pub use db::{RaftDb, RaftDbError};
pub use log_store::SqliteLogStore;
pub use state_machine::SqliteStateMachine;
