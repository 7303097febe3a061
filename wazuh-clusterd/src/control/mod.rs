//! The local control socket `DIR/queue/cluster/c-internal.sock` and `cluster_control`.
//!
//! The socket speaks Wazuh's framing unencrypted (section 8 of `wazuh4-protocol.md`): a client
//! connects, sends one request, reads the reply. The server runs each connection as a core
//! session whose router holds the control commands; an unknown command gets Wazuh's plain-text
//! `err`.
//!
//! - [`server`]: binds the socket (mode 0660) and serves it.
//! - [`commands`]: one module per command; [`commands::router`] installs them all. To add a
//!   command (file status, agents...), add a module with a `register` function and call it there.
//! - [`health`]: the `get_health` reply, shared by the socket and the master's
//!   [`HealthModule`](health::HealthModule); [`cluster_queries`]: the master's module answering
//!   the other requests workers forward.
//! - [`protocol`]: the `get_health` and `get_files` replies as types both sides share.
//! - [`client`]: what `cluster_control` uses to ask the daemon; [`views`]: how it prints replies.

pub mod client;
pub mod cluster_queries;
pub mod commands;
pub mod health;
pub mod protocol;
pub mod server;
pub mod socket_file;
pub mod tool;
pub mod views;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use wazuh_cluster_core::agents::{AgentApi, AgentStore, MasterAgents, WorkerAgents};
use wazuh_cluster_core::integrity::{MasterIntegrity, WorkerIntegrity};
use wazuh_cluster_core::{MasterHandle, WorkerHandle};

/// The socket, relative to the installation folder.
pub const SOCKET_RELATIVE_PATH: &str = "queue/cluster/c-internal.sock";

/// The control socket of the installation `home`.
pub fn socket_path(home: &Path) -> PathBuf {
    home.join(SOCKET_RELATIVE_PATH)
}

/// The running master as the control commands see it: its handle and modules.
#[derive(Debug, Clone)]
pub struct MasterView {
    /// The core's handle (node list, sessions).
    pub handle: MasterHandle,
    /// The agent registry and the agent syncs.
    pub agents: Arc<MasterAgents>,
    /// The file integrity sync (sync states, per-worker status).
    pub integrity: Arc<MasterIntegrity>,
}

/// The running worker as the control commands see it: its handle and modules.
#[derive(Debug, Clone)]
pub struct WorkerView {
    /// The core's handle (status, the session to the master).
    pub handle: WorkerHandle,
    /// Agent requests, forwarded to the master.
    pub agents: Arc<WorkerAgents>,
    /// The file integrity sync.
    pub integrity: Arc<WorkerIntegrity>,
}

/// The running role a control command looks at.
#[derive(Debug, Clone)]
pub enum ControlNode {
    /// This node is the master.
    Master(MasterView),
    /// This node is a worker; cluster-wide questions go to its master.
    Worker(WorkerView),
}

/// What the control commands act on: the running role and this node's agent store.
#[derive(Clone)]
pub struct ControlContext {
    /// The role, with its modules.
    pub node: ControlNode,
    /// This node's agent store (on the master: the registry and every agent-info row; on a
    /// worker: its own rows and group assignments).
    pub agent_store: Arc<dyn AgentStore>,
}

impl ControlContext {
    /// Agent management and status: decided here on the master, forwarded by a worker.
    pub fn agents(&self) -> &dyn AgentApi {
        match &self.node {
            ControlNode::Master(master) => master.agents.as_ref(),
            ControlNode::Worker(worker) => worker.agents.as_ref(),
        }
    }
}

impl std::fmt::Debug for ControlContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlContext")
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}
