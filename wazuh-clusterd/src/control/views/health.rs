//! `cluster_control -i` (summary) and `-i more` (detail), from a `get_health` reply.

use std::fmt::Write;

use chrono::NaiveDateTime;
use serde_json::Value;

use crate::control::health::NEVER;

/// Wazuh's date format in health replies.
const DATE_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.fZ";

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => NEVER.to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        other => other.to_string(),
    }
}

/// `end - start` as Wazuh prints it: seconds rounded to 3 decimals, at least `0.001s`; `n/a`
/// when a date is missing.
fn seconds(start: &Value, end: &Value) -> String {
    let parse = |v: &Value| {
        v.as_str()
            .and_then(|s| NaiveDateTime::parse_from_str(s, DATE_FORMAT).ok())
    };
    match (parse(start), parse(end)) {
        (Some(start), Some(end)) => {
            let secs = (end - start).num_microseconds().unwrap_or(0) as f64 / 1e6;
            let rounded = ((secs * 1000.0).round() / 1000.0).max(0.001);
            format!("{rounded}s")
        }
        _ => NEVER.to_owned(),
    }
}

fn workers(reply: &Value) -> impl Iterator<Item = (&String, &Value)> {
    reply["nodes"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, node)| node.get("status").is_some())
}

/// The summary of `-i`.
pub fn health_summary(cluster_name: &str, reply: &Value) -> String {
    let mut out = format!(
        "Cluster name: {cluster_name}\n\nLast completed synchronization for connected nodes ({}):\n",
        text(&reply["n_connected_nodes"])
    );
    for (name, node) in workers(reply) {
        let status = &node["status"];
        let _ = writeln!(
            out,
            "    {name} ({}): Integrity check: {} | Integrity sync: {} | Agents-info: {} | \
             Agent-groups: {} | Agent-groups full: {} | Last keep alive: {}.",
            text(&node["info"]["ip"]),
            text(&status["last_check_integrity"]["date_end_master"]),
            text(&status["last_sync_integrity"]["date_end_master"]),
            text(&status["last_sync_agentinfo"]["date_end_master"]),
            text(&status["last_sync_agentgroup"]["date_end"]),
            text(&status["last_sync_full_agentgroup"]["date_end"]),
            text(&status["last_keep_alive"]),
        );
    }
    out
}

fn period(out: &mut String, label: &str, task: &Value, start: &str, end: &str) {
    let _ = writeln!(
        out,
        "                {label}: {} ({} - {}).",
        seconds(&task[start], &task[end]),
        text(&task[start]),
        text(&task[end])
    );
}

/// The detail of `-i more`.
pub fn health_more(cluster_name: &str, reply: &Value) -> String {
    let mut out = format!(
        "Cluster name: {cluster_name}\n\nConnected nodes ({}):\n",
        text(&reply["n_connected_nodes"])
    );
    for (name, node) in reply["nodes"].as_object().into_iter().flatten() {
        let info = &node["info"];
        let _ = write!(
            out,
            "\n    {name} ({})\n        Version: {}\n        Type: {}\n        Active agents: {}\n",
            text(&info["ip"]),
            text(&info["version"]),
            text(&info["type"]),
            text(&info["n_active_agents"]),
        );
        let Some(status) = node.get("status") else {
            continue;
        };
        let _ = write!(
            out,
            "        Status:\n            Last keep Alive:\n                Last received: {}.\n",
            text(&status["last_keep_alive"])
        );
        out.push_str("            Integrity check:\n");
        period(
            &mut out,
            "Last integrity check",
            &status["last_check_integrity"],
            "date_start_master",
            "date_end_master",
        );
        let _ = writeln!(
            out,
            "                Permission to check integrity: {}.",
            text(&status["sync_integrity_free"])
        );
        out.push_str("            Integrity sync:\n");
        let sync = &status["last_sync_integrity"];
        period(
            &mut out,
            "Last integrity synchronization",
            sync,
            "date_start_master",
            "date_end_master",
        );
        let files = &sync["total_files"];
        let _ = writeln!(
            out,
            "                Synchronized files: Shared: {} | Missing: {} | Extra: {}.",
            text(&files["shared"]),
            text(&files["missing"]),
            text(&files["extra"])
        );
        out.push_str("            Agents-info:\n");
        let info_sync = &status["last_sync_agentinfo"];
        period(
            &mut out,
            "Last synchronization",
            info_sync,
            "date_start_master",
            "date_end_master",
        );
        let _ = writeln!(
            out,
            "                Number of synchronized chunks: {}.",
            text(&info_sync["n_synced_chunks"])
        );
        let _ = writeln!(
            out,
            "                Permission to synchronize agent-info: {}.",
            text(&status["sync_agent_info_free"])
        );
        for (label, key) in [
            ("Agents-groups", "last_sync_agentgroup"),
            ("Agents-groups full", "last_sync_full_agentgroup"),
        ] {
            let _ = writeln!(out, "            {label}:");
            period(
                &mut out,
                "Last synchronization",
                &status[key],
                "date_start",
                "date_end",
            );
            let _ = writeln!(
                out,
                "                Number of synchronized chunks: {}.",
                text(&status[key]["n_synced_chunks"])
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn reply() -> Value {
        json!({"n_connected_nodes": 1, "nodes": {
            "m": {"info": {"name": "m", "type": "master", "version": "4.9.2", "ip": "10.0.0.1", "n_active_agents": 0}},
            "w": {"info": {"name": "w", "type": "worker", "version": "4.9.2", "ip": "10.0.0.2", "n_active_agents": 0},
                  "status": {"sync_integrity_free": true, "sync_agent_info_free": true,
                    "last_check_integrity": {"date_start_master": "2025-08-18T17:06:28.638405Z", "date_end_master": "2025-08-18T17:06:28.651010Z"},
                    "last_sync_integrity": {"date_start_master": "n/a", "date_end_master": "n/a", "total_extra_valid": 0,
                        "total_files": {"missing": 0, "shared": 1, "extra": 0, "extra_valid": 0}},
                    "last_sync_agentinfo": {"date_start_master": "n/a", "date_end_master": "n/a", "n_synced_chunks": 0},
                    "last_sync_agentgroup": {"date_start": "n/a", "date_end": "n/a", "n_synced_chunks": 0},
                    "last_sync_full_agentgroup": {"date_start": "n/a", "date_end": "n/a", "n_synced_chunks": 0},
                    "last_keep_alive": "2025-08-18T17:05:40.275469Z"}}}})
    }

    #[test]
    fn summary_lists_workers_in_wazuhs_words() {
        assert_eq!(
            health_summary("wazuh", &reply()),
            "Cluster name: wazuh\n\nLast completed synchronization for connected nodes (1):\n    \
             w (10.0.0.2): Integrity check: 2025-08-18T17:06:28.651010Z | Integrity sync: n/a | \
             Agents-info: n/a | Agent-groups: n/a | Agent-groups full: n/a | Last keep alive: \
             2025-08-18T17:05:40.275469Z.\n"
        );
    }

    #[test]
    fn detail_shows_durations_and_permissions() {
        let text = health_more("wazuh", &reply());
        assert!(text.starts_with("Cluster name: wazuh\n\nConnected nodes (1):\n\n    m (10.0.0.1)\n        Version: 4.9.2\n        Type: master\n        Active agents: 0\n\n    w (10.0.0.2)\n"), "{text}");
        assert!(text.contains("                Last integrity check: 0.013s (2025-08-18T17:06:28.638405Z - 2025-08-18T17:06:28.651010Z).\n                Permission to check integrity: True.\n"), "{text}");
        assert!(
            text.contains("                Last synchronization: n/a (n/a - n/a).\n"),
            "{text}"
        );
        assert!(
            text.contains("Synchronized files: Shared: 1 | Missing: 0 | Extra: 0.\n"),
            "{text}"
        );
    }
}
