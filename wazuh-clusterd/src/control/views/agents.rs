//! `cluster_control -a`: `ID NAME IP STATUS VERSION NODE NAME`, from an `agent_list` reply.

use serde_json::Value;

use super::table::table;

fn cell(item: &Value, field: &str) -> String {
    match item.get(field) {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::String(_) | Value::Null) | None => "unknown".to_owned(),
        Some(other) => other.to_string(),
    }
}

/// The agent table of an `agent_list` reply (a missing field shows `unknown`).
pub fn agents_table(reply: &Value) -> String {
    let rows: Vec<Vec<String>> = reply["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            ["id", "name", "ip", "status", "version", "node_name"]
                .iter()
                .map(|field| cell(item, field))
                .collect()
        })
        .collect();
    table(
        &["id", "name", "ip", "status", "version", "node name"],
        &rows,
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn renders_wazuhs_agent_table_with_unknown_for_missing_fields() {
        let reply = json!({"items": [
            {"id": "001", "name": "web-01", "ip": "any", "status": "active",
             "version": "Wazuh v4.9.2", "node_name": "worker01"},
            {"id": "002", "name": "db", "ip": "10.0.0.7", "status": "never_connected",
             "version": null, "node_name": null}
        ], "totalItems": 2});
        assert_eq!(
            agents_table(&reply),
            "ID   NAME    IP        STATUS           VERSION       NODE NAME  \n\
             001  web-01  any       active           Wazuh v4.9.2  worker01   \n\
             002  db      10.0.0.7  never_connected  unknown       unknown    "
        );
    }

    #[test]
    fn no_agents_is_a_header_alone() {
        assert_eq!(
            agents_table(&json!({"items": [], "totalItems": 0})),
            "ID  NAME  IP  STATUS  VERSION  NODE NAME  "
        );
    }
}
