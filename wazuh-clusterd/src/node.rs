//! The seam between the daemon's startup and the running cluster node.
//!
//! [`run_node`] is called once the configuration is valid, logging is set up and the pid file is
//! written; when it returns, the daemon removes the pid file and exits. The node runtime (TCP,
//! SQLite, the filesystem, the control socket) plugs in here.

use std::path::PathBuf;

use thiserror::Error;

use crate::config::ClusterConfig;

/// What the node gets from the daemon besides its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeContext {
    /// The installation folder (`--home`).
    pub home: PathBuf,
    /// The configuration file that was loaded.
    pub config_path: PathBuf,
    /// Number of `-d` flags.
    pub debug: u8,
}

/// Why the node stopped with a failure.
#[derive(Debug, Error)]
pub enum NodeError {
    /// This build has no node runtime behind the seam yet.
    #[error(
        "the node runtime is not wired into this build yet: the configuration is valid but \
         node {node_name} cannot start; nothing was opened"
    )]
    RuntimeNotWired {
        /// The node that was to start.
        node_name: String,
    },
}

/// Runs the node described by `config` until it stops.
pub fn run_node(config: ClusterConfig, _context: NodeContext) -> Result<(), NodeError> {
    Err(NodeError::RuntimeNotWired {
        node_name: config.node_name,
    })
}
