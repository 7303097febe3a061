//! `cluster_control -l`: `NAME TYPE VERSION ADDRESS`.

use serde_json::Value;

use super::table::table;

fn cell(item: &Value, field: &str) -> String {
    match item.get(field) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "unknown".to_owned(),
        Some(other) => other.to_string(),
    }
}

/// The node table of a `get_nodes` reply.
pub fn nodes_table(reply: &Value) -> String {
    let rows: Vec<Vec<String>> = reply["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|item| {
                    ["name", "type", "version", "ip"]
                        .iter()
                        .map(|f| cell(item, f))
                        .collect()
                })
                .collect()
        })
        .unwrap_or_default();
    table(&["name", "type", "version", "address"], &rows)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn renders_wazuhs_node_table() {
        let reply = json!({"items": [
            {"name": "wazuh-1", "type": "master", "version": "4.12.0", "ip": "172.16.1.13"},
            {"name": "wazuh-3", "type": "worker", "version": "4.12.0", "ip": "172.16.1.15"}
        ], "totalItems": 2});
        assert_eq!(
            nodes_table(&reply),
            "NAME     TYPE    VERSION  ADDRESS      \n\
             wazuh-1  master  4.12.0   172.16.1.13  \n\
             wazuh-3  worker  4.12.0   172.16.1.15  "
        );
    }
}
