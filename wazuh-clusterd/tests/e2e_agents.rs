//! End-to-end, agents: real `wazuh-clusterd` processes and the real tools (`manage_agents`,
//! `agent_groups`, `wazuh-agent-sim`, `cluster_control -a`) on 127.0.0.1, short timers.
//! Every wait is a bounded poll; every process is killed when its guard drops.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;
use support::start_three;
use wazuh_clusterd::control::commands::agents::protocol::AGENT_STAT;
use wazuh_clusterd::demo::{LocalCluster, query, wait_until};

const DAEMON: &str = env!("CARGO_BIN_EXE_wazuh-clusterd");
const CONTROL: &str = env!("CARGO_BIN_EXE_cluster_control");
const MANAGE: &str = env!("CARGO_BIN_EXE_manage_agents");
const GROUPS: &str = env!("CARGO_BIN_EXE_agent_groups");
const SIM: &str = env!("CARGO_BIN_EXE_wazuh-agent-sim");
/// Longest wait for anything to reach another node.
const WAIT: Duration = Duration::from_secs(20);

fn tool(binary: &str, home: &Path, args: &[&str]) -> Output {
    Command::new(binary)
        .arg("--home")
        .arg(home)
        .args(args)
        .output()
        .expect("run the tool")
}

/// Runs a tool that must succeed and returns its stdout.
fn ok(binary: &str, home: &Path, args: &[&str]) -> String {
    let out = tool(binary, home, args);
    assert!(
        out.status.success(),
        "{binary} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn client_keys(home: &Path) -> String {
    std::fs::read_to_string(home.join("etc/client.keys")).unwrap_or_default()
}

/// The agents `cluster_control -a --json` shows through `home`.
fn agents(home: &Path) -> Vec<Value> {
    let out = ok(CONTROL, home, &["-a", "--json"]);
    let reply: Value = serde_json::from_str(&out).unwrap();
    reply["items"].as_array().cloned().unwrap_or_default()
}

fn agent(home: &Path, id: &str) -> Option<Value> {
    agents(home).into_iter().find(|a| a["id"] == id)
}

/// The id in `manage_agents -a` output (`Agent added with ID 001.` then the key line).
fn added_id(output: &str) -> String {
    let first = output.lines().next().unwrap();
    first
        .strip_prefix("Agent added with ID ")
        .and_then(|rest| rest.strip_suffix('.'))
        .unwrap_or_else(|| panic!("unexpected manage_agents output: {output}"))
        .to_owned()
}

#[test]
fn registration_groups_and_deletion_reach_every_node_from_any_node() {
    let root = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::new(Path::new(DAEMON), root.path()).unwrap();
    let (master, w1, w2) = start_three(&cluster, WAIT);

    // Registered on worker01: forwarded to the master, which answers the id and the key line.
    let out = ok(MANAGE, &w1.home, &["-a", "any", "-n", "web-01"]);
    let id = added_id(&out);
    let key_line = out.lines().nth(1).unwrap().to_owned();
    assert!(key_line.starts_with(&format!("{id} web-01 any ")), "{out}");
    assert_eq!(key_line.split(' ').nth(3).unwrap().len(), 64, "{out}");

    // The master's registry has it, never connected, on every node's view.
    let table = ok(CONTROL, &master.home, &["-a"]);
    assert!(
        table.starts_with("ID   NAME    IP   STATUS           VERSION  NODE NAME  \n"),
        "{table}"
    );
    assert!(
        table.contains(&format!(
            "{id}  web-01  any  never_connected  unknown  unknown    "
        )),
        "{table}"
    );
    let from_worker = ok(CONTROL, &w2.home, &["-a"]);
    assert_eq!(from_worker, table);

    // Its key reaches the other worker through client.keys.
    assert!(
        wait_until(WAIT, || client_keys(&w2.home).contains(&key_line)),
        "worker02 never got the key; its client.keys: {:?}",
        client_keys(&w2.home)
    );
    assert_eq!(client_keys(&w2.home), client_keys(&master.home));

    // A duplicate name is refused with the master's code, from a worker too.
    let dup = tool(MANAGE, &w2.home, &["-a", "any", "-n", "web-01"]);
    assert_eq!(dup.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&dup.stderr);
    assert!(stderr.starts_with("Error 1705 - "), "{stderr}");
    assert!(stderr.contains("web-01"), "{stderr}");

    // A group created on the master and assigned from worker02 reaches both workers.
    assert_eq!(
        ok(GROUPS, &master.home, &["-a", "-g", "linux"]),
        "Group 'linux' created.\n"
    );
    assert_eq!(
        ok(GROUPS, &w2.home, &["-a", "-i", &id, "-g", "linux"]),
        format!("Group 'linux' added to agent '{id}'.\n")
    );
    for worker in [&w1, &w2] {
        assert!(
            wait_until(WAIT, || worker.home.join("etc/shared/linux").is_dir()),
            "{} never got etc/shared/linux",
            worker.name
        );
    }
    let app = added_id(&ok(
        MANAGE,
        &w1.home,
        &["-a", "any", "-n", "app-01", "-G", "linux"],
    ));
    let groups = ok(GROUPS, &w1.home, &["-l"]);
    assert!(groups.contains("\n  linux (2)"), "{groups}");
    let members = ok(GROUPS, &w1.home, &["-l", "-g", "linux"]);
    assert_eq!(
        members,
        format!(
            "2 agent(s) in group 'linux':\n  ID: {id}  Name: web-01.\n  ID: {app}  Name: app-01.\n"
        )
    );
    assert_eq!(
        ok(MANAGE, &master.home, &["-r", &app]),
        format!("Agent '{app}' removed.\n")
    );
    let missing = tool(GROUPS, &w1.home, &["-a", "-i", &id, "-g", "nosuch"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).starts_with("Error 1710 - "));
    assert_eq!(
        ok(GROUPS, &w1.home, &["-r", "-i", &id, "-g", "linux"]),
        format!("Agent '{id}' removed from group 'linux'.\n")
    );

    // Deleted from worker02: gone from the master's list and from every client.keys.
    let second = added_id(&ok(
        MANAGE,
        &master.home,
        &["-a", "10.0.0.9", "-n", "db-01"],
    ));
    assert_eq!(
        ok(MANAGE, &w2.home, &["-r", &id]),
        format!("Agent '{id}' removed.\n")
    );
    assert!(agent(&master.home, &id).is_none());
    assert!(agent(&master.home, &second).is_some());
    for worker in [&w1, &w2] {
        assert!(
            wait_until(WAIT, || {
                let keys = client_keys(&worker.home);
                !keys.contains("web-01") && keys.contains("db-01")
            }),
            "{} still lists web-01 (or lacks db-01): {:?}",
            worker.name,
            client_keys(&worker.home)
        );
    }
    let listed = ok(MANAGE, &w1.home, &["-l"]);
    assert_eq!(
        listed,
        format!("Available agents: \n   ID: {second}, Name: db-01, IP: 10.0.0.9\n")
    );
}

#[test]
fn the_master_shows_the_node_each_agent_reports_to_and_follows_a_failover() {
    let root = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::new(Path::new(DAEMON), root.path()).unwrap();
    let (master, mut w1, w2) = start_three(&cluster, WAIT);
    let id = added_id(&ok(MANAGE, &master.home, &["-a", "any", "-n", "laptop-7"]));
    for worker in [&w1, &w2] {
        assert!(
            wait_until(WAIT, || client_keys(&worker.home).contains("laptop-7")),
            "{} never got the key",
            worker.name
        );
    }

    // An agent the node has no key for is refused with a clear error.
    let refused = query(
        &w1.home,
        AGENT_STAT,
        r#"{"id": "777", "event": "keepalive"}"#,
    )
    .unwrap_err();
    let text = refused.to_string();
    assert!(
        text.contains("1760") && text.contains("client.keys of node worker01"),
        "{text}"
    );

    // The agent reports to worker01: the master shows it active there.
    let out = ok(
        SIM,
        &w1.home,
        &["--ids", &id, "--duration", "0", "--os", "Debian 12"],
    );
    assert!(
        out.starts_with("round 1: 1 keepalive(s) accepted by worker01, 0 refused"),
        "{out}"
    );
    assert!(
        out.ends_with(
            "played 1 agent(s) on worker01 for 1 round(s): 1 report(s) accepted, 0 refused.\n"
        ),
        "{out}"
    );
    assert!(
        wait_until(WAIT, || agent(&master.home, &id).is_some_and(
            |a| a["node_name"] == "worker01" && a["status"] == "active"
        )),
        "the master never showed the agent on worker01: {:?}",
        agent(&master.home, &id)
    );
    let row = agent(&master.home, &id).unwrap();
    assert_eq!(row["version"], "Wazuh v4.9.2");
    assert_eq!(row["os"], "Debian 12");
    let table = ok(
        CONTROL,
        &w2.home,
        &["-a", "-fn", "worker01", "-fs", "active"],
    );
    assert!(
        table.contains(&format!(
            "{id}  laptop-7  any  active  Wazuh v4.9.2  worker01   "
        )),
        "{table}"
    );
    let none = ok(CONTROL, &master.home, &["-a", "-fs", "disconnected"]);
    assert_eq!(none.lines().count(), 1, "{none}");

    // worker01 dies; the agent goes to worker02, and the master follows it.
    w1.kill().unwrap();
    assert!(
        wait_until(WAIT, || {
            ok(SIM, &w2.home, &["--ids", &id, "--rounds", "1"]);
            wait_until(Duration::from_secs(3), || {
                agent(&master.home, &id).is_some_and(|a| a["node_name"] == "worker02")
            })
        }),
        "the master never moved the agent to worker02: {:?}",
        agent(&master.home, &id)
    );
    let moved = ok(CONTROL, &master.home, &["-a", "-fn", "worker02"]);
    assert!(moved.contains(&format!("{id}  laptop-7")), "{moved}");
    assert_eq!(
        ok(CONTROL, &master.home, &["-a", "-fn", "worker01"])
            .lines()
            .count(),
        1
    );

    // Agents registered by the simulator through worker02 report once their keys arrive there.
    let out = ok(
        SIM,
        &w2.home,
        &[
            "--agents",
            "2",
            "--register",
            "sim",
            "--interval",
            "0.5",
            "--rounds",
            "12",
        ],
    );
    assert!(
        out.starts_with("registered ") && out.contains("\nregistered "),
        "{out}"
    );
    assert!(out.contains(" keepalive(s) accepted by worker02"), "{out}");
    assert!(
        wait_until(WAIT, || {
            let sims: Vec<Value> = agents(&master.home)
                .into_iter()
                .filter(|a| a["name"].as_str().is_some_and(|n| n.starts_with("sim-")))
                .collect();
            sims.len() == 2 && sims.iter().all(|a| a["node_name"] == "worker02")
        }),
        "{:?}",
        agents(&master.home)
    );

    // It disconnects from worker02: the master shows it disconnected.
    ok(SIM, &w2.home, &["--ids", &id, "--disconnect"]);
    assert!(
        wait_until(WAIT, || agent(&master.home, &id)
            .is_some_and(|a| a["status"] == "disconnected")),
        "{:?}",
        agent(&master.home, &id)
    );

    // With the master gone, a worker registers nothing and says why.
    let mut master = master;
    master.kill().unwrap();
    assert!(
        wait_until(WAIT, || {
            let out = tool(MANAGE, &w2.home, &["-a", "any", "-n", "late-01"]);
            out.status.code() == Some(1)
                && String::from_utf8_lossy(&out.stderr).starts_with("Error 3023 - ")
        }),
        "{:?}",
        tool(MANAGE, &w2.home, &["-a", "any", "-n", "late-01"])
    );
    let down = tool(CONTROL, &w2.home, &["-a"]);
    assert_eq!(down.status.code(), Some(1));
    assert!(!client_keys(&w2.home).contains("late-01"));
}
