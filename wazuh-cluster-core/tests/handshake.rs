//! Successful handshakes, the node list and keepalives keeping workers connected.

use std::time::Duration;

use wazuh_cluster_core::NodeType;
use wazuh_cluster_core::storage::Storage;
use wazuh_cluster_core::testing::harness::{MASTER_NAME, SimCluster};

#[tokio::test(start_paused = true)]
async fn several_workers_join_and_are_listed_master_first_in_connect_order() {
    let sim = SimCluster::builder(SimCluster::seed_from_env(1))
        .workers(4)
        .build();
    sim.run_for(Duration::from_secs(5)).await;

    let nodes = sim.master().nodes();
    let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
    sim.check(
        nodes.len() == 5,
        format!("five nodes listed, got {names:?}"),
    );
    sim.check(
        nodes[0].name == MASTER_NAME && nodes[0].node_type == NodeType::Master,
        "master first",
    );
    let mut workers: Vec<&str> = names[1..].to_vec();
    workers.sort();
    sim.check(
        workers == ["worker01", "worker02", "worker03", "worker04"],
        format!("workers {names:?}"),
    );
    for node in &nodes[1..] {
        sim.check(
            node.node_type == NodeType::Worker && node.version == "4.9.2",
            format!("{node:?}"),
        );
        sim.check(
            node.address == sim.env(&node.name).ip.to_string(),
            format!("address of {node:?}"),
        );
        sim.check(
            node.last_keepalive.is_some(),
            "registration counts as a keepalive",
        );
        let status = sim.worker(&node.name).status();
        sim.check(
            status.connected && status.sessions_established == 1,
            format!("{} connected", node.name),
        );
    }
    let recorded = sim.env(MASTER_NAME).storage.nodes().await.unwrap();
    sim.check(
        recorded.len() == 4,
        format!("storage records every worker: {recorded:?}"),
    );
}

#[tokio::test(start_paused = true)]
async fn keepalives_keep_workers_connected_for_hours() {
    let sim = SimCluster::builder(SimCluster::seed_from_env(2))
        .workers(3)
        .build();
    sim.run_for(Duration::from_secs(3 * 3600)).await;
    let master = sim.master();
    sim.check(
        master.worker_names().len() == 3,
        "all workers still connected",
    );
    for name in sim.worker_names() {
        let status = sim.worker(&name).status();
        sim.check(
            status.connected && status.sessions_established == 1,
            format!("{name} never reconnected"),
        );
        sim.check(
            status.last_keepalive_reply.is_some(),
            format!("{name} got keepalive replies"),
        );
        let silence = master.silence_of(&name).unwrap();
        sim.check(
            silence <= Duration::from_secs(61),
            format!("{name} silent {silence:?}"),
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_worker_asks_the_master_for_the_node_list() {
    let sim = SimCluster::builder(SimCluster::seed_from_env(6))
        .workers(2)
        .build();
    sim.run_for(Duration::from_secs(5)).await;
    let master = sim.worker("worker02").status().master.expect("connected");
    let args = r#"{"filter_node": null, "offset": 0, "limit": 500, "sort": null, "search": null, "select": ["name", "type"], "filter_type": "all", "distinct": false}"#;
    let reply = master
        .request(
            wazuh_cluster_proto::command::names::GET_NODES,
            args.as_bytes().to_vec(),
        )
        .await
        .expect("get_nodes answered");
    let reply: serde_json::Value = serde_json::from_slice(&reply.payload).unwrap();
    sim.check(reply["totalItems"] == 3, format!("{reply}"));
    sim.check(
        reply["items"][0] == serde_json::json!({"name": "master01", "type": "master"}),
        format!("{reply}"),
    );
    let error = master
        .request(
            wazuh_cluster_proto::command::names::GET_NODES,
            &br#"{"filter_node": ["nobody"]}"#[..],
        )
        .await
        .unwrap_err();
    sim.check(error.to_string().contains("1730"), format!("{error}"));
}
