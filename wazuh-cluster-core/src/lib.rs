//! The Wazuh manager cluster: master and worker state machines (handshake, keepalive, integrity
//! sync, agent-info, agent-groups, agent registry) behind the `Storage`, `FileSource`, `Clock` and
//! transport traits. In-memory implementations and a deterministic multi-node harness come with
//! the `testing` feature.
//!
//! Module map:
//! - [`clock`], [`storage`], [`transport`]: the traits an embedder implements;
//! - [`session`]: one connection's requests and replies, both ways, with a command router;
//! - [`master`], [`worker`]: the two roles (connections, handshake, keepalive, node list);
//! - [`module`]: the one shape of every cluster feature ([`Module`] of a [`Role`]); a new
//!   feature is a module added with `MasterBuilder::module` / `WorkerBuilder::module`;
//! - [`integrity`]: the file integrity sync, its building blocks and its two modules
//!   ([`integrity::MasterIntegrity`], [`integrity::WorkerIntegrity`]); [`agents`]: the agent
//!   registry, agent-info and agent-groups ([`agents::MasterAgents`], [`agents::WorkerAgents`]);
//! - [`files`]: the synchronized files;
//!   [`transfer`]: moving a file over a session; [`sync_state`]: per worker and file states;
//! - [`redirect`]: what a node that is not the master answers workers (failover);
//! - [`config`]: timers with Wazuh's defaults; [`node`]: the node list;
//! - [`replicated`]: the agent registry and file manifest replicated with Raft (openraft);
//! - [`telemetry`]: the figures reported through the `metrics` facade (durations, bytes, files,
//!   refused connections), for any exporter the embedder installs;
//! - `testing` (feature): in-memory implementations, the storage conformance suite, the harness.
//!
//! Logging convention: every `tracing` event carries the string fields `tag` (`Master`,
//! `Worker worker01`, `Cluster`) and `subtag` (`Main`, `Keep Alive`, ...) and its message is
//! Wazuh's wording, so `[tag] [subtag] message` is Wazuh's `cluster.log` line.

pub mod agents;
pub mod clock;
pub mod config;
pub mod files;
pub mod integrity;
pub mod master;
pub mod module;
pub mod node;
mod node_rng;
pub mod redirect;
pub mod replicated;
pub mod session;
pub mod storage;
pub mod sync_state;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod transfer;
pub mod transport;
pub mod worker;

pub use clock::{Clock, Instant};
pub use config::{IntegrityConfig, MasterConfig, SessionConfig, VersionRule, WorkerConfig};
pub use master::{Master, MasterBuilder, MasterHandle, MasterRole};
pub use module::{Module, ModuleContext, Role};
pub use node::{NodeInfo, NodeType};
pub use storage::{NodeRecord, Storage, StorageError, StorageErrorKind};
pub use sync_state::{FileSyncState, SyncStateQuery, SyncStateRecord, SyncStateStore};
pub use transport::{BoxTransport, Connection, Connector, Listener, Transport, TransportError};
pub use worker::{Worker, WorkerBuilder, WorkerHandle, WorkerRole, WorkerStatus};
