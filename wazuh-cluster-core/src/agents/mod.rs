//! Agents: the registry on the master, registration forwarding from workers, agent-info from
//! the workers to the master, agent-groups from the master to the workers.
//!
//! Both are modules of their role (see [`crate::module`]), what an embedder adds per node:
//! - master: `builder.module(|ctx| MasterAgents::new(ctx, store, files, config, seed))`;
//! - worker: `builder.module(|ctx| WorkerAgents::new(ctx, store, files, config, seed))`.
//!
//! Every task the agents start (the periodic one, and those a handler starts to answer later)
//! runs inside the node's `run` future, so a stopped or crashed node leaves none behind.
//!
//! Both implement [`AgentApi`] (register, delete, groups, listing, status reports): the master
//! decides, a worker forwards to it. The store is any [`AgentStore`] (memory for tests, SQLite
//! in the daemon); files go through the node's [`FileSource`](crate::files::FileSource), and
//! the integrity sync carries `etc/client.keys`, `etc/shared/` and `var/multigroups/` to the
//! workers.
//!
//! Module map: [`model`] (ids, names, keys, rows), [`error`], [`store`] (+ `memory_store`,
//! `store_suite` with feature `testing`), [`client_keys`], [`groups`] (hashes, merged files),
//! [`registry`] (the master's decisions), [`forward`] (`sendsync` relay), [`strings`]
//! (`new_str`/`str_upd`), [`agent_info`], [`agent_groups`], [`sync_stats`] (the master's
//! per-worker record of both), [`status`], [`keys_reader`], [`config`], [`master_node`],
//! [`worker_node`].

pub mod agent_groups;
mod agent_ids;
pub mod agent_info;
pub mod api;
pub mod client_keys;
pub mod config;
pub mod error;
pub mod forward;
pub mod groups;
pub mod keys_reader;
pub mod master_node;
#[cfg(feature = "testing")]
pub mod memory_store;
pub mod model;
pub mod registry;
pub mod registry_backend;
mod registry_index;
mod shared_read;
pub mod status;
pub mod store;
#[cfg(feature = "testing")]
pub mod store_suite;
pub mod string_shares;
pub mod strings;
pub mod sync_stats;
pub mod worker_node;

pub use api::{AgentApi, AgentEvent, AgentSummary, Registration};
pub use config::AgentsConfig;
pub use error::AgentError;
pub use master_node::MasterAgents;
#[cfg(feature = "testing")]
pub use memory_store::MemoryAgentStore;
pub use model::{AgentId, AgentInfoRecord, AgentIp, AgentKey, AgentRecord, ConnectionStatus};
pub use registry::AgentRegistry;
pub use registry_backend::RegistryBackend;
pub use store::{AgentStore, InfoIngested, StatusCount};
pub use sync_stats::{SyncRun, WorkerAgentSync};
pub use worker_node::WorkerAgents;
