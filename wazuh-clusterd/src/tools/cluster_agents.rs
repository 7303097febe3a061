//! `cluster_control -a [-fn NODE...] [-fs STATUS...] [--json]`: the agents of the cluster, from
//! any node (a worker asks its master).

use std::path::Path;

use serde_json::Value;

use super::request::call;
use crate::control::client::ClientError;
use crate::control::commands::agents::protocol::{AGENT_LIST, ListAgents};
use crate::control::views;

/// The `-a` view: the table, or the daemon's JSON with `json`. Statuses are matched in lower
/// case, as Wazuh does.
pub async fn view(
    home: &Path,
    filter_node: Option<Vec<String>>,
    filter_status: Option<Vec<String>>,
    json: bool,
) -> Result<String, ClientError> {
    let args = ListAgents {
        filter_node: filter_node.filter(|names| !names.is_empty()),
        filter_status: filter_status
            .filter(|statuses| !statuses.is_empty())
            .map(|statuses| statuses.iter().map(|s| s.to_lowercase()).collect()),
    };
    let reply: Value = call(home, AGENT_LIST, &args).await?;
    Ok(if json {
        reply.to_string()
    } else {
        views::agents_table(&reply)
    })
}
