//! Figures of master failover, by hand (ignored in CI; release build advised):
//!
//! ```sh
//! cargo test --release -p wazuh-clusterd --test failover_figures -- --ignored --nocapture --test-threads 1
//! WAZUH_FAILOVER_KILLS=20 WAZUH_FAILOVER_AGENTS=100000 (the defaults)
//! ```
//!
//! - `election_time_after_sigkill`: three master-eligible nodes; the master is killed with
//!   SIGKILL, the time until another serves as master is taken, the killed node restarted and
//!   rejoined; `WAZUH_FAILOVER_KILLS` times; prints every time, the median and the max.
//! - `registrations_and_memory`: `WAZUH_FAILOVER_AGENTS` registrations through the master's
//!   control socket (64 concurrent clients, as `manage_agents -a` sends them), committed by the
//!   three-node Raft group; prints registrations per second and each node's RSS (VmRSS and
//!   VmHWM) once every node applied them.
//! - `memory_with_imported_agents`: a master that ran without failover holds
//!   `WAZUH_FAILOVER_AGENTS` agents (rows written straight into its database); it restarts with
//!   failover, is elected first, and imports them into the replicated registry; prints the import
//!   time and each node's RSS once every member holds them.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use wazuh_clusterd::control::commands::agents::protocol::{AGENT_ADD, AddAgent, AddedAgent};
use wazuh_clusterd::control::protocol::raft::{GET_RAFT, RaftReply, TRANSFER_MASTER};
use wazuh_clusterd::demo::{LocalCluster, NodeProcess, free_port, query, wait_until};
use wazuh_clusterd::tools::request::call;

const DAEMON: &str = env!("CARGO_BIN_EXE_wazuh-clusterd");
const WAIT: Duration = Duration::from_secs(60);
const ELIGIBLE: [&str; 3] = ["master-1", "master-2", "master-3"];

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn raft(home: &Path) -> Option<RaftReply> {
    let reply: Value = query(home, GET_RAFT, "null").ok()?;
    serde_json::from_value(reply).ok()
}

fn serving(homes: &[PathBuf], among: &[usize]) -> Option<usize> {
    let serving: Vec<usize> = among
        .iter()
        .copied()
        .filter(|&i| raft(&homes[i]).is_some_and(|r| r.serving))
        .collect();
    (serving.len() == 1).then(|| serving[0])
}

struct Group {
    cluster: LocalCluster,
    ports: Vec<u16>,
    processes: Vec<Option<NodeProcess>>,
    homes: Vec<PathBuf>,
}

impl Group {
    fn start(root: &Path) -> Group {
        let cluster = LocalCluster::new(Path::new(DAEMON), root).unwrap();
        let ports: Vec<u16> = (0..3).map(|_| free_port().unwrap()).collect();
        let mut group = Group {
            cluster,
            ports,
            processes: Vec::new(),
            homes: Vec::new(),
        };
        for (i, name) in ELIGIBLE.iter().enumerate() {
            group.homes.push(group.cluster.home(name));
            let process = group.spawn(i);
            group.processes.push(Some(process));
        }
        group
    }

    fn spawn_later(root: &Path) -> Group {
        let cluster = LocalCluster::new(Path::new(DAEMON), root).unwrap();
        let ports: Vec<u16> = (0..3).map(|_| free_port().unwrap()).collect();
        let homes = ELIGIBLE.iter().map(|name| cluster.home(name)).collect();
        Group {
            cluster,
            ports,
            processes: vec![None, None, None],
            homes,
        }
    }

    fn spawn(&self, i: usize) -> NodeProcess {
        let spec = self
            .cluster
            .failover_spec(ELIGIBLE[i], &self.ports, Some(self.ports[i]));
        self.cluster.start(&spec, None).unwrap()
    }

    fn master(&self, among: &[usize]) -> usize {
        let mut master = None;
        assert!(
            wait_until(WAIT, || {
                master = serving(&self.homes, among);
                master.is_some()
            }),
            "no master"
        );
        master.unwrap()
    }
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[test]
#[ignore = "figures by hand: see the module docs"]
fn election_time_after_sigkill() {
    let kills = env_or("WAZUH_FAILOVER_KILLS", 20);
    let root = tempfile::tempdir().unwrap();
    let mut group = Group::start(root.path());
    let mut times = Vec::new();
    for round in 0..kills {
        let all = [0, 1, 2];
        let master = group.master(&all);
        // Every member must be up to date before the kill, as in steady operation.
        assert!(wait_until(WAIT, || all
            .iter()
            .all(
                |&i| raft(&group.homes[i]).is_some_and(|r| r.leader == Some(master as u64 + 1))
            )));
        std::thread::sleep(Duration::from_secs(1));
        let killed = Instant::now();
        group.processes[master].as_mut().unwrap().kill().unwrap();
        let others: Vec<usize> = all.into_iter().filter(|&i| i != master).collect();
        let next = group.master(&others);
        let took = killed.elapsed();
        eprintln!(
            "kill {}: {} killed, {} serves {:.2}s later",
            round + 1,
            ELIGIBLE[master],
            ELIGIBLE[next],
            took.as_secs_f64()
        );
        times.push(took);
        group.processes[master] = Some(group.spawn(master));
    }
    times.sort();
    let median = times[times.len() / 2];
    eprintln!(
        "election after SIGKILL over {} kills: median {:.2}s, min {:.2}s, max {:.2}s",
        times.len(),
        median.as_secs_f64(),
        times[0].as_secs_f64(),
        times[times.len() - 1].as_secs_f64()
    );
}

#[test]
#[ignore = "figures by hand: see the module docs"]
fn registrations_and_memory() {
    let agents = env_or("WAZUH_FAILOVER_AGENTS", 100_000);
    let clients = 64;
    let root = tempfile::tempdir().unwrap();
    let group = Group::start(root.path());
    let master = group.master(&[0, 1, 2]);
    let home = group.homes[master].clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let registered = runtime.block_on(async {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let tasks = (0..clients).map(|_| async {
            let mut done = 0usize;
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= agents {
                    return done;
                }
                let add = AddAgent {
                    name: format!("agent-{n:06}"),
                    ip: "any".into(),
                    groups: Vec::new(),
                };
                // A registration refused while an election runs is retried, as an operator would.
                let mut tries = 0;
                loop {
                    match call::<_, AddedAgent>(&home, AGENT_ADD, &add).await {
                        Ok(_) => break done += 1,
                        Err(error) if tries < 20 => {
                            tries += 1;
                            eprintln!("registration {n} refused ({error}); retrying");
                            tokio::time::sleep(Duration::from_millis(250)).await;
                        }
                        Err(error) => panic!("registration {n} failed: {error}"),
                    }
                }
                if n.is_multiple_of(10_000) && n > 0 {
                    eprintln!(
                        "{n} registrations after {:.1}s",
                        started.elapsed().as_secs_f64()
                    );
                }
            }
        });
        futures_util::future::join_all(tasks)
            .await
            .into_iter()
            .sum::<usize>()
    });
    let took = started.elapsed();
    eprintln!(
        "{registered} registrations through the replicated registry (3 members, {clients} \
         clients) in {:.1}s: {:.0}/s",
        took.as_secs_f64(),
        registered as f64 / took.as_secs_f64()
    );
    assert!(wait_until(WAIT, || group
        .homes
        .iter()
        .all(|h| raft(h).is_some_and(|r| r.agents == agents))));
    std::thread::sleep(Duration::from_secs(5));
    for (i, process) in group.processes.iter().enumerate() {
        let pid = process.as_ref().unwrap().pid();
        eprintln!(
            "{}{}: VmRSS {} MiB, VmHWM {} MiB",
            ELIGIBLE[i],
            if i == master { " (master)" } else { "" },
            rss_kib(pid, "VmRSS:") / 1024,
            rss_kib(pid, "VmHWM:") / 1024
        );
    }
}

/// Writes `count` agents (group `default`) straight into the agent tables of `db`.
async fn write_agents(db: &Path, count: usize) {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("INSERT OR IGNORE INTO agent_group (name) VALUES ('default')")
        .execute(&mut *tx)
        .await
        .unwrap();
    for n in 1..=count {
        let key = format!("{:064x}", n as u128 * 0x9e37_79b9_7f4a_7c15);
        sqlx::query(
            "INSERT INTO agent (id, name, ip, key, registered_at) VALUES (?1, ?2, 'any', ?3, ?4)",
        )
        .bind(n as i64)
        .bind(format!("agent-{n:06}"))
        .bind(key)
        .bind(1_700_000_000i64)
        .execute(&mut *tx)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO agent_group_assignment (agent_id, position, group_name) \
             VALUES (?1, 0, 'default')",
        )
        .bind(n as i64)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

#[test]
#[ignore = "figures by hand: see the module docs"]
fn memory_with_imported_agents() {
    let agents = env_or("WAZUH_FAILOVER_AGENTS", 100_000);
    let root = tempfile::tempdir().unwrap();
    let mut group = Group::spawn_later(root.path());
    // master-1 alone first: its database is created, then it stops and gets the agents.
    let mut first = group.spawn(0);
    assert!(wait_until(WAIT, || raft(&group.homes[0]).is_some()));
    assert!(first.stop(Duration::from_secs(10)).unwrap());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(write_agents(
        &group.homes[0].join("var/db/cluster.db"),
        agents,
    ));
    let started = Instant::now();
    group.processes[0] = Some(group.spawn(0));
    std::thread::sleep(Duration::from_secs(3));
    group.processes[1] = Some(group.spawn(1));
    group.processes[2] = Some(group.spawn(2));
    let mut master = group.master(&[0, 1, 2]);
    if master != 0 {
        // The upgrade procedure: the old master must lead while the registry is empty.
        let answer = query(&group.homes[master], TRANSFER_MASTER, "\"master-1\"");
        assert!(answer.is_ok(), "hand-over to master-1: {answer:?}");
        master = group.master(&[0, 1, 2]);
        assert_eq!(master, 0, "master-1 leads after the hand-over");
    }
    assert!(
        wait_until(Duration::from_secs(600), || group
            .homes
            .iter()
            .all(|h| raft(h).is_some_and(|r| r.agents == agents))),
        "not every member holds the imported agents"
    );
    eprintln!(
        "{agents} agents imported and replicated to 3 members {:.1}s after the restart",
        started.elapsed().as_secs_f64()
    );
    std::thread::sleep(Duration::from_secs(10));
    for (i, process) in group.processes.iter().enumerate() {
        let pid = process.as_ref().unwrap().pid();
        eprintln!(
            "{}{}: VmRSS {} MiB, VmHWM {} MiB",
            ELIGIBLE[i],
            if i == master { " (master)" } else { "" },
            rss_kib(pid, "VmRSS:") / 1024,
            rss_kib(pid, "VmHWM:") / 1024
        );
    }
}
