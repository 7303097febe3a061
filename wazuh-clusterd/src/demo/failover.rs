//! `wazuh-clusterd demo --failover`: three master-eligible nodes (`<failover>yes</failover>`,
//! one port each) and a worker on 127.0.0.1. A master is elected; agents register; the master
//! is killed with SIGKILL; another is elected within seconds; one more agent registers through
//! it; every agent ends up in the worker's `client.keys`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::DemoOptions;
use super::agents::manage_agents;
use super::cluster::{LocalCluster, free_port, query, wait_for_nodes, wait_until};
use super::node::NodeProcess;
use super::state::{Demo, DemoError, elapsed};
use super::steps::{cluster_control, io_error};
use crate::control::protocol::raft::{GET_RAFT, RaftReply};

/// The master-eligible nodes.
const ELIGIBLE: [&str; 3] = ["master01", "master02", "master03"];
/// The worker.
const WORKER: &str = "worker01";
/// Agents registered before the kill.
const BEFORE: [&str; 3] = ["web-01", "web-02", "web-03"];
/// Longest wait for an election, the nodes to join or the files to reach the worker.
const WAIT: Duration = Duration::from_secs(40);

/// The node among `ELIGIBLE` (index) that serves as master, once exactly one does.
fn serving(cluster: &LocalCluster, among: &[usize]) -> Option<usize> {
    let serving: Vec<usize> = among
        .iter()
        .copied()
        .filter(|&i| {
            query(&cluster.home(ELIGIBLE[i]), GET_RAFT, "null")
                .ok()
                .and_then(|reply: Value| serde_json::from_value::<RaftReply>(reply).ok())
                .is_some_and(|raft| raft.serving)
        })
        .collect();
    (serving.len() == 1).then(|| serving[0])
}

fn timeout(demo: &Demo, what: &str) -> DemoError {
    DemoError::Timeout(what.to_owned(), demo.cluster.root.clone())
}

fn wait_for_master(demo: &Demo, among: &[usize]) -> Result<usize, DemoError> {
    let mut master = None;
    if wait_until(WAIT, || {
        master = serving(&demo.cluster, among);
        master.is_some()
    }) {
        Ok(master.expect("found"))
    } else {
        Err(timeout(demo, "no master was elected in time"))
    }
}

fn client_keys(home: &Path) -> String {
    std::fs::read_to_string(home.join("etc/client.keys")).unwrap_or_default()
}

/// Runs the failover demo in a temporary folder (kept with `options.keep`).
pub fn run(options: &DemoOptions) -> Result<(), DemoError> {
    let folder = tempfile::Builder::new()
        .prefix("wazuh-cluster-demo-")
        .tempdir()
        .map_err(io_error("creating the demo folder"))?;
    let mut cluster = LocalCluster::new(&options.binary, folder.path())
        .map_err(io_error("choosing a key and a port"))?;
    if options.tls {
        cluster = cluster.with_tls();
    }
    let ports = ELIGIBLE
        .iter()
        .map(|_| free_port())
        .collect::<Result<Vec<u16>, _>>()
        .map_err(io_error("choosing ports"))?;
    println!(
        "Failover demo cluster in {}: master-eligible nodes on 127.0.0.1:{}.",
        folder.path().display(),
        ports
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut demo = Demo {
        cluster,
        master: None,
        workers: Vec::new(),
        account: Vec::new(),
        started: Instant::now(),
    };
    let outcome = steps(&mut demo, &ports);
    for mut process in demo.workers.drain(..).chain(demo.master.take()) {
        let _ = process.stop(Duration::from_secs(10));
    }
    println!("\n== What happened");
    for line in &demo.account {
        println!("- {line}");
    }
    if options.keep {
        let kept = folder.keep();
        println!("\nKept the demo folder {}.", kept.display());
    }
    outcome
}

fn steps(demo: &mut Demo, ports: &[u16]) -> Result<(), DemoError> {
    println!("\n== Step 1: Start three master-eligible nodes and a worker");
    let mut processes: Vec<Option<NodeProcess>> = Vec::new();
    for (name, port) in ELIGIBLE.iter().zip(ports) {
        let spec = demo.cluster.failover_spec(name, ports, Some(*port));
        let process = demo
            .cluster
            .start(&spec, None)
            .map_err(io_error(format!("starting {name}")))?;
        println!(
            "started {name} (master-eligible, port {port}), pid {}",
            process.pid()
        );
        processes.push(Some(process));
    }
    let spec = demo.cluster.failover_spec(WORKER, ports, None);
    let worker = demo
        .cluster
        .start(&spec, None)
        .map_err(io_error(format!("starting {WORKER}")))?;
    println!("started {WORKER} (worker), pid {}", worker.pid());
    let worker_home: PathBuf = worker.home.clone();
    demo.workers.push(worker);

    println!("\n== Step 2: Elect a master");
    let all = [0, 1, 2];
    let first = wait_for_master(demo, &all)?;
    let names: Vec<&str> = ELIGIBLE.iter().copied().chain([WORKER]).collect();
    if !wait_for_nodes(&demo.cluster.home(ELIGIBLE[first]), &names, WAIT) {
        return Err(timeout(demo, "the nodes did not all join the master"));
    }
    demo.account.push(format!(
        "{} was elected master and every other node joined it ({} after start).",
        ELIGIBLE[first],
        elapsed(demo)
    ));
    cluster_control(demo, ELIGIBLE[first], &["-l"])?;

    println!("\n== Step 3: Register agents through the worker");
    for name in BEFORE {
        manage_agents(&worker_home, &["-a", "any", "-n", name])?;
    }

    println!("\n== Step 4: Kill the master with SIGKILL");
    let killed = Instant::now();
    if let Some(mut master) = processes[first].take() {
        master
            .kill()
            .map_err(io_error(format!("killing {}", ELIGIBLE[first])))?;
    }
    println!("killed {}", ELIGIBLE[first]);
    let survivors: Vec<usize> = all.into_iter().filter(|&i| i != first).collect();
    let second = wait_for_master(demo, &survivors)?;
    let took = killed.elapsed().as_secs_f64();
    println!(
        "{} serves as master {took:.1}s after the kill",
        ELIGIBLE[second]
    );
    demo.account.push(format!(
        "{} was killed with SIGKILL; {} was elected and served as master {took:.1}s later.",
        ELIGIBLE[first], ELIGIBLE[second]
    ));
    cluster_control(demo, ELIGIBLE[second], &["-i"])?;

    println!("\n== Step 5: Register one more agent through the new master");
    let new_master = demo.cluster.home(ELIGIBLE[second]);
    if !wait_until(WAIT, || {
        manage_agents(&new_master, &["-a", "any", "-n", "web-04"]).is_ok()
    }) {
        return Err(timeout(demo, "the new master did not register web-04"));
    }

    println!("\n== Step 6: Every agent reaches the worker's client.keys");
    let all_agents = || {
        let keys = client_keys(&worker_home);
        BEFORE
            .iter()
            .chain(&["web-04"])
            .all(|name| keys.lines().any(|l| l.split(' ').nth(1) == Some(name)))
    };
    if !wait_until(WAIT, all_agents) {
        return Err(timeout(demo, "the worker's client.keys lacks an agent"));
    }
    print!("{}", client_keys(&worker_home));
    demo.account.push(format!(
        "The worker's client.keys holds the {} agents registered before the kill and the one \
         registered through the new master ({} after start).",
        BEFORE.len(),
        elapsed(demo)
    ));
    for process in processes.into_iter().flatten() {
        demo.workers.push(process);
    }
    Ok(())
}
