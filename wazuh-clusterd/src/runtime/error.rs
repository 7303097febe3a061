//! What the node gets from the daemon besides its configuration, and why it could not start.

use std::net::SocketAddr;
use std::path::PathBuf;

use thiserror::Error;

use crate::storage::OpenError;

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

/// Why the node could not start (once started, it stops only on a signal).
#[derive(Debug, Error)]
pub enum NodeError {
    /// The async runtime could not be created.
    #[error("cannot start the node's runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// `DIR/queue/cluster` could not be prepared.
    #[error("cannot prepare the folder {path}: {source}; check that this user owns it")]
    QueueFolder {
        /// The folder.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A synchronized folder could not be created or opened.
    #[error(
        "cannot prepare the synchronized folder {path}: {source}; check that this user owns the \
         installation folder"
    )]
    SyncFolder {
        /// The folder.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The cluster database could not be opened.
    #[error(transparent)]
    Database(#[from] OpenError),
    /// The `<tls>` files could not be used.
    #[error(transparent)]
    Tls(#[from] crate::net::TlsError),
    /// The master could not listen on its address.
    #[error(
        "cannot listen on {addr}: {source}; is another wazuh-clusterd running, or is <port> or \
         <bind_addr> wrong?"
    )]
    Listen {
        /// The address from `<bind_addr>` and `<port>`.
        addr: SocketAddr,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The metrics and health endpoint could not listen on `<metrics><listen>`.
    #[error(transparent)]
    MetricsListen(#[from] crate::operations::MetricsListenError),
    /// The control socket could not be created.
    #[error(
        "cannot create the control socket {path}: {source}; check that this user owns the folder"
    )]
    ControlSocket {
        /// The socket file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The Raft storage of the replicated registry could not be opened.
    #[error(transparent)]
    RaftStorage(#[from] crate::replicated::RaftDbError),
    /// The Raft node of the replicated registry could not start.
    #[error("the master election (Raft) could not start: {0}")]
    Raft(String),
    /// The key could not be turned into a Fernet key.
    #[error("the cluster key cannot be used for encryption: {0}")]
    Key(#[from] wazuh_cluster_proto::ClusterKeyError),
}
