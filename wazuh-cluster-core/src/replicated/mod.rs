//! The replicated registry: what only the master owns today (the agent registry and the file
//! manifest it pushes), replicated through a Raft log among the master-eligible nodes with
//! openraft.
//!
//! The pieces, each usable alone:
//! - [`RegistryCommand`] (what the log carries) and [`Registry::apply`] (the deterministic rules:
//!   unique names, unique IPs unless `any`, increasing ids; a refusal is a committed no-op that
//!   answers [`CommandRefused`]);
//! - [`MachineState`]: registry + last applied entry + membership, applied entry by entry the
//!   same way by every state machine; snapshots are the whole registry;
//! - [`RegistryRaftConfig`]: openraft's types, on [`runtime::RaftRuntime`] (tokio without
//!   `rt-multi-thread`, seeded election draws);
//! - [`network`]: the RPCs behind a transport-independent [`RaftPeer`] trait; over the
//!   cluster's sessions with [`SessionConnector`] (sending) and [`install_raft_routes`]
//!   (answering), as the `raft_*` commands of `wazuh_cluster_proto::payload::raft`;
//! - `memory` (feature `testing`): an in-memory log store, state machine and network that pass
//!   openraft's storage conformance suite and run whole clusters in tests.
//!
//! How the role supervisor uses them: on a master-eligible node it calls
//! [`runtime::seed_election_rng`] with a seed of its own, builds the daemon's SQLite log store
//! and state machine, a `PeerNetwork::new(Arc::new(SessionConnector::new(sessions)))` over the
//! cluster sessions it keeps to the other members, and starts a [`RegistryRaft`] with `Raft::new`
//! (`initialize` once, with every `<node>`, on a new cluster); it calls [`install_raft_routes`]
//! on the router of every session between members. It follows `raft.metrics()`
//! (`current_leader`, `state`) to run the node as master while it leads (once
//! `wait().leader_with_quorum_acked` says a quorum acknowledged it: before that openraft refuses
//! writes with `ForwardToLeader`/`LeaseExpired`) and as a worker of the leader otherwise. The
//! master's registry proposes with `raft.client_write(cmd)` (key and time drawn by the
//! proposer) and answers the [`CommandResponse`]; a `ForwardToLeader` or timeout becomes a
//! clear "no master" error. Every node reads the applied registry to render `client.keys`.

mod agent_backend;
mod command;
mod leadership;
mod machine;
mod manifest;
mod manifest_diff;
mod members;
#[cfg(feature = "testing")]
pub mod memory;
pub mod network;
mod refusal;
mod registry;
pub mod runtime;
mod session_peer;
mod session_routes;
mod snapshot_rpc;
mod type_config;

pub use agent_backend::{COMMIT_TIMEOUT, ReplicatedRegistry};
pub use command::{Applied, CommandResponse, RegistryCommand};
pub use leadership::Leadership;
pub use machine::{MachineState, PendingAnswers, RegistrySnapshot, apply_batch};
pub use manifest::{HASH_HEX_LEN, MAX_PATH_LEN, ManifestEntry, check_path};
pub use manifest_diff::{MANIFEST_BATCH, manifest_changes};
pub use members::MemberDirectory;
pub use network::{PeerConnector, PeerError, PeerNetwork, RaftPeer};
pub use refusal::CommandRefused;
pub use registry::{Registry, RegistryData};
pub use session_peer::{SessionConnector, SessionSource};
pub use session_routes::install_raft_routes;
pub use snapshot_rpc::SnapshotRpc;
pub use type_config::{
    RegistryEntry, RegistryLogId, RegistryMembership, RegistryRaft, RegistryRaftConfig,
    RegistrySnapshotMeta, RegistryVote,
};
