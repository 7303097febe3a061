//! `cluster_control -l`: `NAME TYPE VERSION ADDRESS`.

use wazuh_cluster_core::master::NodesReply;

use super::table::table;

/// The node table of a `get_nodes` reply (a field the reply lacks shows `unknown`).
pub fn nodes_table(reply: &NodesReply) -> String {
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
            ]
        })
        .collect();
    table(&["name", "type", "version", "address"], &rows)
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
        assert_eq!(
            nodes_table(&reply),
            "NAME     TYPE    VERSION  ADDRESS      \n\
             wazuh-1  master  4.12.0   172.16.1.13  \n\
             wazuh-3  worker  4.12.0   172.16.1.15  "
        );
    }

    #[test]
    fn a_field_left_out_by_select_shows_unknown() {
        let reply =
            serde_json::from_value(json!({"items": [{"name": "wazuh-1"}], "totalItems": 1}))
                .unwrap();
        assert_eq!(
            nodes_table(&reply),
            "NAME     TYPE     VERSION  ADDRESS  \n\
             wazuh-1  unknown  unknown  unknown  "
        );
    }
}
