//! `wazuh-agent-sim`: see [`wazuh_clusterd::tools::agent_sim`].

use std::process::ExitCode;

fn main() -> ExitCode {
    wazuh_clusterd::tools::agent_sim::main(std::env::args_os())
}
