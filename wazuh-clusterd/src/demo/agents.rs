//! The demo's agent steps: register agents and a group with the operator tools, wait for the
//! workers to hold the master's files, and play agents reporting to a worker.
//!
//! The tools run in this process (`manage_agents`, `agent_groups` and `wazuh-agent-sim` are
//! thin binaries over the same functions), so `cargo run -p wazuh-clusterd -- demo` needs no
//! other binary.

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use wazuh_cluster_core::agents::client_keys::{CLIENT_KEYS_PATH, ClientKeys};

use super::cluster::wait_until;
use super::compare::same_files;
use super::state::{Demo, DemoError, MASTER, WORKERS, elapsed};
use crate::control::commands::agents::protocol::{AGENT_LIST, AgentList, ListAgents};
use crate::tools::{self, request};

/// The group the demo creates.
pub const GROUP: &str = "webservers";
/// Agents registered on the master (name, IP), then one through a worker.
const ON_MASTER: [(&str, &str); 2] = [("web-01", "any"), ("web-02", "any")];
const ON_WORKER: (&str, &str) = ("db-01", "10.0.0.5");
/// Longest wait for files or agent status to reach another node.
const SYNC_TIMEOUT: Duration = Duration::from_secs(20);

fn run_tool(
    name: &str,
    home: &Path,
    args: &[&str],
    tool: fn(Vec<OsString>) -> ExitCode,
) -> Result<(), DemoError> {
    println!("\n$ {name} --home {} {}", home.display(), args.join(" "));
    let argv: Vec<OsString> = std::iter::once(name)
        .chain(["--home"])
        .map(OsString::from)
        .chain([home.as_os_str().to_owned()])
        .chain(args.iter().map(OsString::from))
        .collect();
    if tool(argv) == ExitCode::SUCCESS {
        Ok(())
    } else {
        Err(DemoError::Failed(format!(
            "{name} {} failed",
            args.join(" ")
        )))
    }
}

pub(super) fn manage_agents(home: &Path, args: &[&str]) -> Result<(), DemoError> {
    run_tool("manage_agents", home, args, tools::manage_agents::main)
}

fn agent_groups(home: &Path, args: &[&str]) -> Result<(), DemoError> {
    run_tool("agent_groups", home, args, tools::agent_groups::main)
}

/// The id of agent `name` in the `client.keys` of `home`.
fn id_of(home: &Path, name: &str) -> Option<String> {
    let keys = ClientKeys::parse(&std::fs::read(home.join(CLIENT_KEYS_PATH)).ok()?);
    keys.ids()
        .find(|id| keys.get(*id).is_some_and(|entry| entry.name == name))
        .map(|id| id.to_string())
}

/// Registers two agents on the master and one through a worker, creates a group and assigns
/// the two web agents to it.
pub(super) fn register_agents(demo: &mut Demo) -> Result<(), DemoError> {
    let master = demo.cluster.home(MASTER);
    for (name, ip) in ON_MASTER {
        manage_agents(&master, &["-a", ip, "-n", name])?;
    }
    let (name, ip) = ON_WORKER;
    manage_agents(&demo.cluster.home(WORKERS[1]), &["-a", ip, "-n", name])?;
    agent_groups(&master, &["-a", "-g", GROUP])?;
    for (name, _) in ON_MASTER {
        let id = id_of(&master, name).ok_or_else(|| {
            DemoError::Failed(format!("{name} is not in the master's client.keys"))
        })?;
        agent_groups(&master, &["-a", "-i", &id, "-g", GROUP])?;
    }
    agent_groups(&master, &["-l"])?;
    demo.account.push(format!(
        "manage_agents registered web-01 and web-02 on the master and db-01 through {} (which \
         forwarded it to the master); agent_groups created '{GROUP}' and put both web agents in it \
         ({}).",
        WORKERS[1],
        elapsed(demo)
    ));
    Ok(())
}

/// Waits until both workers hold the master's `client.keys` and `etc/shared/<GROUP>/`, byte
/// for byte.
pub(super) fn wait_for_files(demo: &mut Demo) -> Result<(), DemoError> {
    let master = demo.cluster.home(MASTER);
    let paths = [CLIENT_KEYS_PATH, &format!("etc/shared/{GROUP}")];
    let start = Instant::now();
    for worker in WORKERS {
        let home = demo.cluster.home(worker);
        if !wait_until(SYNC_TIMEOUT, || same_files(&master, &home, &paths)) {
            return Err(DemoError::Timeout(
                format!(
                    "{worker} did not get the master's {} and {} within {SYNC_TIMEOUT:?}",
                    paths[0], paths[1]
                ),
                demo.cluster.root.clone(),
            ));
        }
        println!(
            "{worker}: {} and {}/ are identical to the master's (BLAKE2b-512), {:.1}s after the \
             registrations",
            paths[0],
            paths[1],
            start.elapsed().as_secs_f64()
        );
    }
    demo.account.push(format!(
        "Integrity sync carried client.keys (3 agents) and etc/shared/{GROUP}/ to both workers, \
         byte-identical, {:.1}s after the registrations.",
        start.elapsed().as_secs_f64()
    ));
    Ok(())
}

fn active_on(master: &Path, node: &str) -> usize {
    let list: Result<AgentList, _> = request::block_on(
        master,
        request::call(master, AGENT_LIST, &ListAgents::default()),
    );
    list.map(|list| {
        list.items
            .iter()
            .filter(|a| a.status == "active" && a.node_name.as_deref() == Some(node))
            .count()
    })
    .unwrap_or(0)
}

/// Plays the three agents reporting to the first worker, and waits until the master sees them
/// active there.
pub(super) fn simulate_agents(demo: &mut Demo) -> Result<(), DemoError> {
    let worker = WORKERS[0];
    let args = ["--agents", "3", "--interval", "0.5", "--rounds", "3"];
    run_tool(
        "wazuh-agent-sim",
        &demo.cluster.home(worker),
        &args,
        tools::agent_sim::main,
    )?;
    let master = demo.cluster.home(MASTER);
    let start = Instant::now();
    if !wait_until(SYNC_TIMEOUT, || active_on(&master, worker) == 3) {
        return Err(DemoError::Timeout(
            format!(
                "the master did not see the 3 agents active on {worker} within {SYNC_TIMEOUT:?}"
            ),
            demo.cluster.root.clone(),
        ));
    }
    println!(
        "the master sees the 3 agents active on {worker} ({:.1}s after the last report)",
        start.elapsed().as_secs_f64()
    );
    demo.account.push(format!(
        "wazuh-agent-sim played the 3 agents sending keepalives to {worker}; {worker}'s agent-info \
         sync told the master, which shows them active with NODE NAME {worker} ({}).",
        elapsed(demo)
    ));
    Ok(())
}
