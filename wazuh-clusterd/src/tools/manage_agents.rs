//! `manage_agents --home DIR (-a IP -n NAME [-G GROUP[,GROUP..]] | -r ID | -l)`: register,
//! remove and list agents through the local daemon, on the master or on a worker (which asks
//! the master).

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use super::request::{block_on, call, fail};
use super::usage;
use crate::cli::DEFAULT_HOME;
use crate::control::commands::agents::protocol::{
    AGENT_ADD, AGENT_DEL, AGENT_LIST, AddAgent, AddedAgent, AgentList, AgentRef, ListAgents,
};

/// `manage_agents`: add (`-a IP -n NAME`), remove (`-r ID`) or list (`-l`) agents.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "manage_agents",
    version,
    about = "Registers, removes and lists the agents of the cluster through the local wazuh-clusterd",
    override_usage = "manage_agents [--home DIR] -a <IP|any> -n <NAME> [-G <GROUP[,GROUP...]>]\n       \
                      manage_agents [--home DIR] -r <ID>\n       manage_agents [--home DIR] -l"
)]
pub struct ManageAgentsCli {
    /// Installation folder of the local node (its control socket is DIR/queue/cluster/c-internal.sock).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_HOME)]
    pub home: PathBuf,
    /// Add an agent allowed to connect from this IP (or `any`); needs -n.
    #[arg(short = 'a', value_name = "IP")]
    pub add: Option<String>,
    /// Name of the agent to add.
    #[arg(short = 'n', value_name = "NAME")]
    pub name: Option<String>,
    /// Groups of the agent to add, comma-separated (default: `default`).
    #[arg(short = 'G', value_name = "GROUP", value_delimiter = ',')]
    pub groups: Vec<String>,
    /// Remove the agent with this id.
    #[arg(short = 'r', value_name = "ID")]
    pub remove: Option<String>,
    /// List the agents.
    #[arg(short = 'l')]
    pub list: bool,
}

/// What was asked.
enum Action {
    Add {
        ip: String,
        name: String,
        groups: Vec<String>,
    },
    Remove(String),
    List,
}

impl ManageAgentsCli {
    fn action(self) -> Result<Action, &'static str> {
        let grouped = !self.groups.is_empty();
        match (self.add, self.name, self.remove, self.list) {
            (Some(ip), Some(name), None, false) => Ok(Action::Add {
                ip,
                name,
                groups: self.groups,
            }),
            (Some(_), None, None, false) => Err("-a needs the agent's name with -n"),
            (None, Some(_), None, false) => Err("-n goes with -a IP"),
            (None, None, None, false) if !grouped => Err("choose one of -a, -r or -l"),
            (None, None, _, _) if grouped => Err("-G goes with -a"),
            (None, None, Some(id), false) => Ok(Action::Remove(id)),
            (None, None, None, true) => Ok(Action::List),
            _ => Err("-a, -r and -l exclude each other"),
        }
    }
}

/// Runs `manage_agents` with `args` (the program name first) and returns its exit code.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli: ManageAgentsCli = match usage::parse(args) {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let home = cli.home.clone();
    let action = match cli.action() {
        Ok(action) => action,
        Err(what) => return usage::wrong_arguments::<ManageAgentsCli>(what),
    };
    let outcome = match action {
        Action::Add { ip, name, groups } => block_on(&home, async {
            let added: AddedAgent = call(&home, AGENT_ADD, &AddAgent { name, ip, groups }).await?;
            Ok(format!(
                "Agent added with ID {}.\n{}",
                added.id, added.key_line
            ))
        }),
        Action::Remove(id) => block_on(&home, async {
            let removed: AgentRef = call(&home, AGENT_DEL, &AgentRef { id }).await?;
            Ok(format!("Agent '{}' removed.", removed.id))
        }),
        Action::List => block_on(&home, async {
            let list: AgentList = call(&home, AGENT_LIST, &ListAgents::default()).await?;
            Ok(agent_lines(&list))
        }),
    };
    match outcome {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(error) => fail(&error),
    }
}

/// Wazuh's `manage_agents -l` text.
fn agent_lines(list: &AgentList) -> String {
    if list.items.is_empty() {
        return "No agent available.".to_owned();
    }
    let mut text = "Available agents: ".to_owned();
    for agent in &list.items {
        text.push_str(&format!(
            "\n   ID: {}, Name: {}, IP: {}",
            agent.id, agent.name, agent.ip
        ));
    }
    text
}
