//! End-to-end master failover with the real binaries on 127.0.0.1: three master-eligible nodes
//! (`<failover>yes</failover>`, distinct ports) and one worker. A master is elected; during a
//! burst of 200 registrations from `manage_agents` through the worker the master is killed
//! with SIGKILL; another is elected; one more agent registers through it; every registration
//! that succeeded is on every surviving node and in the worker's `client.keys`.
//! Every wait is a bounded poll; every process is killed when its guard drops.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use wazuh_clusterd::config::NodeType;
use wazuh_clusterd::control::protocol::raft::{GET_RAFT, RaftReply};
use wazuh_clusterd::demo::{LocalCluster, NodeProcess, free_port, query, wait_until};

const DAEMON: &str = env!("CARGO_BIN_EXE_wazuh-clusterd");
const CONTROL: &str = env!("CARGO_BIN_EXE_cluster_control");
const MANAGE: &str = env!("CARGO_BIN_EXE_manage_agents");
/// Longest wait for an election or for files to reach a node.
const WAIT: Duration = Duration::from_secs(40);
const ELIGIBLE: [&str; 3] = ["master-1", "master-2", "master-3"];
const BURST: usize = 200;

fn tool(binary: &str, home: &Path, args: &[&str]) -> Output {
    Command::new(binary)
        .arg("--home")
        .arg(home)
        .args(args)
        .output()
        .expect("run the tool")
}

fn raft(home: &Path) -> Option<RaftReply> {
    let reply: Value = query(home, GET_RAFT, "null").ok()?;
    serde_json::from_value(reply).ok()
}

/// The node serving as master, among `nodes` (by index), once exactly one says so.
fn serving(nodes: &[(String, PathBuf)]) -> Option<usize> {
    let serving: Vec<usize> = nodes
        .iter()
        .enumerate()
        .filter(|(_, (_, home))| raft(home).is_some_and(|r| r.serving))
        .map(|(i, _)| i)
        .collect();
    (serving.len() == 1).then(|| serving[0])
}

fn client_keys(home: &Path) -> String {
    std::fs::read_to_string(home.join("etc/client.keys")).unwrap_or_default()
}

/// `manage_agents -a any -n NAME` on `home`: the key line when it succeeded.
fn register(home: &Path, name: &str) -> Option<String> {
    let out = tool(MANAGE, home, &["-a", "any", "-n", name]);
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout)
        .ok()?
        .lines()
        .nth(1)
        .map(str::to_owned)
}

#[test]
fn the_master_is_killed_during_registrations_and_nothing_acknowledged_is_lost() {
    let tempdir = tempfile::tempdir().unwrap();
    // WAZUH_E2E_KEEP=1 keeps the nodes' homes (and logs) to read after the run.
    let root = match std::env::var_os("WAZUH_E2E_KEEP") {
        Some(_) => tempdir.keep(),
        None => tempdir.path().to_path_buf(),
    };
    let cluster = LocalCluster::new(Path::new(DAEMON), &root).unwrap();
    let ports: Vec<u16> = (0..3).map(|_| free_port().unwrap()).collect();
    let mut processes: Vec<Option<NodeProcess>> = Vec::new();
    let mut nodes: Vec<(String, PathBuf)> = Vec::new();
    for (name, port) in ELIGIBLE.iter().zip(&ports) {
        let spec = cluster.failover_spec(name, &ports, Some(*port));
        processes.push(Some(cluster.start(&spec, None).unwrap()));
        nodes.push((name.to_string(), cluster.home(name)));
    }
    let worker_spec = cluster.failover_spec("worker-1", &ports, None);
    let _worker = cluster.start(&worker_spec, None).unwrap();
    let worker = cluster.home("worker-1");

    // A master is elected, and every other node joins it as a worker.
    let mut master = None;
    assert!(
        wait_until(WAIT, || {
            master = serving(&nodes);
            master.is_some()
        }),
        "no master elected; logs:\n{}",
        processes
            .iter()
            .flatten()
            .map(NodeProcess::log)
            .collect::<Vec<_>>()
            .join("\n----\n")
    );
    let first = master.unwrap();
    let expected: Vec<&str> = ELIGIBLE.iter().copied().chain(["worker-1"]).collect();
    assert!(
        wazuh_clusterd::demo::wait_for_nodes(&nodes[first].1, &expected, WAIT),
        "not every node joined the master; its log:\n{}",
        processes[first].as_ref().unwrap().log()
    );
    let list = tool(CONTROL, &nodes[first].1, &["-l"]);
    let list = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(list.contains("MASTER-ELIGIBLE"), "{list}");
    for name in ELIGIBLE {
        let line = list
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{list}"));
        assert!(line.contains(" yes "), "{list}");
    }
    let line = list.lines().find(|l| l.starts_with("worker-1")).unwrap();
    assert!(line.trim_end().ends_with("no"), "{list}");

    // A burst of registrations through the worker; the master dies in the middle of it.
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let next = Arc::new(AtomicUsize::new(0));
    let burst: Vec<_> = (0..4)
        .map(|_| {
            let (acknowledged, next, worker) = (acknowledged.clone(), next.clone(), worker.clone());
            std::thread::spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= BURST {
                        return;
                    }
                    if let Some(line) = register(&worker, &format!("agent-{i:03}")) {
                        acknowledged.lock().unwrap().push(line);
                    }
                }
            })
        })
        .collect();
    assert!(wait_until(WAIT, || next.load(Ordering::SeqCst) >= BURST / 3));
    let killed_at = Instant::now();
    processes[first].as_mut().unwrap().kill().unwrap();
    for thread in burst {
        thread.join().unwrap();
    }
    let survivors: Vec<(String, PathBuf)> = nodes
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != first)
        .map(|(_, n)| n.clone())
        .collect();
    let mut second = None;
    assert!(
        wait_until(WAIT, || {
            second = serving(&survivors);
            second.is_some()
        }),
        "no new master after the kill"
    );
    let elected_after = killed_at.elapsed();
    let new_master = &survivors[second.unwrap()];
    eprintln!(
        "new master {} serving {:.1}s after the kill",
        new_master.0,
        elected_after.as_secs_f64()
    );

    // One more agent, registered through the new master itself.
    // (it serves once it adopted the committed registry: retry until then)
    let mut late = None;
    let registered = wait_until(WAIT, || {
        late = register(&new_master.1, "late-agent");
        late.is_some()
    });
    let out = tool(MANAGE, &new_master.1, &["-l"]);
    assert!(
        registered,
        "the new master never registered: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let late = late.unwrap();
    let acknowledged: BTreeSet<String> = acknowledged
        .lock()
        .unwrap()
        .iter()
        .cloned()
        .chain([late])
        .collect();
    eprintln!(
        "{} of {BURST} registrations acknowledged (and late-agent)",
        acknowledged.len() - 1
    );
    assert!(
        acknowledged.len() > 10,
        "too few registrations succeeded: {acknowledged:?}"
    );

    // Every acknowledged registration is on every surviving node and on the worker.
    let mut homes: Vec<&Path> = survivors.iter().map(|(_, h)| h.as_path()).collect();
    homes.push(&worker);
    for home in homes {
        let complete = wait_until(WAIT, || {
            let keys = client_keys(home);
            acknowledged
                .iter()
                .all(|line| keys.lines().any(|l| l == line))
        });
        let keys = client_keys(home);
        let missing: Vec<&String> = acknowledged
            .iter()
            .filter(|line| !keys.lines().any(|l| l == line.as_str()))
            .collect();
        assert!(complete, "{} lacks {missing:?}", home.display());
    }

    // `-i` shows the election; a planned hand-over moves the master role to the other
    // survivor.
    let health = tool(CONTROL, &new_master.1, &["-i"]);
    let health = String::from_utf8_lossy(&health.stdout).into_owned();
    assert!(health.contains("Master election (Raft)"), "{health}");
    assert!(health.contains("serving as master"), "{health}");
    // The manifest of the master's files reached the other survivor through the log.
    let other_home = survivors[1 - second.unwrap()].1.clone();
    assert!(
        wait_until(WAIT, || raft(&other_home).is_some_and(|r| r.manifest_files
            > 0
            && r.agents >= acknowledged.len())),
        "the replicated registry on the standby: {:?}",
        raft(&other_home)
    );
    let other = &survivors[1 - second.unwrap()];
    let refused = tool(CONTROL, &other.1, &["--transfer-master", &new_master.0]);
    assert!(!refused.status.success(), "a standby cannot hand over");
    let moved = tool(CONTROL, &new_master.1, &["--transfer-master", &other.0]);
    assert!(
        moved.status.success(),
        "{}{}",
        String::from_utf8_lossy(&moved.stdout),
        String::from_utf8_lossy(&moved.stderr)
    );
    assert!(
        wait_until(WAIT, || serving(&survivors) == Some(1 - second.unwrap())),
        "{} never took over",
        other.0
    );
}

#[test]
fn the_failover_demo_runs_to_the_end_over_mutual_tls() {
    let out = Command::new(DAEMON)
        .args(["demo", "--failover", "--tls"])
        .output()
        .expect("run the demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("serves as master"), "{stdout}");
    assert!(stdout.contains("MASTER-ELIGIBLE"), "{stdout}");
    for name in ["web-01", "web-02", "web-03", "web-04"] {
        assert!(
            stdout.lines().any(|l| l.split(' ').nth(1) == Some(name)),
            "{name} missing from the worker's client.keys: {stdout}"
        );
    }
}

fn signal(process: &NodeProcess, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &process.pid().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name} {}", process.pid());
}

#[test]
fn a_master_cut_off_from_its_quorum_stops_serving_and_refuses_changes() {
    let tempdir = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::new(Path::new(DAEMON), tempdir.path()).unwrap();
    let ports: Vec<u16> = (0..3).map(|_| free_port().unwrap()).collect();
    let mut processes = Vec::new();
    let mut nodes: Vec<(String, PathBuf)> = Vec::new();
    for (name, port) in ELIGIBLE.iter().zip(&ports) {
        let spec = cluster.failover_spec(name, &ports, Some(*port));
        processes.push(cluster.start(&spec, None).unwrap());
        nodes.push((name.to_string(), cluster.home(name)));
    }
    let mut master = None;
    assert!(wait_until(WAIT, || {
        master = serving(&nodes);
        master.is_some()
    }));
    let master = master.unwrap();
    let home = nodes[master].1.clone();
    assert!(register(&home, "before-the-cut").is_some());

    // Freeze both other members: the master hears from no quorum any more.
    let others: Vec<usize> = (0..3).filter(|&i| i != master).collect();
    for &i in &others {
        signal(&processes[i], "STOP");
    }
    let refused = tool(MANAGE, &home, &["-a", "any", "-n", "during-the-cut"]);
    let stderr = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert!(!refused.status.success(), "registered without a quorum");
    assert!(
        stderr.contains("quorum") || stderr.contains("master"),
        "the refusal does not say why: {stderr}"
    );
    assert!(
        wait_until(WAIT, || raft(&home).is_some_and(|r| !r.serving)),
        "the master kept serving without a quorum"
    );
    let log = processes[master].log();
    assert!(log.contains("Stepping down"), "{log}");

    // The quorum comes back: one master again, and registrations work.
    for &i in &others {
        signal(&processes[i], "CONT");
    }
    let mut again = None;
    assert!(wait_until(WAIT, || {
        again = serving(&nodes);
        again.is_some()
    }));
    let home = nodes[again.unwrap()].1.clone();
    assert!(
        wait_until(WAIT, || register(&home, "after-the-cut").is_some()),
        "no registration after the quorum came back"
    );
}

#[test]
fn a_master_upgraded_to_failover_keeps_its_agents() {
    let tempdir = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::new(Path::new(DAEMON), tempdir.path()).unwrap();
    // The single master of yesterday, on the first port, with its agents.
    let mut old = cluster.start_node(ELIGIBLE[0], NodeType::Master).unwrap();
    let home = cluster.home(ELIGIBLE[0]);
    let mut lines = BTreeSet::new();
    for n in 0..5 {
        let name = format!("old-{n}");
        assert!(
            wait_until(WAIT, || register(&home, &name)
                .map(|l| lines.insert(l))
                .is_some()),
            "the single master did not register {name}"
        );
    }
    assert!(old.stop(Duration::from_secs(10)).unwrap());

    // Restarted with failover, the old master first, then two new master-eligible nodes.
    let ports = vec![cluster.port, free_port().unwrap(), free_port().unwrap()];
    let mut processes = Vec::new();
    let mut nodes: Vec<(String, PathBuf)> = Vec::new();
    for (i, (name, port)) in ELIGIBLE.iter().zip(&ports).enumerate() {
        let spec = cluster.failover_spec(name, &ports, Some(*port));
        processes.push(cluster.start(&spec, None).unwrap());
        nodes.push((name.to_string(), cluster.home(name)));
        if i == 0 {
            std::thread::sleep(Duration::from_secs(2));
        }
    }
    let mut master = None;
    assert!(wait_until(WAIT, || {
        master = serving(&nodes);
        master.is_some()
    }));
    if master != Some(0) {
        let moved = tool(
            CONTROL,
            &nodes[master.unwrap()].1,
            &["--transfer-master", ELIGIBLE[0]],
        );
        assert!(moved.status.success(), "{moved:?}");
    }
    for (name, home) in &nodes {
        assert!(
            wait_until(WAIT, || raft(home).is_some_and(|r| r.agents == lines.len())),
            "{name} lacks the imported agents: {:?}",
            raft(home)
        );
        assert!(
            wait_until(WAIT, || {
                let keys = client_keys(home);
                lines.iter().all(|line| keys.lines().any(|l| l == line))
            }),
            "{name}'s client.keys lacks an imported agent: {}",
            client_keys(home)
        );
    }
}
