//! The master ingesting agent-info: 10 workers each send one `AgentInfoSync` envelope for their
//! share of 10k or 100k agents; one iteration decodes all ten envelopes and ingests each in one
//! store call (rows of registered agents only, newer-wins check included) into the agent store:
//! in memory, and the daemon's SQLite store on a file (WAL, `synchronous = NORMAL`). Wazuh's
//! Python master: about 0.4 s per cycle for 10k agents per worker (Wazuh issue #8056).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tokio::runtime::Runtime;
use wazuh_cluster_core::agents::agent_info::ingest;
use wazuh_cluster_core::agents::{
    AgentId, AgentIp, AgentKey, AgentRecord, AgentStore, MemoryAgentStore,
};
use wazuh_cluster_proto::payload::{AgentInfoRow, AgentInfoSync, DEFAULT_CHUNK_BYTES};
use wazuh_clusterd::storage::SqliteStorage;

const WORKERS: u32 = 10;
/// The master's clock during ingestion (Unix seconds), after every reported keepalive.
const NOW: i64 = 1_700_000_100;

fn envelopes(agents: u32) -> Vec<(String, Vec<u8>)> {
    let per_worker = agents / WORKERS;
    (0..WORKERS)
        .map(|w| {
            let node = format!("worker{:02}", w + 1);
            let rows: Vec<AgentInfoRow> = (0..per_worker)
                .map(|i| AgentInfoRow {
                    id: w * per_worker + i + 1,
                    name: Some(format!("agent{}", w * per_worker + i + 1)),
                    os_name: Some("Ubuntu".into()),
                    version: Some("Wazuh v4.9.2".into()),
                    node_name: Some(node.clone()),
                    last_keepalive: Some(1_700_000_000),
                    connection_status: Some("active".into()),
                    ..AgentInfoRow::default()
                })
                .collect();
            (
                node,
                AgentInfoSync::from_rows(&rows, DEFAULT_CHUNK_BYTES).encode(),
            )
        })
        .collect()
}

/// Registers agents 1..=`agents` in `store`.
async fn register(store: &dyn AgentStore, agents: u32) {
    for id in 1..=agents {
        store
            .insert_agent(&AgentRecord {
                id: AgentId(id),
                name: format!("agent{id}"),
                ip: AgentIp::Any,
                key: AgentKey::from_bytes([7; 32]),
                groups: Vec::new(),
                registered_at: 1_700_000_000,
            })
            .await
            .expect("register an agent");
    }
}

fn ingest_all(runtime: &Runtime, store: &dyn AgentStore, envelopes: &[(String, Vec<u8>)]) {
    runtime.block_on(async {
        for (node, envelope) in envelopes {
            let stats = ingest(store, Some(node), envelope, NOW)
                .await
                .expect("valid envelope");
            black_box(stats);
        }
    })
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    let mut group = c.benchmark_group("agent_info_ingest");
    group.sample_size(10);
    for agents in [10_000u32, 100_000] {
        let envelopes = envelopes(agents);
        group.throughput(Throughput::Elements(u64::from(agents)));
        let memory = MemoryAgentStore::new();
        runtime.block_on(register(&memory, agents));
        group.bench_with_input(BenchmarkId::new("memory", agents), &agents, |b, _| {
            b.iter(|| ingest_all(&runtime, &memory, &envelopes))
        });
        let home = tempfile::tempdir().expect("a temp dir");
        let sqlite = runtime
            .block_on(SqliteStorage::open_in_home(home.path()))
            .expect("open the db");
        runtime.block_on(register(&sqlite, agents));
        group.bench_with_input(BenchmarkId::new("sqlite_file", agents), &agents, |b, _| {
            b.iter(|| ingest_all(&runtime, &sqlite, &envelopes))
        });
        runtime.block_on(sqlite.close());
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
