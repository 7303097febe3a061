//! What a load run measured, printed as tables and optionally written as JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;

use super::finished_lines::LoggedTasks;
use super::histogram::DurationSummary;
use super::process::Usage;
use super::register::Registration;

/// Tasks shown, in this order (`task` label of `wazuh_cluster_task_duration_seconds`).
pub const TASKS: [&str; 5] = [
    "integrity_check",
    "integrity_sync",
    "agent_info",
    "agent_groups",
    "agent_groups_full",
];

/// One phase of the run.
#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    /// `setup`, `stable` or `storm`.
    pub name: &'static str,
    /// Wall time, seconds.
    pub seconds: f64,
    /// Task durations on the master (every worker's tasks together), by task.
    pub master: BTreeMap<String, DurationSummary>,
    /// Task durations on the workers (all of them together), by task.
    pub workers: BTreeMap<String, DurationSummary>,
    /// The master's `Finished in` lines of the phase, by task (exact largest durations).
    pub master_logged: LoggedTasks,
    /// The workers' `Finished in` lines of the phase, by task.
    pub workers_logged: LoggedTasks,
    /// The master process.
    pub master_usage: Usage,
    /// The worker processes.
    pub worker_usage: Usage,
    /// Workers the master logged as disconnected during the phase.
    pub disconnects: usize,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Workers started.
    pub workers: usize,
    /// Agents registered and played.
    pub agents: usize,
    /// Files of the synchronized tree.
    pub files: usize,
    /// Seconds between two keepalives of an agent.
    pub keepalive_seconds: f64,
    /// Files changed per second in the storm.
    pub change_rate: f64,
    /// Writing the tree on the master, seconds.
    pub tree_seconds: f64,
    /// Writing the seeded agents into the master's database, seconds.
    pub seed_seconds: f64,
    /// From starting the nodes to every worker connected, seconds.
    pub cluster_up_seconds: f64,
    /// The registrations.
    pub registration: Registration,
    /// From the last registration to every worker holding the master's `client.keys`, seconds.
    pub keys_synced_seconds: f64,
    /// From starting the simulators to the master seeing every agent active, seconds (`None`:
    /// not within the setup timeout).
    pub agents_seen_seconds: Option<f64>,
    /// Setup, stable, storm.
    pub phases: Vec<Phase>,
    /// Files changed during the storm.
    pub files_changed: u64,
    /// From the end of the storm to every worker holding the master's tree, seconds (`None`:
    /// not within the setup timeout).
    pub converged_seconds: Option<f64>,
    /// Workers synchronized at the end (gauge at 1 and the same files as the master).
    pub workers_synchronized: usize,
    /// Agents the master sees active at the end.
    pub agents_seen: usize,
    /// Simulators still running at the end (one per worker).
    pub simulators_running: usize,
    /// Workers the master logged as disconnected over the run (before the rig stopped them).
    pub disconnects: usize,
    /// `ERROR` lines in every node's `cluster.log` during the run (until the rig stops the
    /// nodes).
    pub error_lines: usize,
    /// The first few of them, prefixed with the node's name.
    pub first_errors: Vec<String>,
    /// `ERROR` lines written while the nodes stop on SIGTERM (shown, not counted as a problem
    /// of the run).
    pub stop_error_lines: usize,
    /// The first few of them.
    pub first_stop_errors: Vec<String>,
    /// The folder kept with `--keep`.
    pub kept: Option<PathBuf>,
}

impl Report {
    /// Whether the run is clean: no disconnect, no ERROR line, every worker synchronized,
    /// every agent seen, every simulator still running.
    pub fn clean(&self) -> bool {
        self.problems().is_empty()
    }

    /// What makes the run not clean, one sentence each.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(failure) = &self.registration.failure {
            problems.push(format!("a registration failed: {failure}"));
        }
        if self.disconnects > 0 {
            problems.push(format!("{} worker disconnection(s)", self.disconnects));
        }
        if self.error_lines > 0 {
            problems.push(format!("{} ERROR line(s) in cluster.log", self.error_lines));
        }
        if self.workers_synchronized < self.workers {
            problems.push(format!(
                "{} of {} workers synchronized",
                self.workers_synchronized, self.workers
            ));
        }
        if self.agents_seen < self.agents {
            problems.push(format!(
                "the master sees {} of {} agents active",
                self.agents_seen, self.agents
            ));
        }
        if self.simulators_running < self.workers {
            problems.push(format!(
                "{} of {} agent simulators still running",
                self.simulators_running, self.workers
            ));
        }
        problems
    }

    /// The report as text tables.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let r = &self.registration;
        let _ = writeln!(
            out,
            "\nload test: {} workers, {} agents (keepalive every {} s), {} files ({} changed/s in \
             the storm)",
            self.workers, self.agents, self.keepalive_seconds, self.files, self.change_rate
        );
        let _ = writeln!(
            out,
            "setup: tree written in {:.1} s; {} agents seeded in {:.1} s; workers connected {:.1} \
             s after start; {} agents registered through the control socket in {:.1} s ({:.0}/s; first tenth {:.0}/s, last tenth {:.0}/s, {} in \
             flight); client.keys on every worker {:.1} s later; every agent seen active {} after \
             the simulators started",
            self.tree_seconds,
            r.seeded,
            self.seed_seconds,
            self.cluster_up_seconds,
            r.agents,
            r.seconds,
            r.per_second,
            r.per_second_first_tenth,
            r.per_second_last_tenth,
            r.burst,
            self.keys_synced_seconds,
            self.agents_seen_seconds
                .map_or("not within the timeout".to_owned(), |s| format!("{s:.1} s"))
        );
        for phase in &self.phases {
            let _ = writeln!(
                out,
                "\nphase {} ({:.0} s, {} disconnection(s))",
                phase.name, phase.seconds, phase.disconnects
            );
            let _ = writeln!(
                out,
                "  {:<8} {:<18} {:>6} {:>9} {:>9} {:>9} {:>9} {:>6}",
                "node", "task", "count", "mean s", "p99<= s", "max<= s", "max s", "lines"
            );
            for (node, tasks, logged) in [
                ("master", &phase.master, &phase.master_logged),
                ("workers", &phase.workers, &phase.workers_logged),
            ] {
                for task in TASKS {
                    if let Some(d) = tasks.get(task) {
                        let logged = logged.get(task).copied().unwrap_or_default();
                        let _ = writeln!(
                            out,
                            "  {node:<8} {task:<18} {:>6} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>6}",
                            d.count, d.mean, d.p99, d.max, logged.max, logged.count
                        );
                    }
                }
            }
            for (node, usage) in [
                ("master", &phase.master_usage),
                ("workers", &phase.worker_usage),
            ] {
                let _ = writeln!(
                    out,
                    "  {node:<8} RSS mean {:.0} MB, max {:.0} MB (anonymous mean {:.0} MB, max {:.0} \
                     MB; file-backed mean {:.0} MB); CPU {:.2} s/min (busiest {:.2})",
                    usage.rss_mean_mb,
                    usage.rss_max_mb,
                    usage.rss_anon_mean_mb,
                    usage.rss_anon_max_mb,
                    usage.rss_file_mean_mb,
                    usage.cpu_seconds_per_minute,
                    usage.cpu_seconds_per_minute_max
                );
            }
        }
        let _ = writeln!(
            out,
            "\nend: {} files changed; workers holding the master's tree {}; {} of {} workers \
             synchronized; {} of {} agents active on the master; {} of {} simulators running; {} \
             disconnection(s); {} ERROR line(s)",
            self.files_changed,
            self.converged_seconds
                .map_or("not within the timeout".to_owned(), |s| format!(
                    "{s:.1} s after the storm"
                )),
            self.workers_synchronized,
            self.workers,
            self.agents_seen,
            self.agents,
            self.simulators_running,
            self.workers,
            self.disconnects,
            self.error_lines
        );
        for line in &self.first_errors {
            let _ = writeln!(out, "  {line}");
        }
        if self.stop_error_lines > 0 {
            let _ = writeln!(
                out,
                "{} ERROR line(s) while the nodes stopped on SIGTERM:",
                self.stop_error_lines
            );
            for line in &self.first_stop_errors {
                let _ = writeln!(out, "  {line}");
            }
        }
        if let Some(root) = &self.kept {
            let _ = writeln!(out, "homes, logs and databases kept in {}", root.display());
        }
        out
    }
}
