//! `cluster_control --watch`: one compact screen of the whole cluster, refreshed: every node
//! with its role, address, active agents (the load balance) and, for workers, when their last
//! keepalive, integrity sync and agent-info sync ended, as seconds ago, and the clock offset
//! this node measured (`get_skew`: the master measures every worker, a worker its master).

use chrono::{DateTime, NaiveDateTime, Utc};

use super::table::table;
use crate::control::protocol::health::{HealthReply, NEVER};
use crate::control::protocol::skew::SkewReply;

/// Wazuh's date format in health replies.
const DATE_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.fZ";

/// `date` (a health reply's) as time before `now`: `3s ago`, `n/a` for never or unreadable.
fn ago(date: &str, now: DateTime<Utc>) -> String {
    match NaiveDateTime::parse_from_str(date, DATE_FORMAT) {
        Ok(at) if date != NEVER => {
            let secs = (now.naive_utc() - at).num_milliseconds() as f64 / 1000.0;
            format!("{:.1}s ago", secs.max(0.0))
        }
        _ => NEVER.to_owned(),
    }
}

/// The offset this node measured of `node` (a worker knows only its master's), from a
/// `get_skew` reply.
fn clock(skew: Option<&SkewReply>, node: &str, node_type: &str) -> String {
    let peers = skew.map(|s| &s.peers);
    let mine = peers.and_then(|p| p.get(node));
    let master = peers
        .and_then(|p| p.get("master"))
        .filter(|_| node_type == "master");
    match mine.or(master) {
        Some(peer) => format!("{:+.1}s", peer.offset_seconds),
        None => "-".to_owned(),
    }
}

/// The screen for `reply` of cluster `name` at `now`, with the clock offsets of the
/// `get_skew` reply `skew`.
pub fn watch_screen(
    name: &str,
    reply: &HealthReply,
    now: DateTime<Utc>,
    skew: Option<&SkewReply>,
) -> String {
    let total: usize = reply.nodes.values().map(|n| n.info.n_active_agents).sum();
    let rows: Vec<Vec<String>> = reply
        .nodes
        .values()
        .map(|node| {
            let info = &node.info;
            let share = if total == 0 {
                0.0
            } else {
                info.n_active_agents as f64 * 100.0 / total as f64
            };
            let (keepalive, integrity, agent_info) = match &node.status {
                Some(s) => (
                    ago(&s.last_keep_alive, now),
                    ago(&s.last_sync_integrity.date_end_master, now),
                    ago(&s.last_sync_agentinfo.date_end_master, now),
                ),
                None => ("-".to_owned(), "-".to_owned(), "-".to_owned()),
            };
            vec![
                info.name.clone(),
                info.node_type.clone(),
                info.ip.clone(),
                format!("{} ({share:.0}%)", info.n_active_agents),
                keepalive,
                integrity,
                agent_info,
                clock(skew, &info.name, &info.node_type),
            ]
        })
        .collect();
    format!(
        "Cluster {name} at {}: {} connected workers, {total} active agents\n\n{}",
        now.format("%Y-%m-%d %H:%M:%S UTC"),
        reply.n_connected_nodes,
        table(
            &[
                "name",
                "type",
                "address",
                "agents",
                "keepalive",
                "integrity sync",
                "agent-info",
                "clock"
            ],
            &rows
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_roles_agent_shares_and_ages() {
        let reply: HealthReply = serde_json::from_value(serde_json::json!({
            "n_connected_nodes": 1,
            "nodes": {
                "m": {"info": {"name": "m", "type": "master", "version": "4.9.2",
                               "ip": "10.0.0.1", "n_active_agents": 1}},
                "w1": {"info": {"name": "w1", "type": "worker", "version": "4.9.2",
                                "ip": "10.0.0.2", "n_active_agents": 3},
                       "status": {
                           "sync_integrity_free": true, "sync_agent_info_free": true,
                           "last_check_integrity": {"date_start_master": "n/a", "date_end_master": "n/a"},
                           "last_sync_integrity": {"date_start_master": "n/a",
                               "date_end_master": "2024-10-01T12:00:00.000000Z",
                               "total_extra_valid": 0,
                               "total_files": {"missing": 0, "shared": 0, "extra": 0, "extra_valid": 0}},
                           "last_sync_agentinfo": {"date_start_master": "n/a", "date_end_master": "n/a",
                               "n_synced_chunks": 0},
                           "last_sync_agentgroup": {"date_start": "n/a", "date_end": "n/a", "n_synced_chunks": 0},
                           "last_sync_full_agentgroup": {"date_start": "n/a", "date_end": "n/a", "n_synced_chunks": 0},
                           "last_keep_alive": "2024-10-01T12:00:08.500000Z"}}
            }
        }))
        .unwrap();
        let now = DateTime::parse_from_rfc3339("2024-10-01T12:00:10Z")
            .unwrap()
            .with_timezone(&Utc);
        let peer = |offset| serde_json::json!({"offset_seconds": offset, "samples": 1, "last_sample": "n/a"});
        let skew: SkewReply = serde_json::from_value(
            serde_json::json!({"threshold_seconds": 5.0, "peers": {"w1": peer(-30.24)}}),
        )
        .unwrap();
        let screen = watch_screen("wazuh", &reply, now, Some(&skew));
        assert!(screen.starts_with(
            "Cluster wazuh at 2024-10-01 12:00:10 UTC: 1 connected workers, 4 active agents"
        ));
        let lines: Vec<&str> = screen.lines().skip(2).collect();
        assert!(lines[0].starts_with("NAME"), "{screen}");
        assert!(
            lines[1].starts_with("m ") && lines[1].contains("1 (25%)"),
            "{screen}"
        );
        assert!(lines[2].contains("3 (75%)"), "{screen}");
        assert!(
            lines[2].contains("1.5s ago") && lines[2].contains("10.0s ago"),
            "{screen}"
        );
        assert!(
            lines[2].trim_end().ends_with("n/a         -30.2s"),
            "{screen}"
        );
        assert!(lines[1].trim_end().ends_with(" -"), "{screen}");
        let on_worker: SkewReply = serde_json::from_value(
            serde_json::json!({"threshold_seconds": 5.0, "peers": {"master": peer(0.4)}}),
        )
        .unwrap();
        let screen = watch_screen("wazuh", &reply, now, Some(&on_worker));
        let master_row = screen.lines().nth(3).unwrap();
        assert!(master_row.trim_end().ends_with("+0.4s"), "{screen}");
    }
}
