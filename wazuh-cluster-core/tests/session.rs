//! The request/response session over an in-memory pair: counters, timeouts, late replies,
//! concurrency both ways, handler errors.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use common::session_end;
use futures_util::{SinkExt, StreamExt};
use wazuh_cluster_core::clock::Clock;
use wazuh_cluster_core::session::{
    Handler, HandlerResult, Reply, Request, RequestError, Router, SessionHandle,
};
use wazuh_cluster_core::testing::{VirtualClock, memory_pair};
use wazuh_cluster_proto::payload::WazuhException;
use wazuh_cluster_proto::{Command, Message};

const SLOW: Command = Command::from_static("slow");
const FAIL: Command = Command::from_static("fail");
const PING: Command = Command::from_static("ping");

/// Replies `ok` with the payload after sleeping as many seconds as the payload's first byte.
struct Slow(Arc<VirtualClock>);

#[async_trait]
impl Handler<()> for Slow {
    async fn handle(&self, _: &(), request: Request) -> HandlerResult {
        let secs = request.payload.first().copied().unwrap_or(0);
        self.0.sleep(Duration::from_secs(secs.into())).await;
        Ok(Some(Reply::ok(request.payload)))
    }
}

struct Fail;

#[async_trait]
impl Handler<()> for Fail {
    async fn handle(&self, _: &(), _: Request) -> HandlerResult {
        Err(WazuhException::cluster(3027).with_extra_message("tid-1"))
    }
}

/// Sends a `slow` request back to the peer and answers with the peer's reply.
struct PingBack;

#[async_trait]
impl Handler<()> for PingBack {
    async fn handle(&self, _: &(), request: Request) -> HandlerResult {
        let reply = request
            .session
            .request(SLOW, vec![1u8])
            .await
            .map_err(|e| WazuhException::internal(1000).with_extra_message(e.to_string()))?;
        Ok(Some(Reply::ok(reply.payload)))
    }
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn start(
    transport: wazuh_cluster_core::BoxTransport,
    clock: Arc<VirtualClock>,
    counter_start: u32,
) -> SessionHandle {
    let mut router = Router::new();
    router.route(SLOW, Slow(clock.clone())).unwrap();
    router.route(FAIL, Fail).unwrap();
    router.route(PING, PingBack).unwrap();
    session_end(transport, router, clock, counter_start, addr(1), "Test")
}

#[tokio::test(start_paused = true)]
async fn requests_both_ways_run_concurrently_and_replies_match_by_counter() {
    let clock = Arc::new(VirtualClock::default());
    let (a, b) = memory_pair(addr(1), addr(2));
    let a = start(a, clock.clone(), u32::MAX - 1);
    let b = start(b, clock.clone(), 7);
    let begin = clock.now();
    let (r1, r2, r3, r4) = tokio::join!(
        a.request(SLOW, vec![3u8, b'a']),
        a.request(SLOW, vec![1u8, b'b']),
        b.request(SLOW, vec![2u8, b'c']),
        b.request(PING, &b""[..]),
    );
    assert_eq!(&r1.unwrap().payload[..], &[3, b'a']);
    assert_eq!(&r2.unwrap().payload[..], &[1, b'b']);
    assert_eq!(&r3.unwrap().payload[..], &[2, b'c']);
    assert_eq!(&r4.unwrap().payload[..], &[1]);
    assert_eq!(
        clock.now() - begin,
        Duration::from_secs(3),
        "handlers ran concurrently"
    );
}

#[tokio::test(start_paused = true)]
async fn handler_errors_become_wazuh_json_and_unknown_commands_plain_err() {
    let clock = Arc::new(VirtualClock::default());
    let (a, b) = memory_pair(addr(1), addr(2));
    let a = start(a, clock.clone(), 0);
    let _b = start(b, clock, 0);
    match a.request(FAIL, &b""[..]).await {
        Err(RequestError::Peer { error, .. }) => {
            assert_eq!(
                error.to_string(),
                "Error 3027 - Unknown received task name: tid-1"
            )
        }
        other => panic!("expected a peer error, got {other:?}"),
    }
    match a.request(Command::from_static("nope"), &b""[..]).await {
        Err(RequestError::Peer { error, .. }) => {
            assert_eq!(error.code, 3000);
            assert_eq!(
                error.extra_message.as_deref(),
                Some("unknown command 'b'nope''")
            );
        }
        other => panic!("expected a peer error, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_timed_out_request_fails_with_3020_wording_and_its_late_reply_is_dropped() {
    let clock = Arc::new(VirtualClock::default());
    let (a, mut raw) = memory_pair(addr(1), addr(2));
    let a = start(a, clock.clone(), 41);
    let first = tokio::spawn({
        let a = a.clone();
        async move { a.request(SLOW, &b"x"[..]).await }
    });
    let request = raw.next().await.unwrap().unwrap();
    assert_eq!(
        request.counter, 42,
        "the first request takes the start counter plus one"
    );
    let error = first.await.unwrap().unwrap_err();
    assert!(
        matches!(error, RequestError::Timeout { timeout, .. } if timeout == Duration::from_secs(20))
    );
    assert!(
        error
            .to_string()
            .starts_with("Timeout sending request: slow")
    );

    raw.send(Message::new(
        42,
        wazuh_cluster_proto::command::names::OK,
        &b"late"[..],
    ))
    .await
    .unwrap();
    let second = tokio::spawn({
        let a = a.clone();
        async move { a.request(SLOW, &b"y"[..]).await }
    });
    let request = raw.next().await.unwrap().unwrap();
    assert_eq!(request.counter, 43);
    raw.send(Message::new(
        43,
        wazuh_cluster_proto::command::names::OK,
        &b"fresh"[..],
    ))
    .await
    .unwrap();
    assert_eq!(&second.await.unwrap().unwrap().payload[..], b"fresh");
    let nothing = tokio::time::timeout(Duration::from_secs(1), raw.next()).await;
    assert!(
        nothing.is_err(),
        "the late reply was neither answered nor dispatched: {nothing:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn closing_fails_pending_requests_and_ends_the_peer() {
    let clock = Arc::new(VirtualClock::default());
    let (a, mut raw) = memory_pair(addr(1), addr(2));
    let a = start(a, clock, 0);
    let pending = tokio::spawn({
        let a = a.clone();
        async move { a.request(SLOW, &b""[..]).await }
    });
    let _ = raw.next().await;
    a.close();
    assert!(matches!(
        pending.await.unwrap(),
        Err(RequestError::Closed { .. })
    ));
    assert!(
        raw.next().await.is_none(),
        "the peer sees the end of the stream"
    );
    a.closed().await;
    assert!(a.is_closed());
}
