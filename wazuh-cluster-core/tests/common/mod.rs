//! Helpers shared by the harness tests.
#![allow(dead_code)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use wazuh_cluster_core::transport::Connection;
use wazuh_cluster_proto::{Command, Message};

/// The exact WazuhJSON payload of a `WazuhClusterError` with `code` and `extra`.
pub fn cluster_error_json(code: u32, extra: Option<&str>) -> String {
    exception_json("WazuhClusterError", "Wazuh Cluster Error", code, extra)
}

/// The exact WazuhJSON payload of a `WazuhInternalError` with `code` and `extra`.
pub fn internal_error_json(code: u32, extra: Option<&str>) -> String {
    exception_json("WazuhInternalError", "Wazuh Internal Error", code, extra)
}

fn exception_json(class: &str, title: &str, code: u32, extra: Option<&str>) -> String {
    let extra = match extra {
        Some(e) => format!("\"{e}\""),
        None => "null".to_owned(),
    };
    format!(
        "{{\"__wazuh_exception__\": {{\"__class__\": \"{class}\", \"__object__\": {{\"type\": \"about:blank\", \"title\": \"{title}\", \"code\": {code}, \"extra_message\": {extra}, \"extra_remediation\": null, \"cmd_error\": false, \"dapi_errors\": {{}}}}}}}}"
    )
}

/// Sends one message on a raw connection.
pub async fn send(conn: &mut Connection, counter: u32, command: Command, payload: &[u8]) {
    conn.transport
        .send(Message::new(counter, command, payload.to_vec()))
        .await
        .expect("send on a raw connection");
}

/// The next message on a raw connection, `None` if it closed or nothing came within `wait`.
pub async fn recv(conn: &mut Connection, wait: Duration) -> Option<Message> {
    tokio::select! {
        biased;
        item = conn.transport.next() => item.and_then(Result::ok),
        () = tokio::time::sleep(wait) => None,
    }
}

/// Whether the master closed the raw connection within `wait` (messages before the end are
/// skipped).
pub async fn closed_within(conn: &mut Connection, wait: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        tokio::select! {
            biased;
            item = conn.transport.next() => if item.is_none() { return true },
            () = tokio::time::sleep_until(deadline) => return false,
        }
    }
}

/// One end of an in-memory session pair, answering with `router`, its driver spawned.
pub fn session_end(
    transport: wazuh_cluster_core::BoxTransport,
    router: wazuh_cluster_core::session::Router<()>,
    clock: std::sync::Arc<wazuh_cluster_core::testing::VirtualClock>,
    counter_start: u32,
    peer: std::net::SocketAddr,
    tag: &str,
) -> wazuh_cluster_core::session::SessionHandle {
    use wazuh_cluster_core::session::{SessionParts, session};
    let (handle, driver) = session(
        transport,
        SessionParts {
            router: std::sync::Arc::new(router),
            ctx: std::sync::Arc::new(()),
            clock,
            config: wazuh_cluster_core::SessionConfig::default(),
            counter_start,
            peer,
            tag: tag.to_owned(),
        },
    );
    tokio::spawn(driver.run());
    handle
}
