//! A peer that floods the master with unknown commands, stray replies or bad `hello`s after its
//! handshake gets answered (or ignored) and does no harm.

mod common;

use std::time::Duration;

use common::{recv, send};
use wazuh_cluster_core::testing::harness::SimCluster;
use wazuh_cluster_proto::Command;
use wazuh_cluster_proto::command::names;

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test(start_paused = true)]
async fn a_flood_of_unknown_commands_and_stray_replies_is_answered_without_harm() {
    let mut sim = SimCluster::builder(SimCluster::seed_from_env(30))
        .workers(2)
        .build();
    let mut conn = sim.connect_raw().await.unwrap();
    send(&mut conn, 1, names::HELLO, b"rogue wazuh worker 4.9.2").await;
    let reply = recv(&mut conn, WAIT).await.unwrap();
    sim.check(&reply.payload[..] == b"Client rogue added", "rogue joined");

    let unknown = [
        Command::new(b"bogus").unwrap(),
        Command::new(b"x\x00\xff'").unwrap(),
    ];
    for i in 0..500u32 {
        let command = unknown[i as usize % 2];
        send(&mut conn, 1000 + i, command, &i.to_be_bytes()).await;
    }
    for i in 0..200u32 {
        let command = [names::OK, names::ERR, names::OK_M, names::OK_C][i as usize % 4];
        send(&mut conn, 5000 + i, command, b"\xff\xfe garbage").await;
    }
    send(&mut conn, 9000, names::HELLO, b"rogue wazuh worker 4.9.2").await;
    send(&mut conn, 9001, names::ECHO_C, b"keepalive").await;

    for i in 0..500u32 {
        let reply = recv(&mut conn, WAIT)
            .await
            .expect("every unknown command is answered");
        let expected: &[u8] = if i % 2 == 0 {
            b"unknown command 'b'bogus''"
        } else {
            b"unknown command 'b\"x\\x00\\xff'\"'"
        };
        sim.check(
            reply.counter == 1000 + i
                && reply.command == names::ERR
                && &reply.payload[..] == expected,
            format!("reply {i}: {reply:?}"),
        );
    }
    let second_hello = recv(&mut conn, WAIT).await.unwrap();
    sim.check(
        second_hello.counter == 9000 && second_hello.command == names::ERR,
        format!("stray replies get no answer; a second hello is refused: {second_hello:?}"),
    );
    let echo = recv(&mut conn, WAIT).await.unwrap();
    sim.check(
        echo.counter == 9001 && echo.command == names::OK_M && &echo.payload[..] == b"keepalive",
        format!("the connection still works: {echo:?}"),
    );
    sim.check(
        recv(&mut conn, WAIT).await.is_none(),
        "nothing else was sent",
    );

    let mut names = sim.master().worker_names();
    names.sort();
    sim.check(
        names == ["rogue", "worker01", "worker02"],
        format!("listed {names:?}"),
    );
    sim.run_for(Duration::from_secs(200)).await;
    for name in ["worker01", "worker02"] {
        let status = sim.worker(name).status();
        sim.check(
            status.connected && status.sessions_established == 1,
            format!("{name} undisturbed"),
        );
    }
    sim.check(
        sim.master().silence_of("rogue").is_none(),
        "the rogue, silent since, was reaped",
    );
}

#[tokio::test(start_paused = true)]
async fn a_flood_before_hello_is_answered_and_the_connection_closed_at_the_deadline() {
    let mut sim = SimCluster::builder(SimCluster::seed_from_env(31)).build();
    let mut conn = sim.connect_raw().await.unwrap();
    for i in 0..300u32 {
        let payload: Vec<u8> = (0..(i % 40)).map(|b| (b * 37 + i) as u8).collect();
        send(&mut conn, i, names::HELLO, &payload).await;
    }
    for i in 0..300u32 {
        let reply = recv(&mut conn, WAIT)
            .await
            .expect("every bad hello is answered");
        sim.check(
            reply.counter == i && reply.command == names::ERR,
            format!("reply {i}: {reply:?}"),
        );
    }
    sim.check(
        common::closed_within(&mut conn, Duration::from_secs(40)).await,
        "closed at the hello deadline",
    );
    sim.check(
        sim.master().worker_names() == ["worker01"],
        "only the real worker is listed",
    );
}
