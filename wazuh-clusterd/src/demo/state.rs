//! The demo's state, passed from step to step, and why it stops.

use std::path::PathBuf;
use std::time::Instant;

use thiserror::Error;

use super::cluster::LocalCluster;
use super::node::NodeProcess;

/// The demo's master.
pub(super) const MASTER: &str = "master01";
/// The demo's workers.
pub(super) const WORKERS: [&str; 2] = ["worker01", "worker02"];
/// Why the demo stopped.
#[derive(Debug, Error)]
pub enum DemoError {
    /// A file or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The failure.
        source: std::io::Error,
    },
    /// A step's tool failed (it printed why).
    #[error("{0}")]
    Failed(String),
    /// Something did not happen in time.
    #[error("{0}; the nodes' logs are in {1}")]
    Timeout(String, PathBuf),
}

/// The demo's state, passed from step to step.
pub struct Demo {
    /// The cluster's settings and folder.
    pub cluster: LocalCluster,
    /// The master's process once started.
    pub master: Option<NodeProcess>,
    /// The workers' processes once started.
    pub workers: Vec<NodeProcess>,
    /// What happened, printed at the end.
    pub account: Vec<String>,
    /// When the demo started.
    pub(super) started: Instant,
}

/// Time since the demo started, for the account.
pub(super) fn elapsed(demo: &Demo) -> String {
    format!("{:.1}s", demo.started.elapsed().as_secs_f64())
}
