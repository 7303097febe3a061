//! Nothing but `hello` runs on the master before a successful `hello`: every other command,
//! routed or not, is refused with 3000 and the connection closes; the same commands work once
//! the worker said hello.

mod flow;

use std::time::Duration;

use flow::raw::Raw;
use wazuh_cluster_core::testing::harness::SimCluster;
use wazuh_cluster_proto::Command;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::WazuhException;

/// Commands a hostile peer could send before `hello` (agent registration, strings, agent-info,
/// integrity, file transfer, the node list, a keepalive, an unknown command).
const BEFORE_HELLO: [(Command, &[u8]); 9] = [
    (names::SENDSYNC, b"{\"daemon_name\": \"authd\"}"),
    (names::NEW_STR, b"1000"),
    (names::SYN_A_W_M_P, b""),
    (names::SYN_I_W_M_P, b""),
    (names::SYN_I_W_M, b""),
    (names::NEW_FILE, b"queue/cluster/x/y.zip"),
    (names::GET_NODES, b"{}"),
    (names::ECHO_C, b"keepalive"),
    (Command::from_static("bogus"), b""),
];

#[tokio::test(start_paused = true)]
async fn every_command_before_hello_is_refused_and_closes_the_connection() {
    let mut sim = SimCluster::builder(SimCluster::seed_from_env(90))
        .workers(0)
        .build();
    sim.run_for(Duration::from_secs(1)).await;
    for (command, payload) in BEFORE_HELLO {
        let mut raw = Raw::new(sim.connect_raw().await.expect("connect"));
        let reply = raw.request(command, payload).await;
        let reply = reply.unwrap_or_else(|| panic!("{command} before hello got no reply"));
        sim.check(reply.command == names::ERR, format!("{command}: {reply:?}"));
        let error = WazuhException::from_json(&reply.payload)
            .unwrap_or_else(|e| panic!("{command}: the refusal is not Wazuh JSON: {e}"));
        sim.check(
            error.code == 3000,
            format!("{command}: code {}", error.code),
        );
        sim.check(
            error.to_string().contains("hello first"),
            format!("{command}: {error}"),
        );
        sim.check(
            raw.next(Duration::from_secs(5)).await.is_none(),
            format!("{command}: the master kept the connection open"),
        );
        sim.check(
            sim.master().worker_names().is_empty(),
            "no worker registered",
        );
    }
}

#[tokio::test(start_paused = true)]
async fn after_hello_the_same_connection_serves_every_command() {
    let mut sim = SimCluster::builder(SimCluster::seed_from_env(91))
        .workers(0)
        .build();
    sim.run_for(Duration::from_secs(1)).await;
    let mut raw = Raw::new(sim.connect_raw().await.expect("connect"));
    let hello = raw
        .request(names::HELLO, b"evil01 wazuh worker 4.9.2")
        .await;
    sim.check(
        hello.is_some_and(|m| m.command == names::OK),
        "hello accepted",
    );
    let echo = raw.request(names::ECHO_C, b"keepalive").await;
    sim.check(
        echo.is_some_and(|m| m.command == names::OK_M),
        "keepalive answered after hello",
    );
    let nodes = raw.request(names::GET_NODES, b"{}").await;
    sim.check(
        nodes.is_some_and(|m| m.command == names::OK),
        "get_nodes answered after hello",
    );
    let unknown = raw.request(Command::from_static("bogus"), b"").await;
    sim.check(
        unknown
            .as_ref()
            .is_some_and(|m| m.command == names::ERR && m.payload.starts_with(b"unknown command")),
        format!("an unknown command after hello gets Wazuh's plain error: {unknown:?}"),
    );
    sim.check(
        sim.master().worker_names() == ["evil01"],
        "the connection stays registered",
    );
}
