//! The demo's steps, run in order. Each step is a function over [`Demo`]; to extend the demo
//! (file sync, agents), add a function and list it in [`STEPS`].

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;
use thiserror::Error;
use wazuh_cluster_proto::command::names;

use super::DemoOptions;
use super::cluster::{LocalCluster, query, wait_for_nodes};
use super::node::NodeProcess;
use crate::config::NodeType;
use crate::control::client::ClientError;
use crate::control::views;

/// Names of the demo's nodes.
const MASTER: &str = "master01";
const WORKERS: [&str; 2] = ["worker01", "worker02"];
/// Longest wait for the workers to connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest wait for a node to stop after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the demo stopped.
#[derive(Debug, Error)]
pub enum DemoError {
    /// A file or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The failure.
        source: std::io::Error,
    },
    /// Asking a node failed.
    #[error("asking {node} failed: {source}")]
    Control {
        /// The node asked.
        node: String,
        /// The failure.
        source: Box<ClientError>,
    },
    /// Something did not happen in time.
    #[error("{0}; the nodes' logs are in {1}")]
    Timeout(String, PathBuf),
}

/// The demo's state, passed from step to step.
pub struct Demo {
    /// The cluster's settings and folder.
    pub cluster: LocalCluster,
    /// The master's process once started.
    pub master: Option<NodeProcess>,
    /// The workers' processes once started.
    pub workers: Vec<NodeProcess>,
    /// What happened, printed at the end.
    pub account: Vec<String>,
    started: Instant,
}

type Step = fn(&mut Demo) -> Result<(), DemoError>;

/// The steps, in order.
const STEPS: [(&str, Step); 4] = [
    ("Start the master and two workers", start_nodes),
    ("Wait for the workers to connect", wait_for_workers),
    (
        "cluster_control -l and -i on the master and on a worker",
        show_cluster,
    ),
    ("Stop every node with SIGTERM", stop_nodes),
];

fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> DemoError {
    let what = what.into();
    move |source| DemoError::Io { what, source }
}

/// Runs the demo in a temporary folder (kept with `options.keep`).
pub fn run(options: &DemoOptions) -> Result<(), DemoError> {
    let folder = tempfile::Builder::new()
        .prefix("wazuh-cluster-demo-")
        .tempdir()
        .map_err(io_error("creating the demo folder"))?;
    let cluster = LocalCluster::new(&options.binary, folder.path())
        .map_err(io_error("choosing a key and a port"))?;
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

fn elapsed(demo: &Demo) -> String {
    format!("{:.1}s", demo.started.elapsed().as_secs_f64())
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
    if !wait_for_nodes(&demo.cluster.home(MASTER), &expected, CONNECT_TIMEOUT) {
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

fn ask(
    demo: &Demo,
    node: &str,
    command: wazuh_cluster_proto::Command,
    payload: &str,
) -> Result<Value, DemoError> {
    query(&demo.cluster.home(node), command, payload).map_err(|source| DemoError::Control {
        node: node.to_owned(),
        source,
    })
}

fn show_cluster(demo: &mut Demo) -> Result<(), DemoError> {
    for node in [MASTER, WORKERS[0]] {
        let nodes = ask(demo, node, names::GET_NODES, "{}")?;
        println!(
            "\n$ cluster_control --home {} -l",
            demo.cluster.home(node).display()
        );
        println!("{}", views::nodes_table(&nodes));
    }
    let health = ask(demo, WORKERS[1], names::GET_HEALTH, "null")?;
    println!(
        "\n$ cluster_control --home {} -i",
        demo.cluster.home(WORKERS[1]).display()
    );
    print!("{}", views::health_summary("demo", &health));
    demo.account.push(
        "cluster_control read the node list and the health through each node's local socket; the workers \
         forwarded the question to the master, as Wazuh's do."
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
