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

use wazuh_cluster_core::{MasterHandle, WorkerHandle};

/// The socket, relative to the installation folder.
pub const SOCKET_RELATIVE_PATH: &str = "queue/cluster/c-internal.sock";

/// The control socket of the installation `home`.
pub fn socket_path(home: &Path) -> PathBuf {
    home.join(SOCKET_RELATIVE_PATH)
}

/// What the control commands act on: the running node.
#[derive(Debug, Clone)]
pub enum ControlContext {
    /// This node is the master.
    Master(MasterHandle),
    /// This node is a worker; cluster-wide questions go to its master.
    Worker(WorkerHandle),
}
