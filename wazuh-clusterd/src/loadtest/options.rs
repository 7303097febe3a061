//! The command line of `wazuh-clusterd loadtest` and the settings it resolves to.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

/// `wazuh-clusterd loadtest [--quick] [--workers N] [--agents A] [--files F] [--minutes M] ...`
#[derive(Debug, Clone, Args)]
pub struct LoadtestArgs {
    /// CI size: 3 workers, 2,000 agents, 500 files, 20 s of phases, short timers; exits 1 on
    /// any disconnect, ERROR line, unsynchronized worker or unseen agent.
    #[arg(long)]
    pub quick: bool,
    /// Worker processes [default: 25; --quick 3].
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// Agents registered on the master and played on the workers [default: 50000; --quick 2000].
    #[arg(long, value_name = "A")]
    pub agents: Option<usize>,
    /// Files of the synchronized tree under etc/shared [default: 10000; --quick 500].
    #[arg(long, value_name = "F")]
    pub files: Option<usize>,
    /// Length of the stable and change-storm phases together, in minutes (half each)
    /// [default: 10; --quick 1/3].
    #[arg(long, value_name = "M")]
    pub minutes: Option<f64>,
    /// Files changed per second during the change storm [default: 1 % of the files every 10 s;
    /// --quick every second].
    #[arg(long, value_name = "N")]
    pub change_rate: Option<f64>,
    /// Seconds between two keepalives of an agent [default: 10, Wazuh's notify_time; --quick 2].
    #[arg(long, value_name = "S")]
    pub keepalive: Option<f64>,
    /// Agents registered through the master's control socket; the others are written into its
    /// database and client.keys before it starts [default: 20; --quick 40]. Each registration
    /// costs time in the number of agents (several seconds at 50,000).
    #[arg(long, value_name = "R")]
    pub register: Option<usize>,
    /// Registrations in flight at a time (each waits at most 30 s for its answer).
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub burst: usize,
    /// Longest wait for the cluster to form, the agents to be registered, synchronized and seen,
    /// in seconds [default: 900; --quick 40].
    #[arg(long, value_name = "S")]
    pub setup_timeout: Option<f64>,
    /// The wazuh-agent-sim binary [default: next to this program].
    #[arg(long, value_name = "FILE")]
    pub agent_sim: Option<PathBuf>,
    /// Also write the report as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Keep the temporary folder (homes, logs, databases).
    #[arg(long)]
    pub keep: bool,
}

/// The settings of one run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The `wazuh-clusterd` binary the nodes run.
    pub binary: PathBuf,
    /// The `wazuh-agent-sim` binary.
    pub agent_sim: PathBuf,
    /// `--quick`: short timers and a strict exit code.
    pub quick: bool,
    /// Workers.
    pub workers: usize,
    /// Agents.
    pub agents: usize,
    /// Files.
    pub files: usize,
    /// The stable phase.
    pub stable: Duration,
    /// The change-storm phase.
    pub storm: Duration,
    /// Files changed per second in the storm.
    pub change_rate: f64,
    /// Between two keepalives of an agent.
    pub keepalive: Duration,
    /// Agents registered through the control socket (the last ones).
    pub register: usize,
    /// Registrations in flight.
    pub burst: usize,
    /// Longest wait of each setup step.
    pub setup_timeout: Duration,
    /// Where to write the JSON report.
    pub json: Option<PathBuf>,
    /// Keep the temporary folder.
    pub keep: bool,
}

impl LoadtestArgs {
    /// The settings for `binary` (this program), or why they are wrong.
    pub fn settings(&self, binary: PathBuf) -> Result<Settings, String> {
        let quick = self.quick;
        let pick = |value: Option<usize>, full: usize, small: usize| {
            value.unwrap_or(if quick { small } else { full })
        };
        let workers = pick(self.workers, 25, 3);
        let agents = pick(self.agents, 50_000, 2_000);
        let files = pick(self.files, 10_000, 500);
        let minutes = self.minutes.unwrap_or(if quick { 1.0 / 3.0 } else { 10.0 });
        let keepalive = self.keepalive.unwrap_or(if quick { 2.0 } else { 10.0 });
        let setup = self
            .setup_timeout
            .unwrap_or(if quick { 40.0 } else { 900.0 });
        if workers == 0 || agents == 0 {
            return Err("--workers and --agents must be at least 1".to_owned());
        }
        let seconds = |value: f64, what: &str| {
            Duration::try_from_secs_f64(value)
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or_else(|| format!("{what} must be a positive number, not {value}"))
        };
        let phases = seconds(minutes * 60.0, "--minutes")?;
        let change_rate = self
            .change_rate
            .unwrap_or(files as f64 / if quick { 100.0 } else { 1000.0 });
        if !(change_rate.is_finite() && change_rate >= 0.0) {
            return Err(format!(
                "--change-rate must be 0 or more files per second, not {change_rate}"
            ));
        }
        let agent_sim = match &self.agent_sim {
            Some(path) => path.clone(),
            None => binary.with_file_name("wazuh-agent-sim"),
        };
        if !agent_sim.is_file() {
            return Err(format!(
                "the agent simulator {} does not exist: build it (cargo build -p wazuh-clusterd \
                 --bin wazuh-agent-sim) or name it with --agent-sim FILE",
                agent_sim.display()
            ));
        }
        Ok(Settings {
            binary,
            agent_sim,
            quick,
            workers,
            agents,
            files,
            stable: phases / 2,
            storm: phases / 2,
            change_rate,
            keepalive: seconds(keepalive, "--keepalive")?,
            register: pick(self.register, 20, 40).min(agents),
            burst: self.burst.max(1),
            setup_timeout: seconds(setup, "--setup-timeout")?,
            json: self.json.clone(),
            keep: self.keep,
        })
    }
}

impl Settings {
    /// `<intervals>` of every node: Wazuh's defaults for a full run (so that the figures compare
    /// with Wazuh's), short timers for `--quick`.
    pub fn intervals(&self) -> Vec<(String, String)> {
        let short: &[(&str, &str)] = &[
            ("sync_integrity", "2s"),
            ("recalculate_integrity", "1s"),
            ("sync_agent_info", "2s"),
            ("sync_agent_groups", "2s"),
            ("keep_alive", "2s"),
            ("connection_retry", "1s"),
            ("check_worker_lastkeepalive", "2s"),
            ("max_allowed_time_without_keepalive", "20s"),
        ];
        if self.quick {
            short
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect()
        } else {
            Vec::new()
        }
    }
}
