//! `cluster_control -i` (summary) and `-i more` (detail), from a `get_health` reply.

use std::fmt::Write;

use chrono::NaiveDateTime;

use crate::control::protocol::health::{HealthReply, NEVER, NodeHealth, WorkerHealthStatus};

/// Wazuh's date format in health replies.
const DATE_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.fZ";

/// A boolean as Wazuh's Python prints it.
fn python_bool(value: bool) -> &'static str {
    if value { "True" } else { "False" }
}

/// `end - start` as Wazuh prints it: seconds rounded to 3 decimals, at least `0.001s`; `n/a`
/// when a date is missing.
fn seconds(start: &str, end: &str) -> String {
    let parse = |s: &str| NaiveDateTime::parse_from_str(s, DATE_FORMAT).ok();
    match (parse(start), parse(end)) {
        (Some(start), Some(end)) => {
            let secs = (end - start).num_microseconds().unwrap_or(0) as f64 / 1e6;
            let rounded = ((secs * 1000.0).round() / 1000.0).max(0.001);
            format!("{rounded}s")
        }
        _ => NEVER.to_owned(),
    }
}

fn workers(
    reply: &HealthReply,
) -> impl Iterator<Item = (&String, &NodeHealth, &WorkerHealthStatus)> {
    reply
        .nodes
        .iter()
        .filter_map(|(name, node)| node.status.as_ref().map(|status| (name, node, status)))
}

/// The summary of `-i`.
pub fn health_summary(cluster_name: &str, reply: &HealthReply) -> String {
    let mut out = format!(
        "Cluster name: {cluster_name}\n\nLast completed synchronization for connected nodes ({}):\n",
        reply.n_connected_nodes
    );
    for (name, node, status) in workers(reply) {
        let _ = writeln!(
            out,
            "    {name} ({}): Integrity check: {} | Integrity sync: {} | Agents-info: {} | \
             Agent-groups: {} | Agent-groups full: {} | Last keep alive: {}.",
            node.info.ip,
            status.last_check_integrity.date_end_master,
            status.last_sync_integrity.date_end_master,
            status.last_sync_agentinfo.date_end_master,
            status.last_sync_agentgroup.date_end,
            status.last_sync_full_agentgroup.date_end,
            status.last_keep_alive,
        );
    }
    out
}

fn period(out: &mut String, label: &str, start: &str, end: &str) {
    let _ = writeln!(
        out,
        "                {label}: {} ({start} - {end}).",
        seconds(start, end),
    );
}

fn chunks(out: &mut String, n_synced_chunks: u64) {
    let _ = writeln!(
        out,
        "                Number of synchronized chunks: {n_synced_chunks}."
    );
}

fn status_more(out: &mut String, status: &WorkerHealthStatus) {
    let _ = write!(
        out,
        "        Status:\n            Last keep Alive:\n                Last received: {}.\n",
        status.last_keep_alive
    );
    out.push_str("            Integrity check:\n");
    let check = &status.last_check_integrity;
    period(
        out,
        "Last integrity check",
        &check.date_start_master,
        &check.date_end_master,
    );
    let _ = writeln!(
        out,
        "                Permission to check integrity: {}.",
        python_bool(status.sync_integrity_free)
    );
    out.push_str("            Integrity sync:\n");
    let sync = &status.last_sync_integrity;
    period(
        out,
        "Last integrity synchronization",
        &sync.date_start_master,
        &sync.date_end_master,
    );
    let files = &sync.total_files;
    let _ = writeln!(
        out,
        "                Synchronized files: Shared: {} | Missing: {} | Extra: {}.",
        files.shared, files.missing, files.extra
    );
    out.push_str("            Agents-info:\n");
    let info_sync = &status.last_sync_agentinfo;
    period(
        out,
        "Last synchronization",
        &info_sync.date_start_master,
        &info_sync.date_end_master,
    );
    chunks(out, info_sync.n_synced_chunks);
    let _ = writeln!(
        out,
        "                Permission to synchronize agent-info: {}.",
        python_bool(status.sync_agent_info_free)
    );
    for (label, groups) in [
        ("Agents-groups", &status.last_sync_agentgroup),
        ("Agents-groups full", &status.last_sync_full_agentgroup),
    ] {
        let _ = writeln!(out, "            {label}:");
        period(
            out,
            "Last synchronization",
            &groups.date_start,
            &groups.date_end,
        );
        chunks(out, groups.n_synced_chunks);
    }
}

/// The detail of `-i more`.
pub fn health_more(cluster_name: &str, reply: &HealthReply) -> String {
    let mut out = format!(
        "Cluster name: {cluster_name}\n\nConnected nodes ({}):\n",
        reply.n_connected_nodes
    );
    for (name, node) in &reply.nodes {
        let info = &node.info;
        let _ = write!(
            out,
            "\n    {name} ({})\n        Version: {}\n        Type: {}\n        Active agents: {}\n",
            info.ip, info.version, info.node_type, info.n_active_agents,
        );
        if let Some(status) = &node.status {
            status_more(&mut out, status);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::protocol::health::example_json;

    fn reply() -> HealthReply {
        serde_json::from_value(example_json()).unwrap()
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
