//! Each `hello` rejection, with the exact payload a Wazuh master sends.

mod common;

use std::time::Duration;

use common::{cluster_error_json, internal_error_json, recv, send};
use wazuh_cluster_core::VersionRule;
use wazuh_cluster_core::testing::harness::SimCluster;
use wazuh_cluster_proto::command::names;

const WAIT: Duration = Duration::from_secs(5);

async fn hello_reply(sim: &mut SimCluster, payload: &[u8]) -> (String, String) {
    let mut conn = sim.connect_raw().await.expect("connect to the master");
    send(&mut conn, 77, names::HELLO, payload).await;
    let reply = recv(&mut conn, WAIT).await.expect("a reply to hello");
    assert_eq!(reply.counter, 77, "the reply reuses the request's counter");
    (
        reply.command.to_string(),
        String::from_utf8(reply.payload.to_vec()).unwrap(),
    )
}

#[tokio::test(start_paused = true)]
async fn every_rejection_code_has_wazuhs_exact_payload() {
    let mut sim = SimCluster::builder(SimCluster::seed_from_env(3)).build();
    sim.run_for(Duration::from_secs(2)).await;
    let cases: [(&[u8], String); 7] = [
        (
            b"worker01 wazuh worker 4.9.2",
            cluster_error_json(3028, Some("worker01")),
        ),
        (
            b"master01 wazuh worker 4.9.2",
            cluster_error_json(3029, None),
        ),
        (b"w9 other worker 4.9.2", cluster_error_json(3030, None)),
        (b"w9 wazuh worker 4.9.1", cluster_error_json(3031, None)),
        (
            b"../w9 wazuh worker 4.9.2",
            cluster_error_json(3060, Some("../w9")),
        ),
        (
            b"w9 wazuh worker",
            internal_error_json(
                1000,
                Some("not enough values to unpack (expected 4, got 3)"),
            ),
        ),
        (
            b"w9 wazuh worker 4.9.2 x",
            internal_error_json(1000, Some("too many values to unpack (expected 4)")),
        ),
    ];
    for (hello, expected) in cases {
        let (command, payload) = hello_reply(&mut sim, hello).await;
        let shown = String::from_utf8_lossy(hello);
        sim.check(
            command == "err",
            format!("hello {shown:?} answered {command}"),
        );
        sim.check(
            payload == expected,
            format!("hello {shown:?}: got {payload}, expected {expected}"),
        );
    }
    sim.check(
        sim.master().worker_names() == ["worker01"],
        "no refused worker registered",
    );
    let (command, payload) = hello_reply(&mut sim, b"w9 wazuh worker 4.9.2").await;
    sim.check(
        command == "ok" && payload == "Client w9 added",
        format!("{command} {payload}"),
    );
}

#[tokio::test(start_paused = true)]
async fn a_refused_worker_logs_the_decoded_error_and_retries_every_connection_retry() {
    let sim = SimCluster::builder(SimCluster::seed_from_env(4))
        .worker_config(|_, config| config.version = "4.9.1".to_owned())
        .build();
    sim.run_for(Duration::from_secs(35)).await;
    let status = sim.worker("worker01").status();
    sim.check(!status.connected, "a worker of another version stays out");
    let error = status.last_handshake_error.expect("the refusal is kept");
    sim.check(
        error.to_string() == "Error 3031 - Worker and master versions are not the same",
        format!("decoded error: {error}"),
    );
    sim.check(
        sim.master().worker_names().is_empty(),
        "master lists no refused worker",
    );
}

#[tokio::test(start_paused = true)]
async fn same_minor_rule_accepts_another_patch_level() {
    let sim = SimCluster::builder(SimCluster::seed_from_env(5))
        .master_config(|config| config.version_rule = VersionRule::SameMinor)
        .worker_config(|_, config| config.version = "4.9.1".to_owned())
        .build();
    sim.run_for(Duration::from_secs(3)).await;
    sim.check(
        sim.worker("worker01").status().connected,
        "4.9.1 joins a 4.9.2 master under SameMinor",
    );
}
