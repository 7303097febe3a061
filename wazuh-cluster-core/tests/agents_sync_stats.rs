//! The master's per-worker agent sync stats ([`MasterAgents::sync_stats`]) on the simulated
//! cluster: agent-info ingestions, periodic agent-groups pushes the worker applied, and the
//! full resync a drifting worker asks for, each recorded and advancing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use wazuh_cluster_core::IntegrityConfig;
use wazuh_cluster_core::agents::{
    AgentApi, AgentEvent, AgentId, AgentStore, AgentsConfig, MasterAgents, MemoryAgentStore,
    SyncRun, WorkerAgents,
};
use wazuh_cluster_core::testing::harness::SimCluster;

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
                        Arc::new(MemoryAgentStore::new()),
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
