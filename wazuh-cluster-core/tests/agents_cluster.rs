//! Agents on the simulated cluster with the real integrity sync: registration on the master
//! and forwarded from workers, deletion, groups and multigroups, agent-info and agents moving
//! between workers. `client.keys`, `etc/shared/` and `var/multigroups/` reach the workers
//! over the protocol, at the integrity sync's own pace.
//!
//! Every worker's store is [`Watched`]: it records any group assignment applied for an agent
//! whose key the worker's `client.keys` does not hold at that moment (Wazuh #29708), and the
//! master's store can hold registrations at a gate (to stop the master mid-request).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;
use wazuh_cluster_core::IntegrityConfig;
use wazuh_cluster_core::agents::client_keys::{CLIENT_KEYS_PATH, ClientKeys};
use wazuh_cluster_core::agents::groups::multigroup_path;
use wazuh_cluster_core::agents::{
    AgentApi, AgentError, AgentEvent, AgentId, AgentInfoRecord, AgentRecord, AgentStore,
    AgentsConfig, InfoIngested, MasterAgents, MemoryAgentStore, WorkerAgents,
};
use wazuh_cluster_core::clock::Clock;
use wazuh_cluster_core::files::memory::MemoryFileSource;
use wazuh_cluster_core::storage::StorageError;
use wazuh_cluster_core::testing::harness::{MASTER_NAME, SimBuilder, SimCluster};

/// A node's agent store that checks the key-before-groups rule, can hold insertions and can
/// make reads of every group assignment slow (counting how many run at once).
struct Watched {
    inner: MemoryAgentStore,
    /// The node's home, to read `client.keys` when groups are applied (workers).
    keys_of: Option<Arc<MemoryFileSource>>,
    violations: Mutex<Vec<String>>,
    inserts: Mutex<u32>,
    /// `false`: `insert_agent` waits until it turns `true`.
    gate: watch::Sender<bool>,
    /// How long a read of every group assignment takes (a slow database).
    groups_read_time: Mutex<Duration>,
    /// Reads of every group assignment running now, and the most that ever ran at once.
    groups_reads: Mutex<(usize, usize)>,
}

impl Watched {
    fn new(keys_of: Option<Arc<MemoryFileSource>>) -> Self {
        Self {
            inner: MemoryAgentStore::new(),
            keys_of,
            violations: Mutex::default(),
            inserts: Mutex::new(0),
            gate: watch::Sender::new(true),
            groups_read_time: Mutex::new(Duration::ZERO),
            groups_reads: Mutex::new((0, 0)),
        }
    }

    fn violations(&self) -> Vec<String> {
        self.violations.lock().unwrap().clone()
    }

    /// Records a violation when groups of `id` are applied before its key.
    fn check_key(&self, id: AgentId, groups: &[String]) {
        if let Some(files) = &self.keys_of
            && !groups.is_empty()
        {
            let keys = files
                .snapshot()
                .get(CLIENT_KEYS_PATH)
                .map(|bytes| ClientKeys::parse(bytes))
                .unwrap_or_else(|| ClientKeys::parse(b""));
            if !keys.contains(id) {
                self.violations
                    .lock()
                    .unwrap()
                    .push(format!("groups {groups:?} applied for {id} before its key"));
            }
        }
    }
}

#[async_trait]
impl AgentStore for Watched {
    async fn agents(&self) -> Result<Vec<AgentRecord>, StorageError> {
        self.inner.agents().await
    }
    async fn insert_agent(&self, agent: &AgentRecord) -> Result<(), StorageError> {
        let mut open = self.gate.subscribe();
        let _ = open.wait_for(|open| *open).await;
        *self.inserts.lock().unwrap() += 1;
        self.inner.insert_agent(agent).await
    }
    async fn upsert_agents(&self, agents: &[AgentRecord]) -> Result<(), StorageError> {
        self.inner.upsert_agents(agents).await
    }
    async fn remove_agent(&self, id: AgentId) -> Result<bool, StorageError> {
        self.inner.remove_agent(id).await
    }
    async fn set_agent_groups(&self, id: AgentId, groups: &[String]) -> Result<(), StorageError> {
        self.check_key(id, groups);
        self.inner.set_agent_groups(id, groups).await
    }
    async fn set_groups_of(
        &self,
        assignments: &[(AgentId, Vec<String>)],
    ) -> Result<(), StorageError> {
        for (id, groups) in assignments {
            self.check_key(*id, groups);
        }
        self.inner.set_groups_of(assignments).await
    }
    async fn agent_groups(&self) -> Result<Vec<(AgentId, Vec<String>)>, StorageError> {
        let read_time = *self.groups_read_time.lock().unwrap();
        {
            let mut reads = self.groups_reads.lock().unwrap();
            reads.0 += 1;
            reads.1 = reads.1.max(reads.0);
        }
        tokio::time::sleep(read_time).await;
        self.groups_reads.lock().unwrap().0 -= 1;
        self.inner.agent_groups().await
    }
    async fn groups(&self) -> Result<Vec<String>, StorageError> {
        self.inner.groups().await
    }
    async fn insert_group(&self, name: &str) -> Result<bool, StorageError> {
        self.inner.insert_group(name).await
    }
    async fn apply_info(&self, rows: &[AgentInfoRecord]) -> Result<usize, StorageError> {
        self.inner.apply_info(rows).await
    }
    async fn ingest_info(&self, rows: &[AgentInfoRecord]) -> Result<InfoIngested, StorageError> {
        self.inner.ingest_info(rows).await
    }
    async fn infos(&self) -> Result<Vec<AgentInfoRecord>, StorageError> {
        self.inner.infos().await
    }
    async fn infos_of(&self, ids: &[AgentId]) -> Result<Vec<AgentInfoRecord>, StorageError> {
        self.inner.infos_of(ids).await
    }
    async fn mark_silent_disconnected(&self, cutoff: i64, now: i64) -> Result<usize, StorageError> {
        self.inner.mark_silent_disconnected(cutoff, now).await
    }
}

/// The agents of every node; stores outlive restarts like a database.
#[derive(Clone, Default)]
struct Nodes {
    stores: Arc<Mutex<HashMap<String, Arc<Watched>>>>,
    masters: Arc<Mutex<Option<Arc<MasterAgents>>>>,
    workers: Arc<Mutex<HashMap<String, Arc<WorkerAgents>>>>,
}

impl Nodes {
    fn store(&self, name: &str, keys_of: Option<Arc<MemoryFileSource>>) -> Arc<Watched> {
        self.stores
            .lock()
            .unwrap()
            .entry(name.to_owned())
            .or_insert_with(|| Arc::new(Watched::new(keys_of)))
            .clone()
    }

    fn master(&self) -> Arc<MasterAgents> {
        self.masters.lock().unwrap().clone().unwrap()
    }

    fn worker(&self, name: &str) -> Arc<WorkerAgents> {
        self.workers.lock().unwrap()[name].clone()
    }

    /// Checks that no worker ever applied groups before the agent's key.
    fn check_keys_before_groups(&self, sim: &SimCluster) {
        for name in sim.worker_names() {
            let violations = self.store(&name, None).violations();
            sim.check(violations.is_empty(), format!("{name}: {violations:?}"));
        }
    }
}

fn config() -> AgentsConfig {
    AgentsConfig {
        agent_group_start_delay: Duration::ZERO,
        agent_groups_mismatch_limit: 2,
        keys_check_interval: Duration::from_secs(1),
        ..AgentsConfig::default()
    }
}

/// The longest a master change takes to reach every worker by integrity sync with Wazuh's
/// timers (check 9 s, recalculation 8 s, twice), plus the worker's look at its keys.
const FILES_ARRIVE: Duration = Duration::from_secs(60);

fn cluster(seed: u64, workers: usize) -> (SimCluster, Nodes) {
    cluster_with(seed, workers, |b| b)
}

/// [`cluster`] with more of the builder set by `adjust`.
fn cluster_with(
    seed: u64,
    workers: usize,
    adjust: impl FnOnce(SimBuilder) -> SimBuilder,
) -> (SimCluster, Nodes) {
    let nodes = Nodes::default();
    let (m, w) = (nodes.clone(), nodes.clone());
    let sim = adjust(SimCluster::builder(SimCluster::seed_from_env(seed)))
        .workers(workers)
        .integrity(IntegrityConfig::default())
        .extend_master(move |builder, env| {
            let agents = builder
                .module(|ctx| {
                    MasterAgents::new(
                        ctx,
                        m.store(&env.name, None),
                        env.files.clone(),
                        config(),
                        Some(7),
                    )
                })
                .unwrap();
            *m.masters.lock().unwrap() = Some(agents);
        })
        .extend_worker(move |builder, env| {
            let agents = builder
                .module(|ctx| {
                    WorkerAgents::new(
                        ctx,
                        w.store(&env.name, Some(env.files.clone())),
                        env.files.clone(),
                        config(),
                        Some(11),
                    )
                })
                .unwrap();
            w.workers.lock().unwrap().insert(env.name.clone(), agents);
        })
        .build();
    (sim, nodes)
}

async fn connected(sim: &SimCluster) {
    let all = sim
        .run_until(Duration::from_secs(30), |s| {
            s.worker_names()
                .iter()
                .all(|n| s.worker(n).status().connected)
        })
        .await;
    sim.check(all, "every worker connected");
}

/// Runs until every worker holds the master's synchronized files, then lets the workers read
/// them.
async fn files_arrive(sim: &SimCluster, what: &str) {
    let done = sim.run_until(FILES_ARRIVE, |s| s.all_converged()).await;
    sim.check(done, format!("{what}: files reached every worker"));
    sim.run_for(Duration::from_secs(2)).await;
}

/// Runs until `worker`'s applied group assignments are `expected` (at most `limit`).
async fn groups_become(
    sim: &SimCluster,
    worker: &WorkerAgents,
    expected: &[(AgentId, Vec<String>)],
    limit: Duration,
    what: &str,
) {
    let deadline = sim.clock().now() + limit;
    loop {
        let held = worker.agent_groups().await.unwrap();
        if held == expected {
            return;
        }
        sim.check(
            sim.clock().now() < deadline,
            format!("{what}: groups {held:?}, expected {expected:?}"),
        );
        sim.run_for(Duration::from_secs(1)).await;
    }
}

fn keepalive() -> AgentEvent {
    AgentEvent::Keepalive {
        version: Some("Wazuh v4.9.2".into()),
        os: Some("Ubuntu".into()),
    }
}

fn names(groups: &[&str]) -> Vec<String> {
    groups.iter().map(|g| (*g).to_owned()).collect()
}

#[tokio::test(start_paused = true)]
async fn register_forward_groups_and_delete_reach_every_worker() {
    let (sim, nodes) = cluster(1, 2);
    connected(&sim).await;
    let master = nodes.master();
    let w1 = nodes.worker("worker01");
    let w2 = nodes.worker("worker02");

    let a = master.register("agent-a", "any", &[]).await.unwrap();
    assert_eq!(a.id, AgentId(1));
    let b = w1.register("agent-b", "10.1.1.2", &[]).await.unwrap();
    assert_eq!(
        b.id,
        AgentId(2),
        "forwarded to the master, answered with its id"
    );
    assert_eq!(b.key.as_str().len(), 64);
    let dup = w2.register("agent-a", "any", &[]).await.unwrap_err();
    assert_eq!(dup.code(), 1705, "the master's duplicate-name error: {dup}");
    let dup_ip = master
        .register("agent-c", "10.1.1.2", &[])
        .await
        .unwrap_err();
    assert!(matches!(dup_ip, AgentError::DuplicateIp { .. }), "{dup_ip}");
    assert_eq!(
        master.list_agents().await.unwrap().len(),
        2,
        "refusals changed nothing"
    );
    let key_lines = format!("{}\n{}\n", a.key_line(), b.key_line());
    files_arrive(&sim, "two registrations").await;
    for name in [MASTER_NAME, "worker01", "worker02"] {
        let keys = sim.synced_files(name)[CLIENT_KEYS_PATH].clone();
        assert_eq!(String::from_utf8(keys).unwrap(), key_lines, "{name}");
    }

    // Group create, assign (a multigroup), unassign: each state reaches both workers in turn.
    w1.create_group("web").await.unwrap();
    w2.assign_group(AgentId(1), "web").await.unwrap();
    assert_eq!(w2.list_groups().await.unwrap(), ["default", "web"]);
    let both = names(&["default", "web"]);
    files_arrive(&sim, "group web and the multigroup").await;
    for name in ["worker01", "worker02"] {
        let files = sim.synced_files(name);
        assert!(files.contains_key("etc/shared/web/agent.conf"), "{name}");
        assert!(files.contains_key(&multigroup_path(&both)), "{name}");
    }
    let assigned = [
        (AgentId(1), both.clone()),
        (AgentId(2), names(&["default"])),
    ];
    for w in [&w1, &w2] {
        groups_become(&sim, w, &assigned, Duration::from_secs(30), "assign").await;
    }
    w1.unassign_group(AgentId(1), "default").await.unwrap();
    let web_only = [
        (AgentId(1), names(&["web"])),
        (AgentId(2), names(&["default"])),
    ];
    for w in [&w1, &w2] {
        groups_become(&sim, w, &web_only, Duration::from_secs(30), "unassign").await;
    }
    files_arrive(&sim, "multigroup removed").await;
    for name in ["worker01", "worker02"] {
        assert!(
            !sim.synced_files(name).contains_key(&multigroup_path(&both)),
            "{name} still has the multigroup"
        );
    }

    w1.report(AgentId(1), keepalive()).await.unwrap();
    w2.report(AgentId(2), keepalive()).await.unwrap();
    sim.run_for(Duration::from_secs(15)).await;
    let infos = master.infos().await.unwrap();
    assert_eq!(infos.len(), 2);
    assert_eq!(infos[0].node.as_deref(), Some("worker01"));
    assert_eq!(infos[1].node.as_deref(), Some("worker02"));

    // Delete agent 1 from worker02; once client.keys arrives every worker forgets it, only it.
    w2.delete(AgentId(1)).await.unwrap();
    assert_eq!(master.infos().await.unwrap().len(), 1);
    files_arrive(&sim, "deletion").await;
    for w in [&w1, &w2] {
        assert_eq!(
            w.agent_groups().await.unwrap(),
            [(AgentId(2), names(&["default"]))]
        );
        assert!(w.infos().await.unwrap().iter().all(|i| i.id == AgentId(2)));
    }
    assert!(w1.infos().await.unwrap().is_empty(), "agent 1's row went");
    assert_eq!(w2.infos().await.unwrap().len(), 1, "agent 2's row stays");
    nodes.check_keys_before_groups(&sim);
}

#[tokio::test(start_paused = true)]
async fn groups_never_apply_before_the_key_arrives() {
    let (sim, nodes) = cluster_with(2, 2, |b| b.unwatched_master_files());
    connected(&sim).await;
    files_arrive(&sim, "initial tree").await;
    let master = nodes.master();
    master.create_group("db").await.unwrap();
    // The groups push runs every 10 s, the integrity sync every 9 + 8 s: the assignment
    // usually reaches a worker before the key does, and must wait for it.
    let mut waited = false;
    for n in 0..4 {
        master
            .register(&format!("agent-db{n}"), "any", &names(&["db"]))
            .await
            .unwrap();
        for _ in 0..4 {
            sim.run_for(Duration::from_secs(1)).await;
            waited |= sim
                .worker_names()
                .iter()
                .any(|w| !nodes.worker(w).groups_waiting_for_keys().is_empty());
        }
    }
    sim.check(waited, "some assignment arrived before its key and waited");
    let expected: Vec<_> = (1..=4).map(|id| (AgentId(id), names(&["db"]))).collect();
    for name in sim.worker_names() {
        let worker = nodes.worker(&name);
        groups_become(&sim, &worker, &expected, FILES_ARRIVE, "assignments").await;
        assert!(worker.groups_waiting_for_keys().is_empty(), "{name}");
    }
    nodes.check_keys_before_groups(&sim);
}

#[tokio::test(start_paused = true)]
async fn a_worker_that_missed_pushes_resyncs_on_hash_mismatch() {
    let (mut sim, nodes) = cluster(3, 1);
    connected(&sim).await;
    let master = nodes.master();
    master.register("agent-x", "any", &[]).await.unwrap();
    files_arrive(&sim, "registration").await;
    sim.stop("worker01");
    master.create_group("late").await.unwrap();
    master.assign_group(AgentId(1), "late").await.unwrap();
    sim.run_for(Duration::from_secs(15)).await; // the changed row is pushed to nobody
    sim.start("worker01");
    connected(&sim).await;
    let w1 = nodes.worker("worker01");
    let expected = [(AgentId(1), names(&["default", "late"]))];
    groups_become(&sim, &w1, &expected, Duration::from_secs(90), "full resync").await;
    nodes.check_keys_before_groups(&sim);
}

/// Workers that ask for every group at once (their hash differs after a restart) share the
/// master's reads: the full reads run one at a time, each serving the workers queued behind
/// the one before, instead of one read per worker at once (25 at the setup's peak of a
/// 25-worker cluster held the agent store's connections until they timed out).
#[tokio::test(start_paused = true)]
async fn workers_asking_every_group_at_once_share_the_masters_reads() {
    let (mut sim, nodes) = cluster(8, 4);
    connected(&sim).await;
    let master = nodes.master();
    master.register("agent-x", "any", &[]).await.unwrap();
    files_arrive(&sim, "registration").await;
    let workers = sim.worker_names();
    let expected = [(AgentId(1), names(&["default"]))];
    for name in &workers {
        groups_become(&sim, &nodes.worker(name), &expected, FILES_ARRIVE, name).await;
        sim.stop(name);
        // A worker whose database lost the groups: only a full resync brings them back.
        let held = nodes.store(name, None);
        held.inner.set_agent_groups(AgentId(1), &[]).await.unwrap();
    }
    let store = nodes.store(MASTER_NAME, None);
    *store.groups_read_time.lock().unwrap() = Duration::from_secs(3);
    *store.groups_reads.lock().unwrap() = (0, 0);
    for name in &workers {
        sim.start(name);
    }
    connected(&sim).await;
    for name in &workers {
        let worker = nodes.worker(name);
        groups_become(&sim, &worker, &expected, Duration::from_secs(120), name).await;
    }
    let most = store.groups_reads.lock().unwrap().1;
    assert!(
        most <= 2,
        "{most} reads of every assignment ran at once on the master; at most the periodic push's \
         and one shared full read may"
    );
    nodes.check_keys_before_groups(&sim);
}

#[tokio::test(start_paused = true)]
async fn agent_moving_to_another_worker_and_stale_rows_do_not_win() {
    let (sim, nodes) = cluster(4, 2);
    connected(&sim).await;
    let master = nodes.master();
    master.register("mover", "any", &[]).await.unwrap();
    files_arrive(&sim, "registration").await;
    let (w1, w2) = (nodes.worker("worker01"), nodes.worker("worker02"));
    w1.report(AgentId(1), keepalive()).await.unwrap();
    sim.run_for(Duration::from_secs(12)).await;
    assert_eq!(
        master.infos().await.unwrap()[0].node.as_deref(),
        Some("worker01")
    );

    // worker01 is cut off; it still records a keepalive it cannot send.
    sim.partition("worker01", MASTER_NAME);
    w1.report(AgentId(1), keepalive()).await.unwrap();
    sim.run_for(Duration::from_secs(30)).await;
    // The agent moved to worker02, later.
    w2.report(AgentId(1), keepalive()).await.unwrap();
    sim.run_for(Duration::from_secs(12)).await;
    let info = master.infos().await.unwrap()[0].clone();
    assert_eq!(info.node.as_deref(), Some("worker02"));
    // worker01 comes back and sends its stale row: the master keeps worker02.
    sim.heal_all();
    sim.run_for(Duration::from_secs(150)).await;
    assert!(sim.worker("worker01").status().connected);
    assert_eq!(master.infos().await.unwrap()[0], info);
}

#[tokio::test(start_paused = true)]
async fn unknown_agents_and_unreachable_master_are_refused() {
    let (sim, nodes) = cluster(5, 1);
    connected(&sim).await;
    let master = nodes.master();
    master.register("known", "any", &[]).await.unwrap();
    let w1 = nodes.worker("worker01");
    // The key exists on the master but has not reached the worker yet.
    let early = w1.report(AgentId(1), keepalive()).await.unwrap_err();
    assert!(
        matches!(early, AgentError::NotInClientKeys { .. }),
        "{early}"
    );
    files_arrive(&sim, "registration").await;
    w1.report(AgentId(1), keepalive()).await.unwrap();
    let refused = w1.report(AgentId(99), keepalive()).await.unwrap_err();
    assert!(
        matches!(refused, AgentError::NotInClientKeys { .. }),
        "{refused}"
    );
    assert!(refused.to_string().contains("099"));
    let master_refused = master.report(AgentId(99), keepalive()).await.unwrap_err();
    assert!(
        matches!(master_refused, AgentError::NotInClientKeys { .. }),
        "{master_refused}"
    );

    sim.partition("worker01", MASTER_NAME);
    let gone = sim
        .run_until(Duration::from_secs(300), |s| {
            !s.worker("worker01").status().connected
        })
        .await;
    sim.check(gone, "worker01 noticed the master is gone");
    let before = sim.files("worker01").snapshot();
    let error = w1.register("lonely", "any", &[]).await.unwrap_err();
    assert!(
        matches!(error, AgentError::MasterUnreachable { .. }),
        "{error}"
    );
    assert_eq!(
        sim.files("worker01").snapshot(),
        before,
        "nothing written locally"
    );
    sim.heal_all();
    connected(&sim).await;
    assert_eq!(master.list_agents().await.unwrap().len(), 1);
}

/// A report naming many agents (what `wazuh-agent-sim` sends) records the agents of
/// `client.keys` together, refuses each other one alone, and reaches the master.
#[tokio::test(start_paused = true)]
async fn a_report_of_many_agents_records_the_known_and_refuses_the_others() {
    let (sim, nodes) = cluster(6, 1);
    connected(&sim).await;
    let master = nodes.master();
    for name in ["agent-a", "agent-b", "agent-c"] {
        master.register(name, "any", &[]).await.unwrap();
    }
    files_arrive(&sim, "registrations").await;
    let w1 = nodes.worker("worker01");
    let ids = [1, 2, 99, 3, 2].map(AgentId);
    let refused = w1.report_many(&ids, keepalive()).await.unwrap();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].0, AgentId(99));
    assert!(
        matches!(refused[0].1, AgentError::NotInClientKeys { .. }),
        "{}",
        refused[0].1
    );
    let held: Vec<AgentId> = w1.infos().await.unwrap().iter().map(|i| i.id).collect();
    assert_eq!(held, [1, 2, 3].map(AgentId));
    sim.run_for(Duration::from_secs(15)).await;
    let infos = master.infos().await.unwrap();
    assert_eq!(infos.len(), 3, "{infos:?}");
    assert!(infos.iter().all(|i| i.node.as_deref() == Some("worker01")));
    let on_master = master
        .report_many(&[AgentId(1), AgentId(77)], AgentEvent::Disconnected)
        .await
        .unwrap();
    assert_eq!(on_master.len(), 1);
    assert_eq!(on_master[0].0, AgentId(77));
}

#[tokio::test(start_paused = true)]
async fn a_stopped_master_leaves_no_request_running() {
    let (mut sim, nodes) = cluster(6, 1);
    connected(&sim).await;
    let store = nodes.store(MASTER_NAME, None);
    store.gate.send_replace(false);
    let w1 = nodes.worker("worker01");
    let request = tokio::spawn(async move { w1.register("held", "any", &[]).await });
    let reached = sim
        .run_until(Duration::from_secs(10), |_| store.gate.receiver_count() > 0)
        .await;
    sim.check(
        reached,
        "the forwarded registration reached the master's store",
    );
    sim.stop(MASTER_NAME);
    // Aborting a node's task reaches its nested tasks at their next poll: let it happen.
    sim.run_for(Duration::from_secs(1)).await;
    store.gate.send_replace(true);
    sim.run_for(Duration::from_secs(30)).await;
    assert_eq!(
        *store.inserts.lock().unwrap(),
        0,
        "the stopped master's task went on and registered the agent"
    );
    let answer = request.await.unwrap().unwrap_err();
    assert!(
        matches!(answer, AgentError::MasterUnreachable { .. }),
        "{answer}"
    );
    sim.start(MASTER_NAME);
    connected(&sim).await;
    assert!(nodes.master().list_agents().await.unwrap().is_empty());
}

#[tokio::test]
async fn memory_store_passes_the_suite() {
    wazuh_cluster_core::agents::store_suite::check_agent_store(&MemoryAgentStore::new()).await;
}
