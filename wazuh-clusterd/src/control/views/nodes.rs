//! `cluster_control -l`: `NAME TYPE VERSION ADDRESS AGENTS`, the last column (this project's)
//! the active agents reporting to each node, from a `get_health` reply; with failover, asked on
//! a master-eligible node, a `MASTER-ELIGIBLE` column from its `get_raft` reply.

use std::collections::BTreeSet;

use wazuh_cluster_core::master::NodesReply;

use super::table::table;
use crate::control::protocol::health::HealthReply;

/// The node table of a `get_nodes` reply (a field the reply lacks shows `unknown`), with the
/// active agents of each node from the `get_health` reply `health` (`unknown` without it), and
/// `yes`/`no` in a master-eligible column when `eligible` names the Raft members.
pub fn nodes_table(
    reply: &NodesReply,
    health: Option<&HealthReply>,
    eligible: Option<&BTreeSet<String>>,
) -> String {
    let cell = |value: &Option<String>| value.clone().unwrap_or_else(|| "unknown".to_owned());
    let rows: Vec<Vec<String>> = reply
        .items
        .iter()
        .map(|item| {
            let mut row = vec![
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
            ];
            if let Some(eligible) = eligible {
                let member = item.name.as_ref().is_some_and(|n| eligible.contains(n));
                row.push(if member { "yes" } else { "no" }.to_owned());
            }
            row
        })
        .collect();
    match eligible {
        None => table(&["name", "type", "version", "address", "agents"], &rows),
        Some(_) => table(
            &[
                "name",
                "type",
                "version",
                "address",
                "agents",
                "master-eligible",
            ],
            &rows,
        ),
    }
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
            nodes_table(&reply, Some(&health), None),
            "NAME     TYPE    VERSION  ADDRESS      AGENTS  \n\
             wazuh-1  master  4.12.0   172.16.1.13  0       \n\
             wazuh-3  worker  4.12.0   172.16.1.15  12      "
        );
    }

    #[test]
    fn with_failover_a_column_says_which_nodes_may_become_master() {
        let reply = serde_json::from_value(json!({"items": [
            {"name": "m1", "type": "master", "version": "4.9.2", "ip": "127.0.0.1"},
            {"name": "m2", "type": "worker", "version": "4.9.2", "ip": "127.0.0.1"},
            {"name": "w1", "type": "worker", "version": "4.9.2", "ip": "127.0.0.1"}
        ], "totalItems": 3}))
        .unwrap();
        let eligible = BTreeSet::from(["m1".to_owned(), "m2".to_owned(), "m3".to_owned()]);
        assert_eq!(
            nodes_table(&reply, None, Some(&eligible)),
            "NAME  TYPE    VERSION  ADDRESS    AGENTS   MASTER-ELIGIBLE  \n\
             m1    master  4.9.2    127.0.0.1  unknown  yes              \n\
             m2    worker  4.9.2    127.0.0.1  unknown  yes              \n\
             w1    worker  4.9.2    127.0.0.1  unknown  no               "
        );
    }

    #[test]
    fn a_field_left_out_by_select_shows_unknown() {
        let reply =
            serde_json::from_value(json!({"items": [{"name": "wazuh-1"}], "totalItems": 1}))
                .unwrap();
        assert_eq!(
            nodes_table(&reply, None, None),
            "NAME     TYPE     VERSION  ADDRESS  AGENTS   \n\
             wazuh-1  unknown  unknown  unknown  unknown  "
        );
    }
}
