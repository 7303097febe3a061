//! Status reports from the local manager: the row a keepalive or a disconnection makes.

use super::api::AgentEvent;
use super::model::{AgentId, AgentInfoRecord, ConnectionStatus};

/// The row `event` makes for agent `id` on `node` at `now`, given the stored row.
pub fn row_for_event(
    id: AgentId,
    event: AgentEvent,
    node: &str,
    now: i64,
    stored: Option<&AgentInfoRecord>,
) -> AgentInfoRecord {
    match event {
        AgentEvent::Keepalive { version, os } => AgentInfoRecord {
            id,
            status: ConnectionStatus::Active,
            last_keepalive: Some(now),
            disconnection_time: None,
            version: version.or_else(|| stored.and_then(|s| s.version.clone())),
            os: os.or_else(|| stored.and_then(|s| s.os.clone())),
            node: Some(node.to_owned()),
        },
        AgentEvent::Disconnected => AgentInfoRecord {
            id,
            status: ConnectionStatus::Disconnected,
            last_keepalive: stored.and_then(|s| s.last_keepalive),
            disconnection_time: Some(now),
            version: stored.and_then(|s| s.version.clone()),
            os: stored.and_then(|s| s.os.clone()),
            node: Some(node.to_owned()),
        },
    }
}
