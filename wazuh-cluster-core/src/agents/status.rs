//! Status reports from the local manager: the row a keepalive or a disconnection makes, and
//! the recording of a report of many agents at once.

use std::collections::BTreeMap;

use super::api::AgentEvent;
use super::error::AgentError;
use super::keys_reader::KeysReader;
use super::model::{AgentId, AgentInfoRecord, ConnectionStatus};
use super::store::AgentStore;

/// Records `event` for each of `ids` on `node` at `now`: one lookup of the stored rows and one
/// write for all (a worker's `wazuh-agent-sim` names its 2,000 agents in one report; one
/// lookup and one write each kept the worker's database busy for seconds per round). Answers
/// the ids written (registered ones, in order) and the refusals (ids not in `client.keys`).
pub(super) async fn record_reports(
    store: &dyn AgentStore,
    keys: &KeysReader,
    node: &str,
    now: i64,
    ids: &[AgentId],
    event: &AgentEvent,
) -> Result<(Vec<AgentId>, Vec<(AgentId, AgentError)>), AgentError> {
    let keys = keys.current().await?;
    let (known, unknown): (Vec<AgentId>, Vec<AgentId>) =
        ids.iter().partition(|id| keys.contains(**id));
    let refused = unknown
        .into_iter()
        .map(|id| {
            let error = AgentError::NotInClientKeys {
                id: id.to_string(),
                node: node.to_owned(),
            };
            (id, error)
        })
        .collect();
    if known.is_empty() {
        return Ok((known, refused));
    }
    let mut stored: BTreeMap<AgentId, AgentInfoRecord> = store
        .infos_of(&known)
        .await?
        .into_iter()
        .map(|info| (info.id, info))
        .collect();
    let rows: Vec<AgentInfoRecord> = known
        .iter()
        .map(|id| {
            let row = row_for_event(*id, event.clone(), node, now, stored.get(id));
            stored.insert(*id, row.clone());
            row
        })
        .collect();
    store.apply_info(&rows).await?;
    Ok((known, refused))
}

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
