//! The master's per-worker agent sync stats ([`MasterAgents::sync_stats`]) on the simulated
//! cluster: agent-info ingestions, periodic agent-groups pushes the worker applied, and the
//! full resync a drifting worker asks for, each recorded and advancing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Semaphore;
use wazuh_cluster_core::agents::{
    AgentApi, AgentEvent, AgentId, AgentInfoRecord, AgentRecord, AgentStore, AgentsConfig,
    InfoIngested, MasterAgents, MemoryAgentStore, SyncRun, WorkerAgents,
};
use wazuh_cluster_core::testing::harness::SimCluster;
use wazuh_cluster_core::{IntegrityConfig, StorageError};

const WORKER: &str = "worker01";

struct Nodes {
    master: Arc<MasterAgents>,
    worker: Arc<WorkerAgents>,
    worker_store: Arc<MemoryAgentStore>,
}

fn config() -> AgentsConfig {
    AgentsConfig {
        agent_group_start_delay: Duration::ZERO,
        agent_groups_mismatch_limit: 2,
        keys_check_interval: Duration::from_secs(1),
        ..AgentsConfig::default()
    }
}

fn cluster(seed: u64) -> (SimCluster, Nodes) {
    cluster_with(seed, Arc::new(MemoryAgentStore::new()))
}

fn cluster_with(seed: u64, master_store: Arc<dyn AgentStore>) -> (SimCluster, Nodes) {
    let master = Arc::new(Mutex::new(None));
    let worker = Arc::new(Mutex::new(None));
    let worker_store = Arc::new(MemoryAgentStore::new());
    let (m, w, ws) = (master.clone(), worker.clone(), worker_store.clone());
    let sim = SimCluster::builder(SimCluster::seed_from_env(seed))
        .workers(1)
        .integrity(IntegrityConfig::default())
        .extend_master(move |builder, env| {
            let agents = builder
                .module(|ctx| {
                    MasterAgents::new(
                        ctx,
                        master_store.clone(),
                        env.files.clone(),
                        config(),
                        Some(7),
                    )
                })
                .unwrap();
            *m.lock().unwrap() = Some(agents);
        })
        .extend_worker(move |builder, env| {
            let agents = builder
                .module(|ctx| {
                    WorkerAgents::new(ctx, ws.clone(), env.files.clone(), config(), Some(11))
                })
                .unwrap();
            *w.lock().unwrap() = Some(agents);
        })
        .build();
    let nodes = Nodes {
        master: master.lock().unwrap().clone().unwrap(),
        worker: worker.lock().unwrap().clone().unwrap(),
        worker_store,
    };
    (sim, nodes)
}

fn keepalive() -> AgentEvent {
    AgentEvent::Keepalive {
        version: Some("Wazuh v4.9.2".into()),
        os: None,
    }
}

/// Runs until `pick` of the worker's stats is a run that ended after `after`, and answers it.
async fn next_run(
    sim: &SimCluster,
    master: &MasterAgents,
    pick: fn(&wazuh_cluster_core::agents::WorkerAgentSync) -> Option<SyncRun>,
    after: Option<SyncRun>,
    what: &str,
) -> SyncRun {
    let newer =
        |run: Option<SyncRun>| run.filter(|r| after.is_none_or(|a| r.finished > a.finished));
    let seen = sim
        .run_until(Duration::from_secs(60), |_| {
            newer(master.sync_stats(WORKER).as_ref().and_then(pick)).is_some()
        })
        .await;
    sim.check(seen, format!("{what}: a newer run than {after:?}"));
    newer(master.sync_stats(WORKER).as_ref().and_then(pick)).unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_master_records_each_workers_agent_syncs() {
    let (sim, nodes) = cluster(3);
    let Nodes {
        master,
        worker,
        worker_store,
    } = nodes;
    let connected = sim
        .run_until(Duration::from_secs(30), |s| {
            s.worker(WORKER).status().connected
        })
        .await;
    sim.check(connected, "the worker connected");
    assert_eq!(master.sync_stats("nobody"), None);

    // Agent-groups: the periodic push (empty: nobody is registered) is applied and recorded.
    let first_groups = next_run(
        &sim,
        &master,
        |s| s.agent_groups,
        None,
        "first agent-groups push",
    )
    .await;
    assert!(first_groups.started <= first_groups.finished);

    // Agent-info: once the agent's key reached the worker, its keepalive is synced.
    let agent = master.register("web-01", "any", &[]).await.unwrap();
    let converged = sim
        .run_until(Duration::from_secs(60), |s| s.all_converged())
        .await;
    sim.check(converged, "client.keys reached the worker");
    sim.run_for(Duration::from_secs(2)).await;
    worker.report(agent.id, keepalive()).await.unwrap();
    let first_info = next_run(&sim, &master, |s| s.agent_info, None, "first agent-info").await;
    assert_eq!(first_info.chunks, 1, "one row, one chunk");
    worker.report(agent.id, keepalive()).await.unwrap();
    let second_info = next_run(
        &sim,
        &master,
        |s| s.agent_info,
        Some(first_info),
        "second agent-info",
    )
    .await;
    assert!(second_info.started > first_info.started);

    // A group assignment: the next push the worker applies carries that row.
    master.create_group("web").await.unwrap();
    master.assign_group(agent.id, "web").await.unwrap();
    let mut last = first_groups;
    let carried = loop {
        let run = next_run(&sim, &master, |s| s.agent_groups, Some(last), "groups push").await;
        if run.chunks >= 1 {
            break run;
        }
        last = run;
    };
    assert_eq!(carried.chunks, 1, "the worker applied the agent's row");

    // A worker that drifts (an assignment the master does not have) asks for every agent's
    // groups after two mismatching pushes; the full send is recorded and cleans the drift.
    assert_eq!(master.sync_stats(WORKER).unwrap().agent_groups_full, None);
    worker_store
        .set_agent_groups(AgentId(99), &["ghost".to_owned()])
        .await
        .unwrap();
    let full = next_run(
        &sim,
        &master,
        |s| s.agent_groups_full,
        None,
        "full agent-groups resync",
    )
    .await;
    assert_eq!(full.chunks, 1, "the one registered agent's row");
    let held = worker.agent_groups().await.unwrap();
    assert!(
        held.iter().all(|(id, _)| *id != AgentId(99)),
        "the full resync removed the drift: {held:?}"
    );
    let all = master.all_sync_stats();
    assert_eq!(all.keys().collect::<Vec<_>>(), [WORKER]);
    assert!(!all[WORKER].receiving_agent_info);
}

/// The master's store, whose agent-info ingests wait for a permit of `gate` (given back at
/// the end), counted, with the last keepalive each one wrote.
struct GatedStore {
    inner: MemoryAgentStore,
    gate: Semaphore,
    ingests: AtomicUsize,
    last_keepalive: Mutex<Option<i64>>,
}

impl GatedStore {
    fn closed() -> Self {
        Self {
            inner: MemoryAgentStore::new(),
            gate: Semaphore::new(0),
            ingests: AtomicUsize::new(0),
            last_keepalive: Mutex::new(None),
        }
    }

    fn ingests(&self) -> usize {
        self.ingests.load(Ordering::SeqCst)
    }

    fn last_keepalive(&self) -> Option<i64> {
        *self.last_keepalive.lock().unwrap()
    }
}

#[async_trait]
impl AgentStore for GatedStore {
    async fn agents(&self) -> Result<Vec<AgentRecord>, StorageError> {
        self.inner.agents().await
    }
    async fn insert_agent(&self, agent: &AgentRecord) -> Result<(), StorageError> {
        self.inner.insert_agent(agent).await
    }
    async fn upsert_agents(&self, agents: &[AgentRecord]) -> Result<(), StorageError> {
        self.inner.upsert_agents(agents).await
    }
    async fn remove_agent(&self, id: AgentId) -> Result<bool, StorageError> {
        self.inner.remove_agent(id).await
    }
    async fn set_agent_groups(&self, id: AgentId, groups: &[String]) -> Result<(), StorageError> {
        self.inner.set_agent_groups(id, groups).await
    }
    async fn set_groups_of(
        &self,
        assignments: &[(AgentId, Vec<String>)],
    ) -> Result<(), StorageError> {
        self.inner.set_groups_of(assignments).await
    }
    async fn agent_groups(&self) -> Result<Vec<(AgentId, Vec<String>)>, StorageError> {
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
        self.ingests.fetch_add(1, Ordering::SeqCst);
        let _permit = self.gate.acquire().await.unwrap();
        let ingested = self.inner.ingest_info(rows).await?;
        if let Some(row) = rows.last() {
            *self.last_keepalive.lock().unwrap() = row.last_keepalive;
        }
        Ok(ingested)
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

/// The master answers `syn_a_w_m` before it ingests, and while a worker's envelope is being
/// ingested it refuses that worker's next one (`syn_a_w_m_p` → `False`): one envelope per
/// worker in memory, however slow the store. The refused rows come on a later round.
#[tokio::test(start_paused = true)]
async fn one_envelope_per_worker_waits_and_refused_rows_come_later() {
    let store = Arc::new(GatedStore::closed());
    let (sim, nodes) = cluster_with(5, store.clone());
    let Nodes {
        master,
        worker,
        worker_store,
    } = nodes;
    let connected = sim
        .run_until(Duration::from_secs(30), |s| {
            s.worker(WORKER).status().connected
        })
        .await;
    sim.check(connected, "the worker connected");
    let agent = master.register("web-01", "any", &[]).await.unwrap();
    let converged = sim
        .run_until(Duration::from_secs(60), |s| s.all_converged())
        .await;
    sim.check(converged, "client.keys reached the worker");
    sim.run_for(Duration::from_secs(2)).await;

    worker.report(agent.id, keepalive()).await.unwrap();
    let ingesting = sim
        .run_until(Duration::from_secs(60), |_| store.ingests() == 1)
        .await;
    sim.check(ingesting, "the master started ingesting the first envelope");
    assert!(master.sync_stats(WORKER).unwrap().receiving_agent_info);

    // Later keepalives, over several agent-info rounds and past the worker's 20 s request
    // timeout: the master refuses them while the first envelope waits.
    sim.run_for(Duration::from_secs(5)).await;
    worker.report(agent.id, keepalive()).await.unwrap();
    sim.run_for(Duration::from_secs(60)).await;
    assert_eq!(
        store.ingests(),
        1,
        "no second envelope of the worker was taken"
    );
    assert_eq!(master.sync_stats(WORKER).unwrap().agent_info, None);
    assert!(sim.worker(WORKER).status().connected);

    // Once the store moves, the first envelope ends and the refused keepalive follows.
    store.gate.add_permits(1_000);
    let latest = worker_store.infos().await.unwrap()[0].last_keepalive;
    assert!(latest.is_some());
    let caught_up = sim
        .run_until(Duration::from_secs(60), |_| {
            store.last_keepalive() == latest
        })
        .await;
    sim.check(
        caught_up,
        format!("the master holds the last keepalive {latest:?}"),
    );
    assert!(store.ingests() >= 2);
    let stats = master.sync_stats(WORKER).unwrap();
    assert!(stats.agent_info.is_some());
    assert!(!stats.receiving_agent_info);
}
