//! `manage_agents`: see [`wazuh_clusterd::tools::manage_agents`].

use std::process::ExitCode;

fn main() -> ExitCode {
    wazuh_clusterd::tools::manage_agents::main(std::env::args_os())
}
