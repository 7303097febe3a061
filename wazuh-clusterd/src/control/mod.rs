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
//! - [`health`]: the `get_health` reply, shared by the socket and the master's cluster handler.
//! - [`client`]: what `cluster_control` uses to ask the daemon; [`views`]: how it prints replies.

pub mod client;
pub mod commands;
pub mod health;
pub mod server;
pub mod tool;
pub mod views;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use wazuh_cluster_core::agents::{AgentApi, AgentStore, MasterAgents};
use wazuh_cluster_core::{MasterHandle, WorkerHandle};

/// The socket, relative to the installation folder.
pub const SOCKET_RELATIVE_PATH: &str = "queue/cluster/c-internal.sock";

/// The control socket of the installation `home`.
pub fn socket_path(home: &Path) -> PathBuf {
    home.join(SOCKET_RELATIVE_PATH)
}

/// The running role a control command looks at.
#[derive(Debug, Clone)]
pub enum ControlNode {
    /// This node is the master.
    Master(MasterHandle),
    /// This node is a worker; cluster-wide questions go to its master.
    Worker(WorkerHandle),
}

/// What the control commands act on: the running node, its agents and its agent store.
#[derive(Clone)]
pub struct ControlContext {
    /// The role, with the core's handle (integrity through `integrity()` on either handle).
    pub node: ControlNode,
    /// Agent management and status: decided here on the master, forwarded by a worker.
    pub agents: Arc<dyn AgentApi>,
    /// This node's agent store (on the master: the registry and every agent-info row; on a
    /// worker: its own rows and group assignments).
    pub agent_store: Arc<dyn AgentStore>,
    /// On the master, its agent tasks, whose per-worker sync stats `get_health` shows (set
    /// with [`ControlContext::with_master_agents`]); `None` on a worker, or when not given
    /// (the agent syncs then show as never done).
    pub master_agents: Option<MasterAgents>,
}

impl ControlContext {
    /// The context of a master.
    pub fn master(
        master: MasterHandle,
        agents: Arc<dyn AgentApi>,
        agent_store: Arc<dyn AgentStore>,
    ) -> Self {
        Self {
            node: ControlNode::Master(master),
            agents,
            agent_store,
            master_agents: None,
        }
    }

    /// This context with the master's agent tasks, for their sync stats in `get_health`.
    pub fn with_master_agents(mut self, agents: MasterAgents) -> Self {
        self.master_agents = Some(agents);
        self
    }

    /// The context of a worker.
    pub fn worker(
        worker: WorkerHandle,
        agents: Arc<dyn AgentApi>,
        agent_store: Arc<dyn AgentStore>,
    ) -> Self {
        Self {
            node: ControlNode::Worker(worker),
            agents,
            agent_store,
            master_agents: None,
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
