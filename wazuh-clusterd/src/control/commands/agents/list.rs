//! `agent_list`: every registered agent with its status, version and the node it reports to,
//! from the master's agent store. A worker asks its master over the cluster connection, where
//! [`ClusterAgentList`] answers.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use wazuh_cluster_core::agents::error::codes;
use wazuh_cluster_core::agents::{AgentError, AgentStore, ConnectionStatus};
use wazuh_cluster_core::master::MasterConn;
use wazuh_cluster_core::session::{Handler, HandlerResult, Request};
use wazuh_cluster_proto::payload::WazuhException;

use super::super::forward;
use super::json::{parse, refusal};
use super::protocol::{AGENT_LIST, AgentList, AgentRow, ListAgents};
use crate::control::protocol::json_reply as reply;
use crate::control::{ControlContext, ControlNode};

/// The statuses `filter_status` accepts.
pub const STATUSES: [&str; 4] = ["active", "disconnected", "never_connected", "pending"];

fn arguments(payload: &[u8]) -> Result<ListAgents, Box<WazuhException>> {
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Ok(ListAgents::default());
    }
    let args: ListAgents = parse("agent_list", payload)?;
    for status in args.filter_status.iter().flatten() {
        if ConnectionStatus::parse(status).is_none() {
            let mut e = WazuhException::error(codes::INVALID_VALUE).with_extra_message(format!(
                "agent status {status:?} is unknown; use one of {}",
                STATUSES.join(", ")
            ));
            e.cmd_error = true;
            return Err(Box::new(e));
        }
    }
    Ok(args)
}

fn keeps(filter: &Option<Vec<String>>, value: Option<&str>) -> bool {
    match filter {
        Some(wanted) if !wanted.is_empty() => value.is_some_and(|v| wanted.iter().any(|w| w == v)),
        _ => true,
    }
}

/// The registered agents of `store` joined with their agent-info, filtered by `args`.
pub async fn list(store: &dyn AgentStore, args: &ListAgents) -> Result<AgentList, AgentError> {
    let mut infos: HashMap<_, _> = store
        .infos()
        .await?
        .into_iter()
        .map(|info| (info.id, info))
        .collect();
    let items: Vec<AgentRow> = store
        .agents()
        .await?
        .into_iter()
        .map(|agent| {
            let info = infos.remove(&agent.id);
            let info = info.as_ref();
            AgentRow {
                id: agent.id.to_string(),
                name: agent.name,
                ip: agent.ip.to_string(),
                status: info
                    .map_or(ConnectionStatus::NeverConnected, |i| i.status)
                    .to_string(),
                version: info.and_then(|i| i.version.clone()),
                os: info.and_then(|i| i.os.clone()),
                node_name: info.and_then(|i| i.node.clone()),
                groups: agent.groups,
                last_keepalive: info.and_then(|i| i.last_keepalive),
            }
        })
        .filter(|row| {
            keeps(&args.filter_node, row.node_name.as_deref())
                && keeps(&args.filter_status, Some(&row.status))
        })
        .collect();
    Ok(AgentList {
        total_items: items.len(),
        items,
    })
}

/// `agent_list` on the control socket.
pub(super) struct ListAgentsCommand;

#[async_trait]
impl Handler<ControlContext> for ListAgentsCommand {
    async fn handle(&self, ctx: &ControlContext, request: Request) -> HandlerResult {
        match &ctx.node {
            ControlNode::Master(_) => {
                let args = arguments(&request.payload).map_err(|e| *e)?;
                reply(
                    &list(ctx.agent_store.as_ref(), &args)
                        .await
                        .map_err(refusal)?,
                )
            }
            ControlNode::Worker(worker) => {
                forward::to_master(&worker.handle, AGENT_LIST, request.payload).await
            }
        }
    }
}

/// `agent_list` on the master's cluster connections: what a worker's control socket asks.
/// Install it on the master with `.route(AGENT_LIST, ClusterAgentList::new(store))`.
pub struct ClusterAgentList {
    store: Arc<dyn AgentStore>,
}

impl ClusterAgentList {
    /// Answers from the master's agent `store`.
    pub fn new(store: Arc<dyn AgentStore>) -> Self {
        Self { store }
    }
}

#[async_trait]
impl Handler<MasterConn> for ClusterAgentList {
    async fn handle(&self, _conn: &MasterConn, request: Request) -> HandlerResult {
        let args = arguments(&request.payload).map_err(|e| *e)?;
        reply(&list(self.store.as_ref(), &args).await.map_err(refusal)?)
    }
}

#[cfg(test)]
mod tests {
    use wazuh_cluster_core::agents::{
        AgentId, AgentInfoRecord, AgentIp, AgentKey, AgentRecord, MemoryAgentStore,
    };

    use super::*;

    async fn store() -> MemoryAgentStore {
        let store = MemoryAgentStore::new();
        for (id, name) in [(1, "web-01"), (2, "web-02"), (3, "db-01")] {
            store
                .insert_agent(&AgentRecord {
                    id: AgentId(id),
                    name: name.to_owned(),
                    ip: AgentIp::Any,
                    key: AgentKey::from_bytes([id as u8; 32]),
                    groups: vec!["default".to_owned()],
                    registered_at: 1,
                })
                .await
                .unwrap();
        }
        let row = |id, status, node: &str| AgentInfoRecord {
            id: AgentId(id),
            status,
            last_keepalive: Some(100),
            disconnection_time: None,
            version: Some("Wazuh v4.9.2".to_owned()),
            os: None,
            node: Some(node.to_owned()),
        };
        store
            .apply_info(&[
                row(1, ConnectionStatus::Active, "worker01"),
                row(2, ConnectionStatus::Disconnected, "worker02"),
            ])
            .await
            .unwrap();
        store
    }

    fn ids(list: &AgentList) -> Vec<&str> {
        list.items.iter().map(|row| row.id.as_str()).collect()
    }

    #[tokio::test]
    async fn agents_without_info_are_never_connected_and_filters_combine() {
        let store = store().await;
        let all = list(&store, &ListAgents::default()).await.unwrap();
        assert_eq!(ids(&all), ["001", "002", "003"]);
        assert_eq!(all.total_items, 3);
        assert_eq!(all.items[0].node_name.as_deref(), Some("worker01"));
        assert_eq!(all.items[0].version.as_deref(), Some("Wazuh v4.9.2"));
        assert_eq!(all.items[2].status, "never_connected");
        assert_eq!(all.items[2].node_name, None);

        let filter = |nodes: &[&str], statuses: &[&str]| ListAgents {
            filter_node: Some(nodes.iter().map(|s| s.to_string()).collect()),
            filter_status: Some(statuses.iter().map(|s| s.to_string()).collect()),
        };
        let on_w1 = list(&store, &filter(&["worker01"], &[])).await.unwrap();
        assert_eq!(ids(&on_w1), ["001"]);
        let down = list(&store, &filter(&[], &["disconnected", "never_connected"]))
            .await
            .unwrap();
        assert_eq!(ids(&down), ["002", "003"]);
        let none = list(&store, &filter(&["worker01"], &["disconnected"]))
            .await
            .unwrap();
        assert!(none.items.is_empty());
    }

    #[test]
    fn unknown_statuses_are_refused_by_name() {
        let error = arguments(br#"{"filter_status": ["sleeping"]}"#).unwrap_err();
        assert_eq!(error.code, codes::INVALID_VALUE);
        assert!(error.to_string().contains("\"sleeping\""), "{error}");
        assert_eq!(arguments(b"").unwrap(), ListAgents::default());
    }
}
