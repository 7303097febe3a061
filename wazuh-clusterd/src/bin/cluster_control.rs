//! `cluster_control`: shows the nodes and the health of the cluster through the local daemon.

use std::process::ExitCode;

use clap::Parser;
use wazuh_clusterd::control::tool::{ControlCli, normalize_args, run};

fn main() -> ExitCode {
    run(ControlCli::parse_from(normalize_args(std::env::args_os())))
}
