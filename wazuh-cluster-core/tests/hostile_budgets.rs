//! Budgets against a hostile but authenticated worker (it said `hello`), each with the input of
//! the security review: strings per session, files with no task, a metadata bomb under the
//! default limits, the worker's files freed when it leaves, and agent-info dated in the future.

mod flow;

use std::sync::Arc;
use std::time::Duration;

use flow::logs::Lines;
use flow::raw::Raw;
use flow::{ROUND, cluster_with, config, converge};
use wazuh_cluster_core::agents::agent_info::ingest;
use wazuh_cluster_core::agents::string_shares::NODE_STRING_BUDGET;
use wazuh_cluster_core::agents::{
    AgentId, AgentIp, AgentKey, AgentRecord, AgentStore, AgentsConfig, MasterAgents,
    MemoryAgentStore,
};
use wazuh_cluster_core::testing::SimCluster;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::{
    AgentInfoRow, AgentInfoSync, Blake2bHex, ContainerEncoder, DEFAULT_CHUNK_BYTES,
};

/// Says `hello` as `name` on a new raw connection.
async fn worker(sim: &mut SimCluster, name: &str) -> Raw {
    let mut raw = Raw::new(sim.connect_raw().await.expect("connect"));
    let hello = raw
        .request(
            names::HELLO,
            format!("{name} wazuh worker 4.9.2").as_bytes(),
        )
        .await;
    sim.check(
        hello.is_some_and(|m| m.command == names::OK),
        format!("{name}: hello accepted"),
    );
    raw
}

fn new_str(raw_len: u64) -> Vec<u8> {
    raw_len.to_string().into_bytes()
}

#[tokio::test(start_paused = true)]
async fn one_session_cannot_reserve_every_string_byte_or_slot() {
    let mut sim = SimCluster::builder(SimCluster::seed_from_env(97))
        .workers(0)
        .extend_master(|builder, env| {
            builder
                .module(|ctx| {
                    MasterAgents::new(
                        ctx,
                        Arc::new(MemoryAgentStore::new()),
                        env.files.clone(),
                        AgentsConfig::default(),
                        Some(3),
                    )
                })
                .expect("agents");
        })
        .build();
    sim.run_for(Duration::from_secs(1)).await;
    let mut evil = worker(&mut sim, "evil01").await;
    let full = evil
        .request(names::NEW_STR, &new_str(NODE_STRING_BUDGET as u64))
        .await;
    sim.check(!Raw::is_err(&full), "one string of the largest size");
    let more = evil.request(names::NEW_STR, &new_str(1)).await;
    sim.check(
        Raw::is_err(&more),
        "a second string past the node's budget is refused",
    );
    let text = String::from_utf8_lossy(&more.unwrap().payload).into_owned();
    sim.check(text.contains("bytes of strings pending"), text);

    // Another worker still has its share of the node's budget.
    let mut good = worker(&mut sim, "good01").await;
    let share = good.request(names::NEW_STR, &new_str(10 << 20)).await;
    sim.check(!Raw::is_err(&share), "another worker is not starved");

    // Slots: at most 8 pending strings per session, however small.
    let mut many = worker(&mut sim, "many01").await;
    for i in 0..8 {
        let reply = many.request(names::NEW_STR, &new_str(1)).await;
        sim.check(!Raw::is_err(&reply), format!("string {i} accepted"));
    }
    let ninth = many.request(names::NEW_STR, &new_str(1)).await;
    sim.check(Raw::is_err(&ninth), "a ninth pending string is refused");
}

#[tokio::test(start_paused = true)]
async fn files_come_only_for_a_task_and_are_freed_when_the_worker_leaves() {
    let mut sim = cluster_with(98, 0, config());
    sim.run_for(Duration::from_secs(2)).await;
    let mut evil = worker(&mut sim, "evil01").await;
    let before_task = evil
        .request(names::NEW_FILE, b"/queue/cluster/evil01/x.zip")
        .await;
    sim.check(
        Raw::is_err(&before_task),
        "new_file with no task is refused",
    );

    let granted = evil.request(names::SYN_I_W_M_P, b"").await.unwrap();
    sim.check(&granted.payload[..] == b"True", "permission granted");
    let _tid = evil.start_task(names::SYN_I_W_M).await;
    let started = evil
        .request(names::NEW_FILE, b"/queue/cluster/evil01/x.zip")
        .await;
    sim.check(!Raw::is_err(&started), "new_file within a task");
    let mut chunk = b"/queue/cluster/evil01/x.zip ".to_vec();
    chunk.extend(vec![7u8; 64 << 10]);
    let upd = evil.request(names::FILE_UPD, &chunk).await;
    sim.check(!Raw::is_err(&upd), "a chunk within the limit");
    let held = sim.master_integrity().status("evil01").unwrap().inbox_bytes;
    sim.check(
        held == 64 << 10,
        format!("the master holds the chunk: {held}"),
    );

    drop(evil);
    sim.run_for(Duration::from_secs(5)).await;
    let held = sim.master_integrity().status("evil01").unwrap().inbox_bytes;
    sim.check(held == 0, format!("freed when the worker left: {held}"));
}

#[tokio::test(start_paused = true)]
async fn a_metadata_bomb_is_refused_under_the_default_limits() {
    let (lines, _capture) = Lines::capture();
    let mut sim = cluster_with(99, 1, config());
    converge(&sim, Duration::from_secs(5) + ROUND * 2, "initial sync").await;
    let mut evil = worker(&mut sim, "evil01").await;
    let granted = evil.request(names::SYN_I_W_M_P, b"").await.unwrap();
    sim.check(&granted.payload[..] == b"True", "permission granted");
    let tid = evil.start_task(names::SYN_I_W_M).await;
    // 64 MiB of metadata, a few dozen KiB on the wire: far under the configured 2 GiB, far
    // over what a master with a dozen files accepts from a worker.
    let meta = serde_json::json!({
        "mod_time": 1.0, "cluster_item_key": "etc/", "merged": false,
        "hash": Blake2bHex::of(b"x").to_string(),
    });
    let bomb = serde_json::json!({"etc/client.keys": meta, "pad": "a".repeat(64 << 20)});
    let encoder = ContainerEncoder::new(1 << 30);
    let bytes = encoder.finish(&bomb).unwrap().bytes;
    sim.check(
        bytes.len() < 1 << 20,
        format!("small on the wire: {}", bytes.len()),
    );
    let (_, end) = evil
        .send_task_file(
            names::SYN_I_W_M_E,
            &tid,
            "/queue/cluster/evil01/bomb.zip",
            &bytes,
        )
        .await;
    sim.check(!Raw::is_err(&end), "the file itself arrives");
    evil.serve_for(Duration::from_secs(5)).await;
    let refused = lines.matching(&["evil01", "Refused the worker's integrity file"]);
    sim.check(
        refused
            .iter()
            .any(|l| l.contains("inflate") || l.contains("limit")),
        format!("refused for its inflated size: {refused:?}"),
    );
    sim.check(
        sim.master_integrity()
            .status("evil01")
            .is_some_and(|s| s.last_check.is_none()),
        "no check completed with the bomb",
    );
}

#[tokio::test]
async fn agent_info_dated_in_the_future_is_taken_as_now() {
    let store = MemoryAgentStore::new();
    store
        .insert_agent(&AgentRecord {
            id: AgentId(1),
            name: "a1".into(),
            ip: AgentIp::Any,
            key: AgentKey::from_bytes([7; 32]),
            groups: vec!["default".into()],
            registered_at: 1_700_000_000,
        })
        .await
        .unwrap();
    let now = 1_800_000_000;
    let row = AgentInfoRow {
        id: 1,
        last_keepalive: Some(now + 10 * 365 * 86_400),
        connection_status: Some("active".into()),
        ..AgentInfoRow::default()
    };
    let envelope = AgentInfoSync::from_rows(&[row], DEFAULT_CHUNK_BYTES).encode();
    ingest(&store, Some("evil01"), &envelope, now)
        .await
        .unwrap();
    let stored = store.infos().await.unwrap();
    assert_eq!(stored[0].last_keepalive, Some(now));
}
