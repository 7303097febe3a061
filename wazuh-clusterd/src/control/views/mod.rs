//! How `cluster_control` prints the daemon's replies, in Wazuh's formats.

mod agents;
mod files;
mod health;
mod nodes;
mod raft;
mod skew;
mod table;
mod watch;

pub use agents::agents_table;
pub use files::files_table;
pub use health::{health_more, health_summary};
pub use nodes::nodes_table;
pub use raft::raft_section;
pub use skew::skew_section;
pub use table::table;
pub use watch::watch_screen;
