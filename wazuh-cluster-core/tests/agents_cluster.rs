//! Agents on the simulated cluster: registration on the master and forwarded from workers,
//! deletion, groups and multigroups, agent-info and agents moving between workers.
//!
//! The file sync here is a stand-in (`sync_files` copies the master's synchronized files to the
//! workers at the moment the test chooses), so each test controls when `client.keys` arrives.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wazuh_cluster_core::agents::groups::multigroup_path;
use wazuh_cluster_core::agents::{
    AgentApi, AgentError, AgentEvent, AgentId, AgentsConfig, MasterAgents, MemoryAgentStore,
    WorkerAgents,
};
use wazuh_cluster_core::files::memory::MemoryFileSource;
use wazuh_cluster_core::integrity::items::ClusterItems;
use wazuh_cluster_core::testing::harness::{MASTER_NAME, SimCluster};

#[derive(Clone, Default)]
struct Nodes {
    files: Arc<Mutex<HashMap<String, Arc<MemoryFileSource>>>>,
    stores: Arc<Mutex<HashMap<String, Arc<MemoryAgentStore>>>>,
    masters: Arc<Mutex<Option<MasterAgents>>>,
    workers: Arc<Mutex<HashMap<String, WorkerAgents>>>,
}

impl Nodes {
    fn files(&self, name: &str) -> Arc<MemoryFileSource> {
        self.files
            .lock()
            .unwrap()
            .entry(name.to_owned())
            .or_insert_with(|| Arc::new(MemoryFileSource::new(ClusterItems::wazuh_default())))
            .clone()
    }

    fn store(&self, name: &str) -> Arc<MemoryAgentStore> {
        self.stores
            .lock()
            .unwrap()
            .entry(name.to_owned())
            .or_default()
            .clone()
    }

    fn master(&self) -> MasterAgents {
        self.masters.lock().unwrap().clone().unwrap()
    }

    fn worker(&self, name: &str) -> WorkerAgents {
        self.workers.lock().unwrap()[name].clone()
    }

    /// Copies the master's synchronized files to every worker (what integrity sync does).
    fn sync_files(&self, sim: &SimCluster) {
        let master = self.files(MASTER_NAME).snapshot();
        for name in sim.worker_names() {
            let worker = self.files(&name);
            for path in worker.snapshot().keys() {
                if !master.contains_key(path) {
                    worker.unplant(path);
                }
            }
            for (path, contents) in &master {
                worker.plant(path, contents);
            }
        }
    }

    fn bind_all(&self, sim: &SimCluster) {
        self.master().bind(sim.master());
        for name in sim.worker_names() {
            self.worker(&name).bind(sim.worker(&name));
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

fn cluster(seed: u64, workers: usize) -> (SimCluster, Nodes) {
    let nodes = Nodes::default();
    let (m, w) = (nodes.clone(), nodes.clone());
    let sim = SimCluster::builder(SimCluster::seed_from_env(seed))
        .workers(workers)
        .extend_master(move |builder, env| {
            let agents = MasterAgents::new(
                &env.name,
                m.store(&env.name),
                m.files(&env.name),
                env.clock.clone(),
                config(),
                Some(7),
            );
            let builder = agents.install(builder).unwrap();
            *m.masters.lock().unwrap() = Some(agents);
            builder
        })
        .extend_worker(move |builder, env| {
            let agents = WorkerAgents::new(
                &env.name,
                w.store(&env.name),
                w.files(&env.name),
                env.clock.clone(),
                config(),
                Some(11),
            );
            let builder = agents.install(builder).unwrap();
            w.workers.lock().unwrap().insert(env.name.clone(), agents);
            builder
        })
        .build();
    nodes.bind_all(&sim);
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

fn keepalive() -> AgentEvent {
    AgentEvent::Keepalive {
        version: Some("Wazuh v4.9.2".into()),
        os: Some("Ubuntu".into()),
    }
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
    let keys = nodes.files(MASTER_NAME).snapshot()["etc/client.keys"].clone();
    assert_eq!(
        String::from_utf8(keys).unwrap(),
        format!("{}\n{}\n", a.key_line(), b.key_line())
    );

    w1.create_group("web").await.unwrap();
    w2.assign_group(AgentId(1), "web").await.unwrap();
    assert_eq!(w2.list_groups().await.unwrap(), ["default", "web"]);
    let groups = vec!["default".to_owned(), "web".to_owned()];
    let master_files = nodes.files(MASTER_NAME).snapshot();
    assert!(master_files.contains_key("etc/shared/web/agent.conf"));
    assert!(master_files.contains_key(&multigroup_path(&groups)));

    nodes.sync_files(&sim);
    sim.run_for(Duration::from_secs(25)).await;
    for w in [&w1, &w2] {
        assert_eq!(
            w.agent_groups().await.unwrap(),
            vec![
                (AgentId(1), groups.clone()),
                (AgentId(2), vec!["default".to_owned()])
            ]
        );
    }

    // Unassign: agent 1 goes back to default alone; the multigroup file goes away.
    w1.unassign_group(AgentId(1), "default").await.unwrap();
    w1.unassign_group(AgentId(1), "web").await.unwrap();
    assert!(
        !nodes
            .files(MASTER_NAME)
            .snapshot()
            .contains_key(&multigroup_path(&groups))
    );
    nodes.sync_files(&sim);
    sim.run_for(Duration::from_secs(25)).await;
    for w in [&w1, &w2] {
        assert_eq!(
            w.agent_groups().await.unwrap()[0],
            (AgentId(1), vec!["default".to_owned()])
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
    nodes.sync_files(&sim);
    sim.run_for(Duration::from_secs(5)).await;
    for w in [&w1, &w2] {
        assert!(
            w.agent_groups()
                .await
                .unwrap()
                .iter()
                .all(|(id, _)| *id == AgentId(2))
        );
        assert!(w.infos().await.unwrap().iter().all(|i| i.id == AgentId(2)));
    }
    assert_eq!(w2.infos().await.unwrap().len(), 1, "agent 2's row stays");
    assert_eq!(
        w2.agent_groups().await.unwrap().len(),
        1,
        "agent 2's groups stay"
    );
}

#[tokio::test(start_paused = true)]
async fn groups_wait_for_the_key_before_applying() {
    let (sim, nodes) = cluster(2, 1);
    connected(&sim).await;
    let master = nodes.master();
    let w1 = nodes.worker("worker01");
    master.create_group("db").await.unwrap();
    master
        .register("agent-db", "any", &["db".to_owned()])
        .await
        .unwrap();
    sim.run_for(Duration::from_secs(15)).await;
    assert_eq!(
        w1.groups_waiting_for_keys(),
        [AgentId(1)],
        "no key yet: held back"
    );
    assert!(w1.agent_groups().await.unwrap().is_empty());
    nodes.sync_files(&sim);
    sim.run_for(Duration::from_secs(3)).await;
    assert_eq!(
        w1.agent_groups().await.unwrap(),
        [(AgentId(1), vec!["db".to_owned()])]
    );
    assert!(w1.groups_waiting_for_keys().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_worker_that_missed_pushes_resyncs_on_hash_mismatch() {
    let (mut sim, nodes) = cluster(3, 1);
    connected(&sim).await;
    let master = nodes.master();
    master.register("agent-x", "any", &[]).await.unwrap();
    nodes.sync_files(&sim);
    sim.stop("worker01");
    master.create_group("late").await.unwrap();
    master.assign_group(AgentId(1), "late").await.unwrap();
    nodes.sync_files(&sim);
    sim.run_for(Duration::from_secs(15)).await; // the changed row is pushed to nobody
    sim.start("worker01");
    nodes.bind_all(&sim);
    connected(&sim).await;
    let w1 = nodes.worker("worker01");
    sim.run_for(Duration::from_secs(60)).await;
    assert_eq!(
        w1.agent_groups().await.unwrap(),
        [(AgentId(1), vec!["default".to_owned(), "late".to_owned()])],
        "full resync after the mismatch limit"
    );
}

#[tokio::test(start_paused = true)]
async fn agent_moving_to_another_worker_and_stale_rows_do_not_win() {
    let (sim, nodes) = cluster(4, 2);
    connected(&sim).await;
    let master = nodes.master();
    master.register("mover", "any", &[]).await.unwrap();
    nodes.sync_files(&sim);
    sim.run_for(Duration::from_secs(3)).await;
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
    let w1 = nodes.worker("worker01");
    let refused = w1.report(AgentId(99), keepalive()).await.unwrap_err();
    assert!(
        matches!(refused, AgentError::NotInClientKeys { .. }),
        "{refused}"
    );
    assert!(refused.to_string().contains("099"));
    sim.partition("worker01", MASTER_NAME);
    let gone = sim
        .run_until(Duration::from_secs(300), |s| {
            !s.worker("worker01").status().connected
        })
        .await;
    sim.check(gone, "worker01 noticed the master is gone");
    let error = w1.register("lonely", "any", &[]).await.unwrap_err();
    assert!(
        matches!(error, AgentError::MasterUnreachable { .. }),
        "{error}"
    );
    assert!(
        nodes.files("worker01").snapshot().is_empty(),
        "nothing written locally"
    );
    sim.heal_all();
    connected(&sim).await;
    assert!(nodes.master().list_agents().await.unwrap().is_empty());
}

#[tokio::test]
async fn memory_store_passes_the_suite() {
    wazuh_cluster_core::agents::store_suite::check_agent_store(&MemoryAgentStore::new()).await;
}
