//! End-to-end integrity sync: real `wazuh-clusterd`, `cluster_control` and `manage_agents`
//! processes on 127.0.0.1. Files travel from the master to the workers byte-identical with the
//! items' permissions; edits, new groups and removals follow; a worker killed with SIGKILL
//! resyncs after its restart; `cluster_control -f` and `-i` show the result. Every wait is a
//! bounded poll; every process is killed when its guard drops.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use wazuh_clusterd::config::NodeType;
use wazuh_clusterd::control::socket_path;
use wazuh_clusterd::demo::{
    LocalCluster, NodeProcess, free_port, same_files, wait_for_nodes, wait_until,
};

const DAEMON: &str = env!("CARGO_BIN_EXE_wazuh-clusterd");
const CONTROL: &str = env!("CARGO_BIN_EXE_cluster_control");
const MANAGE_AGENTS: &str = env!("CARGO_BIN_EXE_manage_agents");
/// Longest wait for a connection, a sync or a state to show.
const WAIT: Duration = Duration::from_secs(30);
/// What the workers must hold exactly as the master does.
const SYNCED: [&str; 3] = ["etc/client.keys", "etc/shared", "etc/rules"];

fn run(program: &str, home: &Path, args: &[&str]) -> Output {
    Command::new(program)
        .arg("--home")
        .arg(home)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"))
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "the tool failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn plant(home: &Path, path: &str, content: &str) {
    let file = home.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, content).unwrap();
}

fn mode(home: &Path, path: &str) -> u32 {
    std::fs::metadata(home.join(path))
        .unwrap_or_else(|e| panic!("{path} in {}: {e}", home.display()))
        .permissions()
        .mode()
        & 0o777
}

fn set_interval(cluster: &mut LocalCluster, name: &str, value: &str) {
    cluster.intervals.retain(|(n, _)| n != name);
    cluster.intervals.push((name.to_owned(), value.to_owned()));
}

/// Starts the master, on another free port if its port was taken meanwhile (a free port is
/// only known free at the instant it was looked up; other tests' connections use ports too).
fn start_master(cluster: &mut LocalCluster) -> NodeProcess {
    for _ in 0..5 {
        let mut master = cluster.start_node("master01", NodeType::Master).unwrap();
        let socket = socket_path(&master.home);
        wait_until(WAIT, || socket.exists() || !master.is_running());
        if master.is_running() {
            return master;
        }
        cluster.port = free_port().unwrap();
    }
    panic!(
        "the master never started; see {}",
        cluster.home("master01").display()
    );
}

fn wait_same(master: &NodeProcess, worker: &NodeProcess, what: &str) {
    assert!(
        wait_until(WAIT, || same_files(&master.home, &worker.home, &SYNCED)),
        "{} does not hold the master's files after {what}; its log:\n{}\nmaster log:\n{}",
        worker.name,
        worker.log(),
        master.log()
    );
}

/// The `-f --json` items of `home`.
fn file_states(home: &Path, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["-f", "--json"];
    all.extend_from_slice(args);
    let reply: serde_json::Value =
        serde_json::from_str(&stdout(&run(CONTROL, home, &all))).expect("-f --json prints JSON");
    reply["items"].as_array().cloned().unwrap_or_default()
}

fn is_synchronized(items: &[serde_json::Value], node: &str, file: &str) -> bool {
    items
        .iter()
        .any(|i| i["node"] == node && i["file"] == file && i["state"] == "synchronized")
}

#[test]
fn files_reach_both_workers_identical_follow_changes_and_survive_a_killed_worker() {
    let root = tempfile::tempdir().unwrap();
    let mut cluster = LocalCluster::new(Path::new(DAEMON), root.path()).unwrap();
    set_interval(&mut cluster, "recalculate_integrity", "2s");
    let master_home = cluster.home("master01");
    plant(
        &master_home,
        "etc/shared/default/agent.conf",
        "<agent_config/>\n",
    );
    plant(
        &master_home,
        "etc/shared/old/agent.conf",
        "<agent_config>old</agent_config>\n",
    );
    plant(
        &master_home,
        "etc/rules/local_rules.xml",
        "<group name=\"local\"/>\n",
    );

    let master = start_master(&mut cluster);
    let w1 = cluster.start_node("worker01", NodeType::Worker).unwrap();
    let mut w2 = cluster.start_node("worker02", NodeType::Worker).unwrap();
    assert!(
        wait_for_nodes(&master.home, &["master01", "worker01", "worker02"], WAIT),
        "workers did not connect; master log:\n{}",
        master.log()
    );
    let added = stdout(&run(
        MANAGE_AGENTS,
        &master.home,
        &["-a", "any", "-n", "agent-e2e"],
    ));
    assert!(added.contains("agent-e2e"), "{added}");
    plant(
        &master.home,
        "etc/shared/web/agent.conf",
        "<agent_config>web</agent_config>\n",
    );

    for worker in [&w1, &w2] {
        wait_same(&master, worker, "the start");
        let keys = std::fs::read_to_string(worker.home.join("etc/client.keys")).unwrap();
        assert!(keys.contains(" agent-e2e any "), "{keys}");
        assert_eq!(mode(&worker.home, "etc/client.keys"), 0o640);
        assert_eq!(mode(&worker.home, "etc/shared/web/agent.conf"), 0o660);
        assert_eq!(mode(&worker.home, "etc/rules/local_rules.xml"), 0o660);
    }

    plant(
        &master.home,
        "etc/shared/default/agent.conf",
        "<agent_config>v2</agent_config>\n",
    );
    std::fs::remove_dir_all(master.home.join("etc/shared/old")).unwrap();
    for worker in [&w1, &w2] {
        wait_same(&master, worker, "the edit and the removal");
        assert!(
            !worker.home.join("etc/shared/old").exists(),
            "the removed group's folder"
        );
    }

    w2.kill().unwrap();
    plant(
        &master.home,
        "etc/shared/default/agent.conf",
        "<agent_config>v3</agent_config>\n",
    );
    plant(
        &master.home,
        "etc/rules/more_rules.xml",
        "<group name=\"more\"/>\n",
    );
    wait_same(&master, &w1, "changes while worker02 was down");
    let w2 = cluster.start_node("worker02", NodeType::Worker).unwrap();
    wait_same(&master, &w2, "its restart");

    let conf = "etc/shared/default/agent.conf";
    for home in [&master.home, &w1.home] {
        assert!(
            wait_until(WAIT, || {
                let items = file_states(home, &[]);
                is_synchronized(&items, "worker01", conf)
                    && is_synchronized(&items, "worker02", conf)
            }),
            "-f from {} never showed {conf} synchronized on both workers: {:?}",
            home.display(),
            file_states(home, &[])
        );
        let filtered = file_states(home, &["-fn", "worker02", "--file", "etc/client.keys"]);
        assert_eq!(filtered.len(), 1, "{filtered:?}");
        assert_eq!(filtered[0]["node"], "worker02");
        assert_eq!(filtered[0]["file"], "etc/client.keys");

        let table = stdout(&run(CONTROL, home, &["-f", "-fn", "worker01"]));
        let header = table.lines().next().unwrap_or_default();
        assert!(
            header.starts_with("NODE ")
                && header.contains(" STATE ")
                && header.contains("LAST CHANGE"),
            "{table}"
        );
        assert!(
            table.lines().any(|l| l.starts_with("worker01  ")
                && l.contains(conf)
                && l.contains("synchronized")),
            "{table}"
        );
        assert!(!table.contains("worker02"), "{table}");

        let health = stdout(&run(CONTROL, home, &["-i"]));
        let line = health
            .lines()
            .find(|l| l.trim_start().starts_with("worker01 "))
            .unwrap_or_else(|| panic!("{health}"));
        assert!(!line.contains("Integrity check: n/a"), "{health}");
        assert!(line.contains("Integrity check: 20"), "{health}");
    }
}

#[test]
fn an_edit_reaches_a_worker_long_before_the_master_recalculates_on_its_own() {
    let root = tempfile::tempdir().unwrap();
    let mut cluster = LocalCluster::new(Path::new(DAEMON), root.path()).unwrap();
    // Without the file watcher, the master would see the edit only after ten minutes.
    set_interval(&mut cluster, "recalculate_integrity", "10m");
    plant(
        &cluster.home("master01"),
        "etc/shared/default/agent.conf",
        "<agent_config/>\n",
    );
    let master = start_master(&mut cluster);
    let worker = cluster.start_node("worker01", NodeType::Worker).unwrap();
    assert!(
        wait_for_nodes(&master.home, &["master01", "worker01"], WAIT),
        "the worker did not connect; master log:\n{}",
        master.log()
    );
    wait_same(&master, &worker, "the start");

    plant(
        &master.home,
        "etc/shared/default/agent.conf",
        "<agent_config>edited</agent_config>\n",
    );
    plant(
        &master.home,
        "etc/shared/db/agent.conf",
        "<agent_config>db</agent_config>\n",
    );
    wait_same(&master, &worker, "the edit");
    let conf = std::fs::read_to_string(worker.home.join("etc/shared/default/agent.conf")).unwrap();
    assert_eq!(conf, "<agent_config>edited</agent_config>\n");
}

#[test]
fn with_ten_minute_periods_a_fresh_worker_and_an_edit_are_synced_at_once() {
    let root = tempfile::tempdir().unwrap();
    let mut cluster = LocalCluster::new(Path::new(DAEMON), root.path()).unwrap();
    // Only the check right after hello and the master's change notice (syn_m_chg) can sync
    // within the wait: the worker's own period and the master's recalculation are 10 minutes.
    set_interval(&mut cluster, "recalculate_integrity", "10m");
    set_interval(&mut cluster, "sync_integrity", "10m");
    plant(
        &cluster.home("master01"),
        "etc/shared/default/agent.conf",
        "<agent_config/>\n",
    );
    let master = start_master(&mut cluster);
    let worker = cluster.start_node("worker01", NodeType::Worker).unwrap();
    wait_same(&master, &worker, "a fresh worker, right after hello");

    plant(
        &master.home,
        "etc/shared/default/agent.conf",
        "<agent_config>edited</agent_config>\n",
    );
    wait_same(&master, &worker, "the edit, told to the worker");
    assert!(
        worker.log().contains("Integrity sync"),
        "the worker logs its syncs:\n{}",
        worker.log()
    );
}
