//! `wazuh-clusterd demo`: a master and two workers on 127.0.0.1 as real processes, under a
//! temporary folder, shown with `cluster_control`, then stopped. `demo --failover`: three
//! master-eligible nodes and a worker, the master killed, another elected (`failover`).
//!
//! The demo is a list of steps (`steps`) run in order over a [`LocalCluster`]; each prints
//! what it did. Later features (file sync, agents) add a step. [`LocalCluster`] is also what the
//! end-to-end tests use.

mod agents;
mod cluster;
mod compare;
mod failover;
mod node;
mod state;
mod steps;

use std::path::PathBuf;
use std::process::ExitCode;

pub use cluster::{
    LocalCluster, free_port, node_names, query, short_intervals, wait_for_cluster, wait_for_nodes,
    wait_until,
};
pub use compare::{digests, same_files};
pub use node::{NodeProcess, NodeSpec, write_home};
pub use state::DemoError;
pub use steps::run;

/// Options of the demo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOptions {
    /// The `wazuh-clusterd` binary to start the nodes with.
    pub binary: PathBuf,
    /// Keep the temporary folder (homes, logs, databases) instead of removing it.
    pub keep: bool,
    /// Connect the nodes with mutual TLS.
    pub tls: bool,
    /// Run the failover demo: three master-eligible nodes, the master killed.
    pub failover: bool,
}

/// Runs the demo and returns the exit code.
pub fn main(options: DemoOptions) -> ExitCode {
    let outcome = match options.failover {
        true => failover::run(&options),
        false => run(&options),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ERROR: demo failed: {e}");
            ExitCode::FAILURE
        }
    }
}
