//! `wazuh-agent-sim`: plays registered agents reporting keepalives to one node, through that
//! node's control socket (`agent_stat`), for tests, demos and load.
//!
//! ```text
//! wazuh-agent-sim --home DIR --agents N [--ids ID,..] [--register PREFIX] [--interval S]
//!                 [--duration S | --rounds N] [--version V] [--os NAME] [--disconnect]
//! ```
//!
//! The agents are the first N of the node's `etc/client.keys`, or the `--ids` given, or N new
//! agents registered as `PREFIX-001`.. with `--register`. Every interval one report names them
//! all; a one-line summary is printed per round. It stops when the duration or the rounds are
//! over, or on SIGINT. `--disconnect` reports them disconnected once and stops. Pointing it at
//! another node's home plays the agents moving there (a failover).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use wazuh_cluster_core::agents::client_keys::{CLIENT_KEYS_PATH, ClientKeys};

use super::request::{block_on, call, failure_line};
use super::usage;
use crate::cli::DEFAULT_HOME;
use crate::config::{self, Cluster, SystemAddresses};
use crate::control::client::ClientError;
use crate::control::commands::agents::protocol::{
    AGENT_ADD, AGENT_STAT, AddAgent, AddedAgent, ReportEvent, ReportOutcome, StatusReport,
};

/// `wazuh-agent-sim`: simulated agents reporting to a node.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "wazuh-agent-sim",
    disable_version_flag = true,
    about = "Plays registered agents sending keepalives to the node of an installation, through its control socket"
)]
pub struct AgentSimCli {
    /// Installation folder of the node the agents report to.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_HOME)]
    pub home: PathBuf,
    /// How many agents to play (the first of client.keys, of --ids, or new ones with --register).
    #[arg(long, value_name = "N", required_unless_present = "ids")]
    pub agents: Option<usize>,
    /// Play these agents (comma-separated ids).
    #[arg(long, value_name = "ID", value_delimiter = ',', num_args = 1..)]
    pub ids: Vec<String>,
    /// Register N new agents named PREFIX-001.. (through this node) and play them.
    #[arg(long, value_name = "PREFIX", conflicts_with = "ids")]
    pub register: Option<String>,
    /// Seconds between two rounds of keepalives.
    #[arg(long, value_name = "S", default_value_t = 10.0)]
    pub interval: f64,
    /// Stop after this many seconds (default: until SIGINT).
    #[arg(long, value_name = "S", conflicts_with = "rounds")]
    pub duration: Option<f64>,
    /// Stop after this many rounds.
    #[arg(long, value_name = "N")]
    pub rounds: Option<u64>,
    /// Agent version reported with the keepalives.
    #[arg(long = "version", value_name = "V", default_value = "Wazuh v4.9.2")]
    pub agent_version: String,
    /// Operating system reported with the keepalives.
    #[arg(long, value_name = "NAME", default_value = "Ubuntu 24.04 LTS")]
    pub os: String,
    /// Report the agents disconnected (once) instead of sending keepalives.
    #[arg(long, conflicts_with_all = ["duration", "rounds", "register"])]
    pub disconnect: bool,
}

/// Runs `wazuh-agent-sim` with `args` (the program name first) and returns its exit code.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli: AgentSimCli = match usage::parse(args) {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let interval = match Duration::try_from_secs_f64(cli.interval) {
        Ok(interval) if !interval.is_zero() => interval,
        _ => {
            return usage::wrong_arguments::<AgentSimCli>(
                "--interval must be a positive number of seconds",
            );
        }
    };
    let duration = match cli.duration.map(Duration::try_from_secs_f64) {
        None => None,
        Some(Ok(duration)) => Some(duration),
        Some(Err(_)) => {
            return usage::wrong_arguments::<AgentSimCli>(
                "--duration must be a number of seconds, 0 or more",
            );
        }
    };
    if cli.agents == Some(0) || cli.rounds == Some(0) {
        return usage::wrong_arguments::<AgentSimCli>("--agents and --rounds must be at least 1");
    }
    let home = cli.home.clone();
    match block_on(&home, simulate(&cli, interval, duration)) {
        Ok(summary) if summary.accepted > 0 => {
            println!("{}", summary.line());
            ExitCode::SUCCESS
        }
        Ok(summary) => {
            println!("{}", summary.line());
            eprintln!(
                "ERROR: no report was accepted{}",
                summary
                    .first_refusal
                    .map(|r| format!("; first refusal: {r}"))
                    .unwrap_or_default()
            );
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("{}", failure_line(&error));
            ExitCode::FAILURE
        }
    }
}

/// What a run did.
struct Summary {
    node: String,
    agents: usize,
    rounds: u64,
    accepted: usize,
    refused: usize,
    first_refusal: Option<String>,
}

impl Summary {
    fn line(&self) -> String {
        format!(
            "played {} agent(s) on {} for {} round(s): {} report(s) accepted, {} refused.",
            self.agents, self.node, self.rounds, self.accepted, self.refused
        )
    }
}

/// The node name of `home` (from its `ossec.conf`), or the folder when it cannot be read.
fn node_name(home: &Path) -> String {
    match config::load(&home.join("etc/ossec.conf"), &SystemAddresses) {
        Ok(loaded) => match loaded.cluster {
            Cluster::Enabled(config) => config.node_name,
            Cluster::Disabled(_) => home.display().to_string(),
        },
        Err(_) => home.display().to_string(),
    }
}

/// The first `count` agents of `home`'s `client.keys`.
fn agents_from_keys(home: &Path, count: usize) -> Result<Vec<String>, String> {
    let path = home.join(CLIENT_KEYS_PATH);
    let text = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let keys = ClientKeys::parse(&text);
    if keys.len() < count {
        return Err(format!(
            "{} lists {} agent(s), fewer than --agents {count}; register more (manage_agents) or \
             use --register PREFIX",
            path.display(),
            keys.len()
        ));
    }
    Ok(keys.ids().take(count).map(|id| id.to_string()).collect())
}

async fn register(home: &Path, prefix: &str, count: usize) -> Result<Vec<String>, ClientError> {
    let mut ids = Vec::with_capacity(count);
    for n in 1..=count {
        let args = AddAgent {
            name: format!("{prefix}-{n:03}"),
            ip: "any".to_owned(),
            groups: Vec::new(),
        };
        let added: AddedAgent = call(home, AGENT_ADD, &args).await?;
        println!("registered {}", added.key_line);
        ids.push(added.id);
    }
    Ok(ids)
}

async fn simulate(
    cli: &AgentSimCli,
    interval: Duration,
    duration: Option<Duration>,
) -> Result<Summary, ClientError> {
    let home = cli.home.as_path();
    let ids = match (&cli.register, cli.ids.is_empty(), cli.agents) {
        (Some(prefix), _, Some(count)) => register(home, prefix, count).await?,
        (None, false, count) => cli
            .ids
            .iter()
            .take(count.unwrap_or(usize::MAX))
            .cloned()
            .collect(),
        (_, _, count) => match agents_from_keys(home, count.unwrap_or(0)) {
            Ok(ids) => ids,
            Err(message) => {
                return Err(ClientError::Io {
                    socket: home.join(CLIENT_KEYS_PATH),
                    source: std::io::Error::other(message),
                });
            }
        },
    };
    let event = if cli.disconnect {
        ReportEvent::Disconnected
    } else {
        ReportEvent::Keepalive
    };
    let report = StatusReport {
        id: None,
        ids: Some(ids.clone()),
        event,
        version: (!cli.disconnect).then(|| cli.agent_version.clone()),
        os: (!cli.disconnect).then(|| cli.os.clone()),
    };
    let mut summary = Summary {
        node: node_name(home),
        agents: ids.len(),
        rounds: 0,
        accepted: 0,
        refused: 0,
        first_refusal: None,
    };
    let started = Instant::now();
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        let round_start = Instant::now();
        summary.rounds += 1;
        let outcome = call::<_, ReportOutcome>(home, AGENT_STAT, &report).await;
        let outcome = match outcome {
            Ok(outcome) => outcome,
            // No daemon at all: nothing to play. A slow answer (a loaded node) only loses
            // this round.
            Err(error @ ClientError::NotRunning { .. }) if summary.rounds == 1 => {
                return Err(error);
            }
            Err(error) => {
                println!("round {}: {}", summary.rounds, failure_line(&error));
                ReportOutcome::default()
            }
        };
        summary.accepted += outcome.accepted;
        summary.refused += outcome.refused.len();
        if summary.first_refusal.is_none()
            && let Some(first) = outcome.refused.first()
        {
            summary.first_refusal = Some(format!(
                "agent {}: Error {} - {}",
                first.id, first.code, first.message
            ));
        }
        println!(
            "round {}: {} {} accepted by {}, {} refused ({} ms)",
            summary.rounds,
            outcome.accepted,
            if cli.disconnect {
                "disconnection(s)"
            } else {
                "keepalive(s)"
            },
            summary.node,
            outcome.refused.len(),
            round_start.elapsed().as_millis()
        );
        let next =
            started + interval.saturating_mul(u32::try_from(summary.rounds).unwrap_or(u32::MAX));
        let over = cli.disconnect
            || cli.rounds.is_some_and(|rounds| summary.rounds >= rounds)
            || duration.is_some_and(|duration| next.duration_since(started) > duration);
        if over {
            break;
        }
        tokio::select! {
            () = tokio::time::sleep_until(next.into()) => {}
            _ = &mut ctrl_c => break,
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn command_lines_are_well_formed() {
        AgentSimCli::command().debug_assert();
        crate::tools::manage_agents::ManageAgentsCli::command().debug_assert();
        crate::tools::agent_groups::AgentGroupsCli::command().debug_assert();
    }
}
