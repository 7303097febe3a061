//! `cluster_control`: shows the nodes and the health of the cluster through the local daemon.

use std::process::ExitCode;

use wazuh_clusterd::control::tool::{ControlCli, normalize_args, run};

fn main() -> ExitCode {
    match wazuh_clusterd::tools::usage::parse::<ControlCli>(normalize_args(std::env::args_os())) {
        Ok(cli) => run(cli),
        Err(code) => code,
    }
}
