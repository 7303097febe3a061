//! How the rig names its agents and groups.

/// Groups the agents are spread over.
pub const GROUPS: usize = 10;

/// The name of group `n` of the rig.
pub fn group_name(n: usize) -> String {
    format!("loadtest-g{n:02}")
}

/// The name of agent `n` (from 0) of the rig.
pub fn agent_name(n: usize) -> String {
    format!("loadtest-{n:06}")
}
