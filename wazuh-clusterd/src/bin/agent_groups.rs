//! `agent_groups`: see [`wazuh_clusterd::tools::agent_groups`].

use std::process::ExitCode;

fn main() -> ExitCode {
    wazuh_clusterd::tools::agent_groups::main(std::env::args_os())
}
