//! The operator tools that talk to the local daemon through its control socket, with Wazuh's
//! names and flags: `manage_agents`, `agent_groups`, `cluster_control -a`, and the agent
//! simulator `wazuh-agent-sim`. Each binary in `src/bin/` is a thin `main` over one module
//! here.
//!
//! - [`request`]: one request to the daemon and the errors every tool prints alike.
//! - [`usage`]: Wazuh's handling of wrong arguments (usage, exit 1).
//! - [`cluster_agents`]: the `-a` view of `cluster_control`.
//! - [`manage_agents`], [`agent_groups`], [`agent_sim`]: the tools.

pub mod agent_groups;
pub mod agent_sim;
pub mod cluster_agents;
pub mod manage_agents;
pub mod request;
pub mod usage;
