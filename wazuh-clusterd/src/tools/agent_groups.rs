//! `agent_groups --home DIR`: groups of agents through the local daemon, with Wazuh's flags:
//! `-a -g GROUP` creates a group, `-a -i ID -g GROUP` assigns it, `-r -i ID -g GROUP`
//! unassigns it, `-l` lists the groups, `-l -g GROUP` the agents of one.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

use wazuh_cluster_core::agents::error::codes;
use wazuh_cluster_proto::payload::WazuhException;

use super::request::{block_on, call, fail};
use super::usage;
use crate::cli::DEFAULT_HOME;
use crate::control::client::ClientError;
use crate::control::commands::agents::protocol::{
    AGENT_LIST, AgentList, GROUP_ADD, GROUP_JOIN, GROUP_LEAVE, GROUP_LIST, GroupList, GroupRef,
    ListAgents, Membership,
};

/// `agent_groups`: create, assign, unassign and list groups.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "agent_groups",
    version,
    about = "Creates groups and assigns agents to them through the local wazuh-clusterd",
    override_usage = "agent_groups [--home DIR] -a -g <GROUP>\n       \
                      agent_groups [--home DIR] -a -i <ID> -g <GROUP>\n       \
                      agent_groups [--home DIR] -r -i <ID> -g <GROUP>\n       \
                      agent_groups [--home DIR] -l [-g <GROUP>]"
)]
pub struct AgentGroupsCli {
    /// Installation folder of the local node (its control socket is DIR/queue/cluster/c-internal.sock).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_HOME)]
    pub home: PathBuf,
    /// Add: create the group (-g), or assign it to an agent (-i -g).
    #[arg(short = 'a')]
    pub add: bool,
    /// Remove an agent from a group (-i -g).
    #[arg(short = 'r')]
    pub remove: bool,
    /// List the groups, or the agents of one group (-g).
    #[arg(short = 'l')]
    pub list: bool,
    /// The agent's id.
    #[arg(short = 'i', value_name = "ID")]
    pub agent: Option<String>,
    /// The group.
    #[arg(short = 'g', value_name = "GROUP")]
    pub group: Option<String>,
}

enum Action {
    Create(String),
    Assign(String, String),
    Unassign(String, String),
    ListGroups,
    ListMembers(String),
}

impl AgentGroupsCli {
    fn action(self) -> Result<Action, &'static str> {
        match (self.add, self.remove, self.list, self.agent, self.group) {
            (true, false, false, None, Some(group)) => Ok(Action::Create(group)),
            (true, false, false, Some(id), Some(group)) => Ok(Action::Assign(id, group)),
            (false, true, false, Some(id), Some(group)) => Ok(Action::Unassign(id, group)),
            (false, false, true, None, None) => Ok(Action::ListGroups),
            (false, false, true, None, Some(group)) => Ok(Action::ListMembers(group)),
            (false, false, false, _, _) => Err("choose one of -a, -r or -l"),
            (true, true, _, _, _) | (true, _, true, _, _) | (_, true, true, _, _) => {
                Err("-a, -r and -l exclude each other")
            }
            (true, _, _, _, None) => Err("-a needs the group with -g"),
            (false, true, _, _, _) => Err("-r needs the agent with -i and the group with -g"),
            _ => Err("-l takes only -g"),
        }
    }
}

/// Runs `agent_groups` with `args` (the program name first) and returns its exit code.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli: AgentGroupsCli = match usage::parse(args) {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let home = cli.home.clone();
    let action = match cli.action() {
        Ok(action) => action,
        Err(what) => return usage::wrong_arguments::<AgentGroupsCli>(what),
    };
    match block_on(&home, run(&home, action)) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(error) => fail(&error),
    }
}

async fn run(home: &Path, action: Action) -> Result<String, ClientError> {
    Ok(match action {
        Action::Create(group) => {
            let done: GroupRef = call(home, GROUP_ADD, &GroupRef { group }).await?;
            format!("Group '{}' created.", done.group)
        }
        Action::Assign(id, group) => {
            let done: Membership = call(home, GROUP_JOIN, &Membership { id, group }).await?;
            format!("Group '{}' added to agent '{}'.", done.group, done.id)
        }
        Action::Unassign(id, group) => {
            let done: Membership = call(home, GROUP_LEAVE, &Membership { id, group }).await?;
            format!("Agent '{}' removed from group '{}'.", done.id, done.group)
        }
        Action::ListGroups => {
            let groups: GroupList = call(home, GROUP_LIST, &serde_json::json!({})).await?;
            let mut text = format!("Groups ({}):", groups.items.len());
            for group in &groups.items {
                text.push_str(&format!("\n  {} ({})", group.name, group.agents.len()));
            }
            text
        }
        Action::ListMembers(group) => {
            let groups: GroupList = call(home, GROUP_LIST, &serde_json::json!({})).await?;
            if !groups.items.iter().any(|g| g.name == group) {
                let mut missing = WazuhException::error(codes::GROUP_NOT_FOUND)
                    .with_extra_message(format!("group {group:?} does not exist"));
                missing.cmd_error = true;
                return Err(ClientError::Daemon(Box::new(missing)));
            }
            let agents: AgentList = call(home, AGENT_LIST, &ListAgents::default()).await?;
            let members: Vec<_> = agents
                .items
                .iter()
                .filter(|agent| agent.groups.contains(&group))
                .collect();
            let mut text = format!("{} agent(s) in group '{group}':", members.len());
            for agent in members {
                text.push_str(&format!("\n  ID: {}  Name: {}.", agent.id, agent.name));
            }
            text
        }
    })
}
