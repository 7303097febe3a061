//! The replicated registry's Raft storage on SQLite files (WAL, `synchronous = FULL`: every
//! commit is fsynced before it returns):
//! - `raft_log_append`: `SqliteLogStore::append` of one batch of registration entries (one
//!   transaction, one fsync per batch), for batches of 1, 64 and 512 entries;
//! - `raft_registrations`: 1,000 registrations proposed at once to the leader of a cluster of
//!   1 or 3 nodes in this process (in-memory network, each node on its own database file), until
//!   every one is committed, applied and answered. The goal: over 1,000/s.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures_util::future::join_all;
use openraft::entry::RaftEntry;
use openraft::impls::leader_id_adv::LeaderId;
use openraft::storage::{IOFlushed, RaftLogStorage};
use openraft::{BasicNode, Config, LogId};
use tempfile::TempDir;
use tokio::runtime::Runtime;
use wazuh_cluster_core::agents::{AgentIp, AgentKey};
use wazuh_cluster_core::replicated::memory::MemoryRouter;
use wazuh_cluster_core::replicated::{
    Applied, PeerNetwork, RegistryCommand, RegistryEntry, RegistryRaft,
};
use wazuh_clusterd::replicated::{RaftDb, SqliteStateMachine};
use wazuh_clusterd::storage::SqliteStorage;

type Node = RegistryRaft<SqliteStateMachine>;

/// Names never repeat across iterations (a repeated name would be refused, not registered).
static NEXT_NAME: AtomicU32 = AtomicU32::new(0);

fn registration() -> RegistryCommand {
    let n = NEXT_NAME.fetch_add(1, Ordering::Relaxed);
    RegistryCommand::RegisterAgent {
        id: None,
        name: format!("agent-{n:07}"),
        ip: AgentIp::Any,
        key: AgentKey::from_bytes([7; 32]),
        groups: Vec::new(),
        registered_at: 1_700_000_000,
    }
}

async fn open_db(dir: &TempDir) -> RaftDb {
    let storage = SqliteStorage::open_in_home(dir.path())
        .await
        .expect("database");
    RaftDb::open(&storage).await.expect("Raft connections")
}

fn log_append(c: &mut Criterion, runtime: &Runtime) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = runtime.block_on(open_db(&dir)).log_store();
    let next_index = AtomicU64::new(1);
    let mut group = c.benchmark_group("raft_log_append");
    group.sample_size(20);
    for batch in [1u64, 64, 512] {
        group.throughput(Throughput::Elements(batch));
        group.bench_with_input(
            BenchmarkId::new("sqlite_file", batch),
            &batch,
            |b, &batch| {
                b.iter(|| {
                    let first = next_index.fetch_add(batch, Ordering::Relaxed);
                    let entries: Vec<RegistryEntry> = (first..first + batch)
                        .map(|i| {
                            let leader = LeaderId {
                                term: 1,
                                node_id: 1,
                            };
                            RegistryEntry::new_normal(LogId::new(leader, i), registration())
                        })
                        .collect();
                    runtime
                        .block_on(store.append(entries, IOFlushed::noop()))
                        .expect("append");
                })
            },
        );
    }
    group.finish();
}

struct Cluster {
    _dirs: Vec<TempDir>,
    leader: Node,
    nodes: Vec<Node>,
}

async fn cluster(members: u64) -> Cluster {
    let config = Arc::new(Config::default().validate().expect("valid config"));
    let router = MemoryRouter::<SqliteStateMachine>::new();
    let mut dirs = Vec::new();
    let mut nodes = Vec::new();
    for id in 1..=members {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = open_db(&dir).await;
        let raft = Node::new(
            id,
            config.clone(),
            PeerNetwork::new(Arc::new(router.clone())),
            db.log_store(),
            db.state_machine().await.expect("state machine"),
        )
        .await
        .expect("Raft node");
        router.add(id, raft.clone());
        dirs.push(dir);
        nodes.push(raft);
    }
    let members: BTreeMap<u64, BasicNode> = (1..=members)
        .map(|id| (id, BasicNode::new(format!("127.0.0.1:{}", 1515 + id))))
        .collect();
    nodes[0].initialize(members).await.expect("initialize");
    let leader = nodes[0]
        .wait(Some(Duration::from_secs(10)))
        .metrics(|m| m.current_leader.is_some(), "leader")
        .await
        .expect("a leader")
        .current_leader
        .expect("leader");
    let leader = nodes[usize::try_from(leader - 1).expect("id")].clone();
    leader
        .wait(Some(Duration::from_secs(10)))
        .leader_with_quorum_acked(None, "lease")
        .await
        .expect("leader lease");
    Cluster {
        _dirs: dirs,
        leader,
        nodes,
    }
}

fn registrations(c: &mut Criterion, runtime: &Runtime) {
    const BURST: u64 = 1000;
    let mut group = c.benchmark_group("raft_registrations");
    group.sample_size(10);
    group.throughput(Throughput::Elements(BURST));
    for members in [1u64, 3] {
        let cluster = runtime.block_on(cluster(members));
        group.bench_with_input(
            BenchmarkId::new("sqlite_file_nodes", members),
            &members,
            |b, _| {
                b.iter(|| {
                    runtime.block_on(async {
                        let writes =
                            (0..BURST).map(|_| cluster.leader.client_write(registration()));
                        for answer in join_all(writes).await {
                            let answer = answer.expect("committed");
                            assert!(matches!(
                                answer.response().0,
                                Ok(Applied::Registered { .. })
                            ));
                        }
                    })
                })
            },
        );
        runtime.block_on(async {
            for node in &cluster.nodes {
                node.shutdown().await.expect("stop");
            }
        });
    }
    group.finish();
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    log_append(c, &runtime);
    registrations(c, &runtime);
}

criterion_group!(benches, bench);
criterion_main!(benches);
