//! Registering the rig's agents on the master through its control socket, as `manage_agents -a`
//! does (`agent_add`), `burst` requests in flight at a time, each agent in one of the rig's
//! groups (made by the seeding).

use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::Serialize;

use super::names::{GROUPS, agent_name, group_name};
use crate::control::client::ClientError;
use crate::control::commands::agents::protocol::{AGENT_ADD, AddAgent, AddedAgent};
use crate::tools::request::{block_on, call};

/// How the registrations went.
#[derive(Debug, Clone, Serialize)]
pub struct Registration {
    /// Agents registered through the control socket.
    pub agents: usize,
    /// Agents seeded into the master's database before it started.
    pub seeded: usize,
    /// Requests in flight at a time.
    pub burst: usize,
    /// Wall time of all registrations, seconds.
    pub seconds: f64,
    /// Registrations per second over the whole run.
    pub per_second: f64,
    /// Registrations per second over the first and the last tenth (the rate falls as
    /// `client.keys` grows when each registration rewrites it).
    pub per_second_first_tenth: f64,
    /// See `per_second_first_tenth`.
    pub per_second_last_tenth: f64,
    /// Why registering stopped before the last agent, if it did (the run goes on with the
    /// agents registered so far).
    pub failure: Option<String>,
    /// The ids, in registration order.
    #[serde(skip)]
    pub ids: Vec<String>,
}

/// Registers agents `first_agent..first_agent + agents` on the master of `home`, `burst` at a
/// time; prints progress every tenth.
pub fn register(
    home: &Path,
    first_agent: usize,
    agents: usize,
    burst: usize,
) -> Result<Registration, ClientError> {
    block_on(home, async {
        let started = Instant::now();
        let tenth = (agents / 10).max(1);
        let mut ids = Vec::with_capacity(agents);
        let mut marks: Vec<Duration> = Vec::new();
        let mut requests = futures_util::stream::iter(first_agent..first_agent + agents)
            .map(|n| async move {
                let args = AddAgent {
                    name: agent_name(n),
                    ip: "any".to_owned(),
                    groups: vec![group_name(n % GROUPS)],
                };
                call::<_, AddedAgent>(home, AGENT_ADD, &args).await
            })
            .buffer_unordered(burst.max(1));
        let mut failure = None;
        while let Some(added) = requests.next().await {
            match added {
                Ok(added) => ids.push(added.id),
                Err(error) => {
                    println!("  registration failed: {error}");
                    failure = Some(error.to_string());
                    break;
                }
            }
            if ids.len() % tenth == 0 {
                marks.push(started.elapsed());
                println!(
                    "  registered {} / {agents} agents ({:.1} s)",
                    ids.len(),
                    started.elapsed().as_secs_f64()
                );
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        let rate = |count: usize, time: Duration| count as f64 / time.as_secs_f64().max(1e-9);
        let first = marks.first().copied().unwrap_or(started.elapsed());
        let last = match marks.len() {
            n if n >= 2 => marks[n - 1] - marks[n - 2],
            _ => started.elapsed(),
        };
        Ok(Registration {
            agents: ids.len(),
            failure,
            seeded: first_agent,
            burst,
            seconds,
            per_second: ids.len() as f64 / seconds.max(1e-9),
            per_second_first_tenth: rate(tenth.min(agents), first),
            per_second_last_tenth: rate(tenth.min(agents), last),
            ids,
        })
    })
}
