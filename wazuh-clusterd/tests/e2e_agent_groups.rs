//! End-to-end, agent-groups and agent sync visibility: real `wazuh-clusterd` processes and the
//! real tools on 127.0.0.1, short timers (the agent-groups start delay and the workers' keys
//! check set through `<intervals>`). A group assigned on the master reaches each worker's own
//! store through `syn_g_m_w` (read with `group_list {"local": true}` on the worker's socket), and
//! `cluster_control -i` on the master shows the agent-info and agent-groups dates per worker.
//! Every wait is a bounded poll; every process is killed when its guard drops.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use wazuh_clusterd::config::NodeType;
use wazuh_clusterd::control::commands::agents::protocol::{AGENT_STAT, GROUP_LIST};
use wazuh_clusterd::demo::{LocalCluster, NodeProcess, query, wait_for_nodes, wait_until};

const DAEMON: &str = env!("CARGO_BIN_EXE_wazuh-clusterd");
const CONTROL: &str = env!("CARGO_BIN_EXE_cluster_control");
const MANAGE: &str = env!("CARGO_BIN_EXE_manage_agents");
const GROUPS: &str = env!("CARGO_BIN_EXE_agent_groups");
/// Longest wait for anything to reach another node.
const WAIT: Duration = Duration::from_secs(30);

/// Runs a tool that must succeed and returns its stdout.
fn ok(binary: &str, home: &Path, args: &[&str]) -> String {
    let out = Command::new(binary)
        .arg("--home")
        .arg(home)
        .args(args)
        .output()
        .expect("run the tool");
    assert!(
        out.status.success(),
        "{binary} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The agents of `group` in the worker's own store (what `syn_g_m_w` gave it).
fn local_members(worker: &NodeProcess, group: &str) -> Vec<String> {
    let Ok(reply) = query(&worker.home, GROUP_LIST, r#"{"local": true}"#) else {
        return Vec::new();
    };
    reply["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|item| item["name"] == group)
        .flat_map(|item| item["agents"].as_array().cloned().unwrap_or_default())
        .filter_map(|id| id.as_str().map(str::to_owned))
        .collect()
}

/// `get_health` through `cluster_control -i --json` on `home`: the status of `worker`.
fn health_status(home: &Path, worker: &str) -> Value {
    let out = ok(CONTROL, home, &["-i", "--json"]);
    let reply: Value = serde_json::from_str(&out).unwrap();
    reply["nodes"][worker]["status"].clone()
}

fn is_date(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|d| chrono::NaiveDateTime::parse_from_str(d, "%Y-%m-%dT%H:%M:%S%.fZ").is_ok())
}

#[test]
fn groups_reach_the_workers_and_health_shows_the_agent_syncs() {
    let root = tempfile::tempdir().unwrap();
    let mut cluster = LocalCluster::new(Path::new(DAEMON), root.path()).unwrap();
    cluster.intervals.extend(
        [
            ("agent_group_start_delay", "1s"),
            ("keys_check_interval", "500ms"),
        ]
        .map(|(n, v)| (n.to_owned(), v.to_owned())),
    );
    let master = cluster.start_node("master01", NodeType::Master).unwrap();
    let w1 = cluster.start_node("worker01", NodeType::Worker).unwrap();
    let w2 = cluster.start_node("worker02", NodeType::Worker).unwrap();
    assert!(
        wait_for_nodes(&master.home, &["master01", "worker01", "worker02"], WAIT),
        "workers did not connect; master log:\n{}",
        master.log()
    );

    // An agent assigned to a group on the master: each worker's own store gets the assignment.
    let out = ok(MANAGE, &master.home, &["-a", "any", "-n", "web-01"]);
    let id = out
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("Agent added with ID "))
        .and_then(|rest| rest.strip_suffix('.'))
        .unwrap_or_else(|| panic!("unexpected manage_agents output: {out}"))
        .to_owned();
    ok(GROUPS, &master.home, &["-a", "-g", "linux"]);
    ok(GROUPS, &master.home, &["-a", "-i", &id, "-g", "linux"]);
    for worker in [&w1, &w2] {
        assert!(
            wait_until(WAIT, || local_members(worker, "linux") == [id.clone()]),
            "{} never got agent {id} in group linux through syn_g_m_w: {:?}\nworker log:\n{}",
            worker.name,
            query(&worker.home, GROUP_LIST, r#"{"local": true}"#),
            worker.log()
        );
    }
    // The registry view of a worker is still the master's (no `local`).
    let registry = query(&w1.home, GROUP_LIST, "{}").unwrap();
    assert!(
        registry["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == "linux" && g["agents"] == json!([id])),
        "{registry}"
    );

    // An unassignment reaches the workers too.
    ok(GROUPS, &master.home, &["-r", "-i", &id, "-g", "linux"]);
    assert!(
        wait_until(WAIT, || local_members(&w1, "linux").is_empty()),
        "worker01 still has agent {id} in linux"
    );

    // worker01 reports the agent: its agent-info sync shows on the master's health.
    let report = json!({"id": id, "event": "keepalive", "version": "Wazuh v4.9.2"}).to_string();
    query(&w1.home, AGENT_STAT, &report).expect("worker01 accepts the agent's keepalive");
    assert!(
        wait_until(WAIT, || {
            let status = health_status(&master.home, "worker01");
            is_date(&status["last_sync_agentinfo"]["date_end_master"])
                && status["last_sync_agentinfo"]["n_synced_chunks"]
                    .as_u64()
                    .is_some_and(|n| n >= 1)
        }),
        "the master's health never showed worker01's agent-info sync: {}",
        health_status(&master.home, "worker01")
    );
    for worker in ["worker01", "worker02"] {
        let status = health_status(&master.home, worker);
        let groups = &status["last_sync_agentgroup"];
        assert!(
            is_date(&groups["date_start"]) && is_date(&groups["date_end"]),
            "{worker}: {status}"
        );
        assert!(groups["date_start"].as_str() <= groups["date_end"].as_str());
        assert!(
            status["sync_agent_info_free"].is_boolean(),
            "{worker}: {status}"
        );
    }

    // The operator's views: the summary line and the detailed one, on the master and on a
    // worker (which asks its master).
    let summary = ok(CONTROL, &master.home, &["-i"]);
    let line = summary
        .lines()
        .find(|l| l.trim_start().starts_with("worker01 ("))
        .unwrap_or_else(|| panic!("no worker01 line:\n{summary}"));
    assert!(!line.contains("Agents-info: n/a"), "{line}");
    assert!(!line.contains("Agent-groups: n/a"), "{line}");
    let from_worker = ok(CONTROL, &w2.home, &["-i"]);
    assert!(
        from_worker
            .lines()
            .any(|l| l.contains("worker01 (") && !l.contains("Agents-info: n/a")),
        "{from_worker}"
    );
    let more = ok(CONTROL, &master.home, &["-i", "more"]);
    let section = more
        .split("    worker01 (")
        .nth(1)
        .and_then(|worker01| worker01.split("            Agents-info:\n").nth(1))
        .unwrap_or_else(|| panic!("no Agents-info section:\n{more}"));
    let chunks = section
        .lines()
        .find_map(|l| l.trim().strip_prefix("Number of synchronized chunks: "))
        .unwrap_or_else(|| panic!("no chunk count:\n{more}"));
    assert_ne!(chunks, "0.", "{more}");

    // The master's cluster.log has Wazuh's lines for both syncs.
    let log = master.log();
    for expected in [
        "INFO: [Worker worker01] [Agent-info sync] Finished in ",
        "INFO: [Worker worker02] [Agent-groups send] Finished in ",
    ] {
        assert!(
            log.contains(expected),
            "no {expected:?} in the master log:\n{log}"
        );
    }
}
