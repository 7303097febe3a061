//! `GET /health`: the node's answer to a load balancer (HAProxy `option httpchk`, nginx).
//!
//! 200 when the node is synchronized ([`crate::readiness`]), 503 before; the JSON body gives
//! the node's share of the cluster's active agents, for weighting:
//!
//! ```json
//! {"node":"worker01","role":"worker","synchronized":true,"agents":120,"cluster_agents":360,"share":0.333}
//! ```
//!
//! `agents` counts the active agents reporting to this node, `cluster_agents` all active agents.
//! The master counts them in its database; a worker asks its master (at most
//! [`MASTER_TIMEOUT`]); `cluster_agents` and `share` are `null` when it cannot.

use std::time::Duration;

use serde_json::{Value, json};
use wazuh_cluster_core::agents::ConnectionStatus;
use wazuh_cluster_proto::command::names;

use crate::control::{ControlContext, ControlNode};
use crate::http::Response;
use crate::metrics::scrape::{NodeView, role_name};

/// Longest wait for a worker's master to give the agent counts.
pub const MASTER_TIMEOUT: Duration = Duration::from_secs(2);

/// Active agents per node they report to.
async fn active_agents(control: &ControlContext) -> Option<Vec<(String, u64)>> {
    match &control.node {
        ControlNode::Master(_) => {
            let rows = control.agent_store.status_counts().await.ok()?;
            let mut counts = std::collections::BTreeMap::<String, u64>::new();
            for row in rows {
                if let (true, Some(node)) =
                    (row.status == ConnectionStatus::Active.as_str(), row.node)
                {
                    *counts.entry(node).or_default() += row.count as u64;
                }
            }
            Some(counts.into_iter().collect())
        }
        ControlNode::Worker(worker) => {
            let master = worker.handle.status().master?;
            let reply =
                tokio::time::timeout(MASTER_TIMEOUT, master.request(names::GET_HEALTH, "null"))
                    .await
                    .ok()?
                    .ok()?;
            let health: Value = serde_json::from_slice(&reply.payload).ok()?;
            Some(
                health["nodes"]
                    .as_object()?
                    .iter()
                    .map(|(name, node)| {
                        let count = node["info"]["n_active_agents"].as_u64().unwrap_or(0);
                        (name.clone(), count)
                    })
                    .collect(),
            )
        }
    }
}

/// The reply to `GET /health`.
pub async fn health(view: &NodeView) -> Response {
    let control = view.current();
    let synchronized = crate::readiness::is_synchronized(&control.node);
    let counts = if synchronized {
        active_agents(&control).await
    } else {
        None
    };
    let own = counts.as_ref().map(|counts| {
        counts
            .iter()
            .find(|(name, _)| *name == view.name)
            .map_or(0, |(_, n)| *n)
    });
    let total = counts
        .as_ref()
        .map(|counts| counts.iter().map(|(_, n)| n).sum::<u64>());
    let share = match (own, total) {
        (Some(own), Some(total)) if total > 0 => Some(own as f64 / total as f64),
        (Some(_), Some(_)) => Some(0.0),
        _ => None,
    };
    let body = json!({
        "node": view.name,
        "role": role_name(&control.node),
        "synchronized": synchronized,
        "agents": own,
        "cluster_agents": total,
        "share": share.map(|s| (s * 1000.0).round() / 1000.0),
    });
    Response {
        status: if synchronized { 200 } else { 503 },
        content_type: "application/json",
        body: format!("{body}\n"),
    }
}
