//! The demo's steps, run in order. Each step is a function over [`Demo`]; to extend the demo
//! (file sync, agents), add a function and list it in [`STEPS`].

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

use super::DemoOptions;
use super::agents;
use super::cluster::{LocalCluster, wait_for_cluster};
use super::node::NodeProcess;
use super::state::{Demo, DemoError, MASTER, WORKERS, elapsed};
use crate::config::NodeType;
use crate::control::tool::{self, ControlCli};

/// Longest wait for the workers to connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest wait for a node to stop after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

type Step = fn(&mut Demo) -> Result<(), DemoError>;

/// The steps, in order.
const STEPS: [(&str, Step); 7] = [
    ("Start the master and two workers", start_nodes),
    ("Wait for the workers to connect", wait_for_workers),
    (
        "Register agents and a group (manage_agents, agent_groups)",
        agents::register_agents,
    ),
    (
        "Wait until both workers hold the master's client.keys and group folder",
        agents::wait_for_files,
    ),
    (
        "Agents report to worker01 (wazuh-agent-sim)",
        agents::simulate_agents,
    ),
    (
        "cluster_control -l, -a, -i and -f on the master and the workers",
        show_cluster,
    ),
    ("Stop every node with SIGTERM", stop_nodes),
];

pub(super) fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> DemoError {
    let what = what.into();
    move |source| DemoError::Io { what, source }
}

/// Runs the demo in a temporary folder (kept with `options.keep`).
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
    println!(
        "Demo cluster in {} (127.0.0.1:{}).",
        folder.path().display(),
        cluster.port
    );
    let mut demo = Demo {
        cluster,
        master: None,
        workers: Vec::new(),
        account: Vec::new(),
        started: Instant::now(),
    };
    let mut outcome = Ok(());
    for (number, (title, step)) in STEPS.iter().enumerate() {
        println!("\n== Step {}: {title}", number + 1);
        if let Err(error) = step(&mut demo) {
            outcome = Err(error);
            break;
        }
    }
    if outcome.is_err() {
        let _ = stop_nodes(&mut demo);
    }
    println!("\n== What happened");
    for line in &demo.account {
        println!("- {line}");
    }
    if options.keep {
        let kept = folder.keep();
        println!(
            "\nKept the demo folder {} (homes, logs/cluster.log, var/db/cluster.db).",
            kept.display()
        );
    } else {
        println!("\nRemoved the demo folder (run with --keep to keep it).");
    }
    outcome
}

fn start_nodes(demo: &mut Demo) -> Result<(), DemoError> {
    let master = demo
        .cluster
        .start_node(MASTER, NodeType::Master)
        .map_err(io_error("starting the master"))?;
    println!(
        "started {MASTER} (master), pid {}, home {}",
        master.pid(),
        master.home.display()
    );
    demo.master = Some(master);
    for name in WORKERS {
        let worker = demo
            .cluster
            .start_node(name, NodeType::Worker)
            .map_err(io_error(format!("starting {name}")))?;
        println!(
            "started {name} (worker), pid {}, home {}",
            worker.pid(),
            worker.home.display()
        );
        demo.workers.push(worker);
    }
    demo.account.push(format!(
        "Three wazuh-clusterd processes started, each with its own home and ossec.conf (same random key, port {}).",
        demo.cluster.port
    ));
    Ok(())
}

fn wait_for_workers(demo: &mut Demo) -> Result<(), DemoError> {
    let expected = [MASTER, WORKERS[0], WORKERS[1]];
    let homes = expected.map(|node| demo.cluster.home(node));
    let homes: Vec<&Path> = homes.iter().map(PathBuf::as_path).collect();
    if !wait_for_cluster(&homes, &expected, CONNECT_TIMEOUT) {
        return Err(DemoError::Timeout(
            format!("the workers did not all connect within {CONNECT_TIMEOUT:?}"),
            demo.cluster.root.clone(),
        ));
    }
    println!("both workers connected");
    demo.account.push(format!(
        "Both workers connected to the master, said hello (Fernet-encrypted) and keep the link alive every second ({} after start).",
        elapsed(demo)
    ));
    Ok(())
}

/// Runs `cluster_control --home <node's home> args` in this process, as an operator would.
pub(super) fn cluster_control(demo: &Demo, node: &str, args: &[&str]) -> Result<(), DemoError> {
    let home = demo.cluster.home(node);
    println!(
        "\n$ cluster_control --home {} {}",
        home.display(),
        args.join(" ")
    );
    let argv = ["cluster_control", "--home"]
        .into_iter()
        .map(OsString::from)
        .chain([home.into_os_string()])
        .chain(args.iter().map(OsString::from));
    let cli = ControlCli::try_parse_from(tool::normalize_args(argv))
        .map_err(|e| DemoError::Failed(format!("cluster_control {}: {e}", args.join(" "))))?;
    if tool::run(cli) == ExitCode::SUCCESS {
        Ok(())
    } else {
        Err(DemoError::Failed(format!(
            "cluster_control {} failed on {node}",
            args.join(" ")
        )))
    }
}

fn show_cluster(demo: &mut Demo) -> Result<(), DemoError> {
    cluster_control(demo, MASTER, &["-l"])?;
    cluster_control(demo, WORKERS[1], &["-a"])?;
    cluster_control(demo, MASTER, &["-a", "-fn", WORKERS[0], "-fs", "active"])?;
    cluster_control(demo, WORKERS[0], &["-i"])?;
    cluster_control(demo, MASTER, &["-f", "-fn", WORKERS[0]])?;
    demo.account.push(
        "cluster_control read the nodes, agents, health and file states through each node's local \
         socket; the workers forwarded the questions to the master, as Wazuh's do."
            .to_owned(),
    );
    Ok(())
}

fn stop_nodes(demo: &mut Demo) -> Result<(), DemoError> {
    let mut processes: Vec<NodeProcess> = demo.workers.drain(..).collect();
    processes.extend(demo.master.take());
    let total = processes.len();
    let mut tidy = 0;
    for mut process in processes {
        let clean = process
            .stop(STOP_TIMEOUT)
            .map_err(io_error(format!("stopping {}", process.name)))?;
        let pid_left = std::fs::read_dir(process.home.join("var/run"))
            .map(|entries| entries.count() > 0)
            .unwrap_or(false);
        println!(
            "{}: {}{}",
            process.name,
            if clean {
                "stopped on SIGTERM"
            } else {
                "did not stop in time; killed"
            },
            if pid_left {
                " (its pid file was left behind)"
            } else {
                ""
            }
        );
        if clean && !pid_left {
            tidy += 1;
        }
    }
    demo.account.push(if tidy == total {
        "Every node stopped on SIGTERM, closed its database and removed its pid file and socket."
            .to_owned()
    } else {
        format!("{tidy} of {total} nodes stopped cleanly on SIGTERM; see above for the others.")
    });
    Ok(())
}
