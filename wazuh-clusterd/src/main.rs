//! `wazuh-clusterd`: the reference daemon of the Wazuh manager cluster.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    wazuh_clusterd::cli::run(wazuh_clusterd::cli::Cli::parse())
}
