//! One load run: the nodes, the registrations, the simulators, the tree, and the phases
//! (setup, stable, change storm) measured from the daemons' metrics, `/proc` and their logs.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use thiserror::Error;
use wazuh_cluster_core::agents::client_keys::CLIENT_KEYS_PATH;

use super::finished_lines::{self, LoggedTasks};
use super::histogram::{self, TaskHistograms};
use super::nodes::{self, MASTER, RigNode, worker_name};
use super::options::Settings;
use super::process::Sampler;
use super::register::{self, Registration};
use super::report::{Phase, Report};
use super::seed;
use super::tree::Tree;
use crate::config::NodeType;
use crate::demo::{LocalCluster, digests, wait_until};
use crate::net::MAX_PRE_HELLO_PER_IP;

/// Why a run stopped before its report.
#[derive(Debug, Error)]
pub enum RigError {
    /// A file or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The failure.
        source: std::io::Error,
    },
    /// A setup step did not finish in time or failed.
    #[error("{0}; the nodes' homes and logs are in {1}")]
    Setup(String, PathBuf),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> RigError {
    let what = what.into();
    move |source| RigError::Io { what, source }
}

/// Names of the metrics read.
const CONNECTED_WORKERS: &str = crate::metrics::names::CONNECTED_WORKERS;
const SYNCHRONIZED: &str = crate::metrics::names::SYNCHRONIZED;
const AGENTS: &str = crate::metrics::names::AGENTS;
/// How the master logs a worker it lost.
const DISCONNECTED: &str = "disconnected.";
/// What the master logs once its cluster port accepts workers.
const MASTER_LISTENING: &str = "[Master] [Main] Listening on";
/// How a log line of level ERROR reads.
const ERROR_LEVEL: &str = " ERROR: [";
/// The paths the workers must hold like the master.
const SYNCED: [&str; 2] = [CLIENT_KEYS_PATH, "etc/shared"];

/// The running rig.
struct Rig {
    settings: Settings,
    root: PathBuf,
    master: RigNode,
    workers: Vec<RigNode>,
    simulators: Vec<Child>,
}

impl Rig {
    fn setup_error(&self, what: String) -> RigError {
        RigError::Setup(what, self.root.clone())
    }

    fn master_scrape(&self) -> String {
        self.master.scrape().unwrap_or_default()
    }

    /// Task histograms of the master and of every worker together, and each node's log
    /// length (master first) taken just before its scrape, so that a run finishing meanwhile
    /// falls on the same side of the mark in both.
    fn histograms(&self) -> (TaskHistograms, TaskHistograms, Vec<usize>) {
        let mut lengths = Vec::with_capacity(self.workers.len() + 1);
        let mut scrape = |node: &RigNode| {
            lengths.push(node.log_length());
            histogram::parse(&node.scrape().unwrap_or_default())
        };
        let master = scrape(&self.master);
        let workers: Vec<TaskHistograms> = self.workers.iter().map(&mut scrape).collect();
        (master, histogram::merge_all(&workers), lengths)
    }

    fn active_agents(&self) -> usize {
        nodes::sum_with_label(&self.master_scrape(), AGENTS, "status=\"active\"") as usize
    }

    /// The duration lines each node logged between the log lengths `from` and `to` (master
    /// first), for the master and for every worker together.
    fn logged_between(&self, from: &[usize], to: &[usize]) -> (LoggedTasks, LoggedTasks) {
        let (mut master, mut workers) = (None, LoggedTasks::new());
        let nodes = std::iter::once(&self.master).chain(&self.workers);
        for (n, node) in nodes.enumerate() {
            let log = node.process.log();
            let (from, to) = (
                from.get(n).copied().unwrap_or(0),
                to.get(n).copied().unwrap_or(0),
            );
            let logged = finished_lines::durations(finished_lines::lines_between(&log, from, to));
            match master {
                None => master = Some(logged),
                Some(_) => finished_lines::merge(&mut workers, logged),
            }
        }
        (master.unwrap_or_default(), workers)
    }

    fn disconnects(&self) -> usize {
        self.master
            .process
            .log()
            .lines()
            .filter(|l| l.contains("The worker ") && l.ends_with(DISCONNECTED))
            .count()
    }

    /// Waits up to the setup timeout for `condition`, or fails naming `what`.
    fn wait(&self, what: &str, condition: impl FnMut() -> bool) -> Result<f64, RigError> {
        let start = Instant::now();
        if wait_until(self.settings.setup_timeout, condition) {
            Ok(start.elapsed().as_secs_f64())
        } else {
            Err(self.setup_error(format!("{what} within {:?}", self.settings.setup_timeout)))
        }
    }

    /// Waits until every worker holds the master's files under `paths`.
    fn wait_for_files(&self, paths: &[&str], what: &str) -> Result<f64, RigError> {
        let start = Instant::now();
        let want = digests(self.master.home(), paths);
        for worker in &self.workers {
            let left = self.settings.setup_timeout.saturating_sub(start.elapsed());
            if !wait_until(left, || digests(worker.home(), paths) == want) {
                return Err(self.setup_error(format!(
                    "{} did not get the master's {what} within {:?}",
                    worker.process.name, self.settings.setup_timeout
                )));
            }
        }
        Ok(start.elapsed().as_secs_f64())
    }

    /// Starts one `wazuh-agent-sim` per worker playing its share of `ids` (agent `i` on worker
    /// `i mod N`), output in `root/sim-<worker>.log`.
    fn start_simulators(&mut self, ids: &[String]) -> Result<(), RigError> {
        let count = self.workers.len();
        for (n, worker) in self.workers.iter().enumerate() {
            let share: Vec<&str> = ids
                .iter()
                .skip(n)
                .step_by(count)
                .map(String::as_str)
                .collect();
            if share.is_empty() {
                continue;
            }
            let log_path = self.root.join(format!("sim-{}.log", worker.process.name));
            let log = File::create(&log_path)
                .map_err(io(format!("cannot create {}", log_path.display())))?;
            let err = log
                .try_clone()
                .map_err(io("cannot share the simulator log"))?;
            let child = Command::new(&self.settings.agent_sim)
                .arg("--home")
                .arg(worker.home())
                .arg("--ids")
                .arg(share.join(","))
                .arg("--interval")
                .arg(self.settings.keepalive.as_secs_f64().to_string())
                .stdin(Stdio::null())
                .stdout(log)
                .stderr(err)
                .spawn()
                .map_err(io(format!(
                    "cannot start {}",
                    self.settings.agent_sim.display()
                )))?;
            self.simulators.push(child);
        }
        Ok(())
    }

    fn simulators_running(&mut self) -> usize {
        self.simulators
            .iter_mut()
            .map(|c| matches!(c.try_wait(), Ok(None)))
            .filter(|running| *running)
            .count()
    }

    /// Workers whose gauge says synchronized and whose files are the master's.
    fn synchronized_workers(&self) -> usize {
        let want = digests(self.master.home(), &SYNCED);
        self.workers
            .iter()
            .filter(|w| {
                w.scrape()
                    .and_then(|s| nodes::gauge(&s, SYNCHRONIZED))
                    .is_some_and(|v| v == 1.0)
                    && digests(w.home(), &SYNCED) == want
            })
            .count()
    }

    /// Stops the simulators, the workers, then the master. Answers the ERROR lines of every
    /// log written during the run and those written while stopping (`(count, first ten)`
    /// each).
    fn stop(&mut self) -> ((usize, Vec<String>), (usize, Vec<String>)) {
        let lengths: Vec<usize> = std::iter::once(&self.master)
            .chain(&self.workers)
            .map(|node| node.process.log().len())
            .collect();
        for child in &mut self.simulators {
            let _ = child.kill();
            let _ = child.wait();
        }
        for node in self.workers.iter_mut().chain([&mut self.master]) {
            let _ = node.process.stop(Duration::from_secs(15));
        }
        let (mut run, mut stopping) = ((0, Vec::new()), (0, Vec::new()));
        for (node, length) in std::iter::once(&self.master)
            .chain(&self.workers)
            .zip(lengths)
        {
            let log = node.process.log();
            let (before, after) = log.split_at(length.min(log.len()));
            for (text, errors) in [(before, &mut run), (after, &mut stopping)] {
                for line in text.lines().filter(|l| l.contains(ERROR_LEVEL)) {
                    errors.0 += 1;
                    if errors.1.len() < 10 {
                        errors.1.push(format!("{}: {line}", node.process.name));
                    }
                }
            }
        }
        (run, stopping)
    }
}

/// Durations of a phase: what the histograms gained since `before`.
fn summaries(
    after: &TaskHistograms,
    before: &TaskHistograms,
) -> BTreeMap<String, histogram::DurationSummary> {
    histogram::since(after, before)
        .into_iter()
        .filter_map(|(task, h)| h.summary().map(|s| (task, s)))
        .collect()
}

/// Runs the whole load test under `root` and returns its report.
pub fn run(settings: Settings, root: &Path) -> Result<Report, RigError> {
    let mut cluster =
        LocalCluster::new(&settings.binary, root).map_err(io("cannot prepare the cluster"))?;
    cluster.intervals = settings.intervals();
    println!(
        "starting 1 master and {} workers under {} ({} files in etc/shared)",
        settings.workers,
        root.display(),
        settings.files
    );
    let tree_start = Instant::now();
    let mut tree = None;
    let seeded_count = settings.agents - settings.register;
    let mut seeded = Vec::new();
    let mut seed_seconds = 0.0;
    let master = nodes::start(&cluster, MASTER, NodeType::Master, |home| {
        let made = Tree::new(home, settings.files);
        made.create()?;
        tree = Some(made);
        let seed_start = Instant::now();
        seeded = seed::seed(home, seeded_count)?;
        seed_seconds = seed_start.elapsed().as_secs_f64();
        Ok(())
    })
    .map_err(io("cannot start the master"))?;
    let mut tree = tree.expect("the master's home was prepared");
    let tree_seconds = tree_start.elapsed().as_secs_f64() - seed_seconds;
    println!(
        "tree written in {tree_seconds:.1} s, {seeded_count} agents seeded in {seed_seconds:.1} s"
    );
    // Workers started before the master listens are refused (an ERROR line each) and retry
    // only after `connection_retry`.
    if !wait_until(settings.setup_timeout, || master.logged(MASTER_LISTENING)) {
        return Err(RigError::Setup(
            format!(
                "the master did not listen within {:?}",
                settings.setup_timeout
            ),
            root.to_path_buf(),
        ));
    }
    let started = Instant::now();
    let mut workers = Vec::with_capacity(settings.workers);
    // Every worker connects from 127.0.0.1, where the master lets only a few connections wait
    // for their hello: started all at once, most are closed and retry after
    // `connection_retry`. They start in batches of that size, each batch once the previous one
    // is connected.
    for n in 1..=settings.workers {
        let name = worker_name(n);
        workers.push(
            nodes::start(&cluster, &name, NodeType::Worker, |_| Ok(()))
                .map_err(io(format!("cannot start {name}")))?,
        );
        if n % MAX_PRE_HELLO_PER_IP == 0 || n == settings.workers {
            let connected = || {
                nodes::gauge(&master.scrape().unwrap_or_default(), CONNECTED_WORKERS)
                    .is_some_and(|count| count as usize >= n)
            };
            if !wait_until(settings.setup_timeout, connected) {
                return Err(RigError::Setup(
                    format!(
                        "the master did not have {n} workers connected within {:?}",
                        settings.setup_timeout
                    ),
                    root.to_path_buf(),
                ));
            }
        }
    }
    let pids: Vec<u32> = std::iter::once(&master)
        .chain(&workers)
        .map(|n| n.process.pid())
        .collect();
    let groups = [vec![0], (1..pids.len()).collect::<Vec<_>>()];
    let mut sampler = Sampler::start(pids);
    let mut rig = Rig {
        settings,
        root: root.to_path_buf(),
        master,
        workers,
        simulators: Vec::new(),
    };
    let outcome = measure(
        &mut rig,
        &mut sampler,
        &mut tree,
        (tree_seconds, seed_seconds, seeded),
        started,
    );
    let usage = sampler.finish(&groups);
    let simulators_running = rig.simulators_running();
    let ((error_lines, first_errors), (stop_error_lines, first_stop_errors)) = rig.stop();
    let mut report = outcome?;
    for (phase, usage) in report.phases.iter_mut().zip(usage) {
        phase.master_usage = usage[0];
        phase.worker_usage = usage[1];
    }
    report.simulators_running = report.simulators_running.min(simulators_running);
    report.error_lines = error_lines;
    report.first_errors = first_errors;
    report.stop_error_lines = stop_error_lines;
    report.first_stop_errors = first_stop_errors;
    Ok(report)
}

/// The phases, from a started rig.
fn measure(
    rig: &mut Rig,
    sampler: &mut Sampler,
    tree: &mut Tree,
    (tree_seconds, seed_seconds, mut ids): (f64, f64, Vec<String>),
    started: Instant,
) -> Result<Report, RigError> {
    let workers = rig.settings.workers;
    rig.wait(
        &format!("the {workers} workers did not all connect"),
        || {
            nodes::gauge(&rig.master_scrape(), CONNECTED_WORKERS)
                .is_some_and(|n| n as usize == workers)
        },
    )?;
    let cluster_up_seconds = started.elapsed().as_secs_f64();
    println!(
        "{workers} workers connected after {cluster_up_seconds:.1} s; registering {} agents",
        rig.settings.register
    );
    let registration: Registration = register::register(
        rig.master.home(),
        ids.len(),
        rig.settings.register,
        rig.settings.burst,
    )
    .map_err(|e| rig.setup_error(format!("registering the agents failed: {e}")))?;
    ids.extend(registration.ids.iter().cloned());
    let keys_synced_seconds = rig.wait_for_files(&[CLIENT_KEYS_PATH], "client.keys")?;
    println!(
        "client.keys on every worker {keys_synced_seconds:.1} s after the last registration; starting the simulators"
    );
    rig.start_simulators(&ids)?;
    let agents = ids.len();
    // Not seeing every agent is a finding of the run, not a reason to stop it.
    let agents_seen_seconds = rig
        .wait(
            &format!("the master did not see the {agents} agents active"),
            || rig.active_agents() >= agents,
        )
        .ok();
    match agents_seen_seconds {
        Some(seconds) => println!("every agent active on the master after {seconds:.1} s"),
        None => println!(
            "the master sees {} of {agents} agents active after {:?}; going on",
            rig.active_agents(),
            rig.settings.setup_timeout
        ),
    }
    let mut phases = Vec::new();
    let mut marks = vec![(
        TaskHistograms::new(),
        TaskHistograms::new(),
        0usize,
        started,
        Vec::new(),
    )];
    let mut end_phase = |rig: &Rig, name: &'static str, sampler: &mut Sampler| {
        let (master, workers, logs) = rig.histograms();
        let disconnects = rig.disconnects();
        let (m0, w0, d0, t0, logs0) = marks.last().expect("a first mark");
        let (master_logged, workers_logged) = rig.logged_between(logs0, &logs);
        phases.push(Phase {
            name,
            seconds: t0.elapsed().as_secs_f64(),
            master: summaries(&master, m0),
            workers: summaries(&workers, w0),
            master_logged,
            workers_logged,
            master_usage: Default::default(),
            worker_usage: Default::default(),
            disconnects: disconnects - d0,
        });
        marks.push((master, workers, disconnects, Instant::now(), logs));
        sampler.begin_phase();
    };
    end_phase(rig, "setup", sampler);
    println!("stable phase: {:.0} s", rig.settings.stable.as_secs_f64());
    std::thread::sleep(rig.settings.stable);
    end_phase(rig, "stable", sampler);
    println!(
        "change storm: {:.0} s, {} files changed per second",
        rig.settings.storm.as_secs_f64(),
        rig.settings.change_rate
    );
    let storm_start = Instant::now();
    while storm_start.elapsed() < rig.settings.storm {
        let due = (storm_start.elapsed().as_secs_f64() * rig.settings.change_rate) as u64;
        let behind = due.saturating_sub(tree.changes()) as usize;
        tree.change(behind)
            .map_err(io("cannot change the master's files"))?;
        std::thread::sleep(Duration::from_millis(100));
    }
    let storm_end = Instant::now();
    let converged_seconds = rig
        .wait_for_files(&["etc/shared"], "tree after the storm")
        .ok()
        .map(|_| storm_end.elapsed().as_secs_f64());
    end_phase(rig, "storm", sampler);
    let agents_seen = rig.active_agents();
    let workers_synchronized = rig.synchronized_workers();
    let simulators_running = rig.simulators_running();
    let disconnects = rig.disconnects();
    Ok(Report {
        workers,
        agents,
        files: rig.settings.files,
        keepalive_seconds: rig.settings.keepalive.as_secs_f64(),
        change_rate: rig.settings.change_rate,
        tree_seconds,
        seed_seconds,
        cluster_up_seconds,
        registration,
        keys_synced_seconds,
        agents_seen_seconds,
        phases,
        files_changed: tree.changes(),
        converged_seconds,
        workers_synchronized,
        agents_seen,
        simulators_running,
        disconnects,
        error_lines: 0,
        first_errors: Vec::new(),
        stop_error_lines: 0,
        first_stop_errors: Vec::new(),
        kept: rig.settings.keep.then(|| rig.root.clone()),
    })
}
