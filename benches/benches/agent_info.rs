//! The master ingesting agent-info: 10 workers each send one `AgentInfoSync` envelope for their
//! share of 10k or 100k agents; one iteration decodes all ten envelopes and applies every row to
//! the in-memory agent store (newer-wins check included). Wazuh's Python master: about 0.4 s
//! per cycle for 10k agents per worker (Wazuh issue #8056).

use std::collections::BTreeSet;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use wazuh_cluster_core::agents::agent_info::ingest;
use wazuh_cluster_core::agents::{AgentId, MemoryAgentStore};
use wazuh_cluster_proto::payload::{AgentInfoRow, AgentInfoSync, DEFAULT_CHUNK_BYTES};

const WORKERS: u32 = 10;

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

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    let mut group = c.benchmark_group("agent_info_ingest");
    group.sample_size(10);
    for agents in [10_000u32, 100_000] {
        let envelopes = envelopes(agents);
        let registered: BTreeSet<AgentId> = (1..=agents).map(AgentId).collect();
        let store = MemoryAgentStore::new();
        group.throughput(Throughput::Elements(u64::from(agents)));
        group.bench_with_input(BenchmarkId::new("memory", agents), &agents, |b, _| {
            b.iter(|| {
                runtime.block_on(async {
                    for (node, envelope) in &envelopes {
                        let stats = ingest(&store, &registered, Some(node), envelope)
                            .await
                            .expect("valid envelope");
                        black_box(stats);
                    }
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
