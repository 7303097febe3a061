//! The `cluster_control` command line (Wazuh's flags; `--home` and `--json` are this project's).
//!
//! Wazuh spells two flags with two letters after one dash, `-fn` and `-fs`; they are read as
//! `--filter-node` and `--filter-agent-status` ([`normalize_args`]).

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgGroup, Parser};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use wazuh_cluster_proto::Command;
use wazuh_cluster_proto::command::names;

use super::client::{self, ClientError};
use super::protocol::files::{FilesFilter, GET_FILES};
use super::protocol::health::HealthReply;
use super::protocol::raft::{GET_RAFT, RaftReply, TRANSFER_MASTER};
use super::protocol::skew::{GET_SKEW, SkewReply};
use super::views;
use crate::cli::DEFAULT_HOME;
use crate::config::{self, Cluster, SystemAddresses};

/// `cluster_control [--home DIR] (-l | -i [more] | -a | -f [--file PATH...]) [-fn NODE...] [--json]`
#[derive(Debug, Clone, Parser)]
#[command(
    name = "cluster_control",
    version,
    about = "Shows the state of the Wazuh cluster this node belongs to, from any node",
    group(ArgGroup::new("view").required(true).args(["list_nodes", "health", "list_agents", "files", "watch", "transfer_master"]))
)]
pub struct ControlCli {
    /// Installation folder of the node to ask (its control socket is DIR/queue/cluster/c-internal.sock).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_HOME)]
    pub home: PathBuf,
    /// List the nodes: NAME TYPE VERSION ADDRESS AGENTS (active agents reporting to the node).
    #[arg(short = 'l', long = "list-nodes")]
    pub list_nodes: bool,
    /// Health of the cluster; `-i more` for the detail.
    #[arg(short = 'i', long = "health", value_name = "more", num_args = 0..=1, default_missing_value = "",
          value_parser = ["", "more"])]
    pub health: Option<String>,
    /// List the agents: ID NAME IP STATUS VERSION NODE NAME.
    #[arg(short = 'a', long = "list-agents")]
    pub list_agents: bool,
    /// Synchronization state of each file on each worker: NODE FILE STATE LAST CHANGE
    /// (filter with `-fn NODE...` and `--file PATH...`).
    #[arg(short = 'f', long = "files")]
    pub files: bool,
    /// Only these files, relative to the installation folder (`--file etc/client.keys`, with `-f`).
    #[arg(long = "file", value_name = "PATH", num_args = 1..)]
    pub file: Option<Vec<String>>,
    /// Only these nodes (`-fn NODE...`).
    #[arg(long = "filter-node", value_name = "NODE", num_args = 0..)]
    pub filter_node: Option<Vec<String>>,
    /// Only agents with these statuses (`-fs STATUS...`, with `-a`).
    #[arg(long = "filter-agent-status", value_name = "STATUS", num_args = 0..)]
    pub filter_agent_status: Option<Vec<String>>,
    /// With failover, on the master: hand the master role over to the master-eligible node
    /// NODE (planned maintenance); it serves as master once elected.
    #[arg(long = "transfer-master", value_name = "NODE")]
    pub transfer_master: Option<String>,
    /// Print the daemon's JSON reply instead of the text view.
    #[arg(long)]
    pub json: bool,
    /// A refreshing screen of the cluster: nodes, roles, agents per node, last syncs.
    #[arg(long)]
    pub watch: bool,
    /// Seconds between two screens of `--watch` (default 2).
    #[arg(long, value_name = "SECS")]
    pub interval: Option<f64>,
    /// Stop `--watch` after this many screens (default: until interrupted).
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
}

/// Rewrites Wazuh's `-fn`/`-fs` to their long forms so that clap reads them.
pub fn normalize_args(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    args.into_iter()
        .map(|arg| match arg.to_str() {
            Some("-fn") => OsString::from("--filter-node"),
            Some("-fs") => OsString::from("--filter-agent-status"),
            _ => arg,
        })
        .collect()
}

/// Runs `cluster_control` and returns its exit code.
pub fn run(cli: ControlCli) -> ExitCode {
    if cli.filter_agent_status.is_some() && !cli.list_agents {
        return crate::tools::usage::wrong_arguments::<ControlCli>("-fs goes with -a");
    }
    if cli.file.is_some() && !cli.files {
        return crate::tools::usage::wrong_arguments::<ControlCli>("--file goes with -f");
    }
    if (cli.interval.is_some() || cli.count.is_some()) && !cli.watch {
        return crate::tools::usage::wrong_arguments::<ControlCli>(
            "--interval and --count go with --watch",
        );
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("ERROR: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    if cli.watch {
        return watch(&cli, &runtime);
    }
    match runtime.block_on(view(&cli)) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(ClientError::NotRunning { .. }) => {
            eprintln!("ERROR: Cluster is not running.");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("ERROR: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--watch`: a screen every `--interval`, until `--count` screens or an interruption; the
/// screen is cleared between two when standard output is a terminal. A node that stops
/// answering shows its error and is asked again at the next refresh.
fn watch(cli: &ControlCli, runtime: &tokio::runtime::Runtime) -> ExitCode {
    use std::io::IsTerminal;
    let interval = cli.interval.unwrap_or(2.0);
    if !(interval.is_finite() && interval > 0.0) {
        return crate::tools::usage::wrong_arguments::<ControlCli>(
            "--interval takes a number of seconds above 0",
        );
    }
    let clear = std::io::stdout().is_terminal();
    let name = cluster_name(cli);
    let mut shown = 0u64;
    loop {
        let screen = runtime.block_on(async {
            let reply = ask(cli, names::GET_HEALTH, Value::Null).await?;
            let reply: HealthReply = typed(cli, names::GET_HEALTH, reply)?;
            let skew = skew(cli).await;
            let now = chrono::Utc::now();
            Ok::<_, ClientError>(views::watch_screen(&name, &reply, now, skew.as_ref()))
        });
        if clear {
            print!("\x1b[H\x1b[2J");
        }
        match screen {
            Ok(screen) => println!("{screen}"),
            Err(ClientError::NotRunning { .. }) => println!("ERROR: Cluster is not running."),
            Err(e) => println!("ERROR: {e}"),
        }
        shown += 1;
        if cli.count.is_some_and(|count| shown >= count) {
            return ExitCode::SUCCESS;
        }
        std::thread::sleep(std::time::Duration::from_secs_f64(interval));
    }
}

async fn view(cli: &ControlCli) -> Result<String, ClientError> {
    let filter = cli.filter_node.clone().filter(|names| !names.is_empty());
    if let Some(target) = &cli.transfer_master {
        let reply = ask(cli, TRANSFER_MASTER, json!(target)).await?;
        return Ok(match reply {
            Value::String(text) => text,
            other => other.to_string(),
        });
    }
    if cli.list_agents {
        let statuses = cli.filter_agent_status.clone();
        return crate::tools::cluster_agents::view(&cli.home, filter, statuses, cli.json).await;
    }
    if cli.files {
        let args = FilesFilter {
            node: filter,
            file: cli.file.clone(),
        };
        let reply = ask(cli, GET_FILES, json!(args)).await?;
        return Ok(if cli.json {
            reply.to_string()
        } else {
            views::files_table(&typed(cli, GET_FILES, reply)?)
        });
    }
    if cli.list_nodes {
        let args = json!({"filter_node": filter});
        let reply = ask(cli, names::GET_NODES, args).await?;
        if cli.json {
            return Ok(reply.to_string());
        }
        let health = ask(cli, names::GET_HEALTH, json!(filter))
            .await
            .ok()
            .and_then(|health| typed::<HealthReply>(cli, names::GET_HEALTH, health).ok());
        let nodes = typed(cli, names::GET_NODES, reply)?;
        let eligible: Option<BTreeSet<String>> = raft(cli)
            .await
            .map(|raft| raft.members.into_iter().filter_map(|m| m.name).collect());
        return Ok(views::nodes_table(
            &nodes,
            health.as_ref(),
            eligible.as_ref(),
        ));
    }
    let reply = ask(cli, names::GET_HEALTH, json!(filter)).await?;
    if cli.json {
        return Ok(reply.to_string());
    }
    let reply: HealthReply = typed(cli, names::GET_HEALTH, reply)?;
    let name = cluster_name(cli);
    let mut text = match cli.health.as_deref() {
        Some("more") => views::health_more(&name, &reply),
        _ => views::health_summary(&name, &reply),
    };
    if let Some(skew) = skew(cli).await {
        text.push_str(&views::skew_section(&skew));
    }
    if let Some(raft) = raft(cli).await {
        text.push_str(&views::raft_section(&raft));
    }
    Ok(text.trim_end_matches('\n').to_owned())
}

async fn ask(cli: &ControlCli, command: Command, args: Value) -> Result<Value, ClientError> {
    let payload =
        client::execute(&cli.home, command, args.to_string(), client::REPLY_TIMEOUT).await?;
    serde_json::from_slice(&payload).map_err(|source| ClientError::NotJson {
        socket: super::socket_path(&cli.home),
        source,
    })
}

/// This node's measured clock offsets; `None` when the daemon cannot say (an older one).
async fn skew(cli: &ControlCli) -> Option<SkewReply> {
    let reply = ask(cli, GET_SKEW, Value::Null).await.ok()?;
    typed(cli, GET_SKEW, reply).ok()
}

/// This node's view of the master election; `None` without failover (or from an older daemon).
async fn raft(cli: &ControlCli) -> Option<RaftReply> {
    let reply = ask(cli, GET_RAFT, Value::Null).await.ok()?;
    typed(cli, GET_RAFT, reply).ok()
}

/// `reply`, the JSON answer to `command`, as that command's reply type.
fn typed<T: DeserializeOwned>(
    cli: &ControlCli,
    command: Command,
    reply: Value,
) -> Result<T, ClientError> {
    serde_json::from_value(reply).map_err(|source| ClientError::UnexpectedReply {
        socket: super::socket_path(&cli.home),
        command: command.to_string(),
        source,
    })
}

/// The cluster's name from `DIR/etc/ossec.conf` (Wazuh's `-i` reads it the same way).
fn cluster_name(cli: &ControlCli) -> String {
    match config::load(&cli.home.join("etc/ossec.conf"), &SystemAddresses) {
        Ok(loaded) => match loaded.cluster {
            Cluster::Enabled(config) => config.name,
            Cluster::Disabled(_) => config::DEFAULT_NAME.to_owned(),
        },
        Err(_) => config::DEFAULT_NAME.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_of_the_wrong_shape_names_the_command_and_the_field() {
        let cli = ControlCli::parse_from(["cluster_control", "--home", "/var/ossec", "-i"]);
        let error = typed::<HealthReply>(
            &cli,
            names::GET_HEALTH,
            json!({"n_connected_nodes": 0, "node": {}}),
        )
        .unwrap_err();
        let text = error.to_string();
        assert!(
            matches!(error, ClientError::UnexpectedReply { .. }),
            "{error:?}"
        );
        assert!(text.contains("get_health"), "{text}");
        assert!(text.contains("missing field `nodes`"), "{text}");
        assert!(
            text.contains("/var/ossec/queue/cluster/c-internal.sock"),
            "{text}"
        );
    }
}
