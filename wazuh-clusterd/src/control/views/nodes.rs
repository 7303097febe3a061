//! `cluster_control -l`: `NAME TYPE VERSION ADDRESS AGENTS`, the last column (this project's)
//! the active agents reporting to each node, from a `get_health` reply.

use wazuh_cluster_core::master::NodesReply;

use super::table::table;
use crate::control::protocol::health::HealthReply;

/// The node table of a `get_nodes` reply (a field the reply lacks shows `unknown`), with the
/// active agents of each node from the `get_health` reply `health` (`unknown` without it).
pub fn nodes_table(reply: &NodesReply, health: Option<&HealthReply>) -> String {
    let cell = |value: &Option<String>| value.clone().unwrap_or_else(|| "unknown".to_owned());
    let rows: Vec<Vec<String>> = reply
        .items
        .iter()
        .map(|item| {
            vec![
                cell(&item.name),
                cell(&item.node_type),
                cell(&item.version),
                cell(&item.ip),
                health
                    .zip(item.name.as_ref())
                    .and_then(|(health, name)| health.nodes.get(name))
                    .map_or_else(
                        || "unknown".to_owned(),
                        |node| node.info.n_active_agents.to_string(),
                    ),
            ]
        })
        .collect();
    table(&["name", "type", "version", "address", "agents"], &rows)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn renders_wazuhs_node_table() {
        let reply = serde_json::from_value(json!({"items": [
            {"name": "wazuh-1", "type": "master", "version": "4.12.0", "ip": "172.16.1.13"},
            {"name": "wazuh-3", "type": "worker", "version": "4.12.0", "ip": "172.16.1.15"}
        ], "totalItems": 2}))
        .unwrap();
        let health: HealthReply = serde_json::from_value(json!({"n_connected_nodes": 1, "nodes": {
            "wazuh-1": {"info": {"name": "wazuh-1", "type": "master", "version": "4.12.0",
                                 "ip": "172.16.1.13", "n_active_agents": 0}},
            "wazuh-3": {"info": {"name": "wazuh-3", "type": "worker", "version": "4.12.0",
                                 "ip": "172.16.1.15", "n_active_agents": 12}}
        }}))
        .unwrap();
        assert_eq!(
            nodes_table(&reply, Some(&health)),
            "NAME     TYPE    VERSION  ADDRESS      AGENTS  \n\
             wazuh-1  master  4.12.0   172.16.1.13  0       \n\
             wazuh-3  worker  4.12.0   172.16.1.15  12      "
        );
    }

    #[test]
    fn a_field_left_out_by_select_shows_unknown() {
        let reply =
            serde_json::from_value(json!({"items": [{"name": "wazuh-1"}], "totalItems": 1}))
                .unwrap();
        assert_eq!(
            nodes_table(&reply, None),
            "NAME     TYPE     VERSION  ADDRESS  AGENTS   \n\
             wazuh-1  unknown  unknown  unknown  unknown  "
        );
    }
}
