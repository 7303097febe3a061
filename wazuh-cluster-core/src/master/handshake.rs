//! `hello`: the master's validation of a worker, in Wazuh's order with Wazuh's codes.
//!
//! 1. not exactly four space-separated fields: 1000 with Python's unpacking message;
//! 2. name outside `[A-Za-z0-9_-]+`: 3060 (Wazuh 4.14.6+, checked before registering);
//! 3. other malformed fields (not UTF-8, empty, unknown node type): 1000;
//! 4. name already connected: 3028, unless that session is stale (silent for longer than
//!    [`MasterConfig::stale_session_after`](crate::config::MasterConfig)), which is closed and
//!    replaced (Wazuh issues #1355 and #22926);
//! 5. the master's own name: 3029;
//! 6. another cluster: 3030;
//! 7. version refused by the [`VersionRule`](crate::config::VersionRule): 3031.
//!
//! Unlike Wazuh, which registers the worker before checks 6 and 7, a worker is registered only
//! once every check passed, so a refused worker never blocks its name. The reply to success is
//! `ok` `Client <name> added`.

use async_trait::async_trait;
use wazuh_cluster_proto::Command;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::error_codes;
use wazuh_cluster_proto::payload::{Hello, HelloError, WazuhException, validate_node_name};

use super::conn::MasterConn;
use super::registry::WorkerEntry;
use crate::session::{Gate, Handler, HandlerResult, Reply, Request};
use crate::storage::NodeRecord;

/// The master's admission rule: before a successful `hello` on a connection, nothing but
/// `hello` runs; anything else is refused with 3000 and the connection closes. Every handler
/// can then take the worker's identity from the session ([`MasterConn::worker_name`]).
pub(crate) struct HelloFirst;

impl Gate<MasterConn> for HelloFirst {
    fn admit(&self, conn: &MasterConn, command: &Command) -> Result<(), Box<WazuhException>> {
        if *command == names::HELLO || conn.worker_name().is_some() {
            return Ok(());
        }
        Err(Box::new(
            WazuhException::cluster(error_codes::CLUSTER).with_extra_message(format!(
                "{command} before a successful hello; a worker must send hello first"
            )),
        ))
    }
}

/// Handler of `hello`.
pub(crate) struct HelloHandler;

#[async_trait]
impl Handler<MasterConn> for HelloHandler {
    async fn handle(&self, conn: &MasterConn, request: Request) -> HandlerResult {
        hello(conn, request).await.inspect_err(|refused| {
            crate::telemetry::rejected(crate::telemetry::hello_rejection_cause(refused.code));
        })
    }
}

/// Checks `request` and registers the worker (see the module docs).
async fn hello(conn: &MasterConn, request: Request) -> HandlerResult {
    let shared = &conn.shared;
    let fields = request.payload.split(|&b| b == b' ').count();
    if fields != 4 {
        return Err(HelloError::FieldCount { found: fields }.to_exception());
    }
    let raw_name = request.payload.split(|&b| b == b' ').next().unwrap_or(&[]);
    validate_node_name(&String::from_utf8_lossy(raw_name)).map_err(|e| e.to_exception())?;
    let hello = Hello::decode(&request.payload).map_err(|e| e.to_exception())?;
    let name = hello.name().to_owned();
    let now = shared.clock.now();
    let wall = shared.clock.wall();
    let replaced =
        {
            let mut registry = shared.registry();
            if let Some(current) = conn.worker_name() {
                return Err(WazuhException::cluster(error_codes::DUPLICATE_WORKER)
                    .with_extra_message(current));
            }
            let replaced = match registry.get(&name) {
                Some(old) if now - old.last_keepalive > shared.config.stale_session_after => {
                    registry.remove(&name)
                }
                Some(_) => {
                    return Err(WazuhException::cluster(error_codes::DUPLICATE_WORKER)
                        .with_extra_message(name));
                }
                None => None,
            };
            if name == shared.config.node_name {
                return Err(WazuhException::cluster(error_codes::WORKER_NAMED_AS_MASTER));
            }
            if hello.cluster() != shared.config.cluster_name {
                return Err(WazuhException::cluster(error_codes::OTHER_CLUSTER));
            }
            if !shared
                .config
                .version_rule
                .accepts(&shared.config.version, hello.version())
            {
                return Err(WazuhException::cluster(error_codes::VERSION_MISMATCH));
            }
            registry.insert(
                name.clone(),
                WorkerEntry {
                    conn_id: conn.conn_id,
                    session: request.session.clone(),
                    version: hello.version().to_owned(),
                    address: conn.peer.ip().to_string(),
                    connected_since: wall,
                    last_keepalive: now,
                    last_keepalive_wall: wall,
                    seq: 0,
                },
            );
            conn.set_worker_name(name.clone());
            replaced
        };
    let tag = conn.tag();
    if let Some(old) = replaced {
        tracing::warn!(
            tag = tag.as_str(),
            subtag = "Main",
            "Replacing a stale session of {name}: no keep alives for {:.0}s.",
            (now - old.last_keepalive).as_secs_f64()
        );
        old.session.close();
    }
    tracing::info!(
        tag = tag.as_str(),
        subtag = "Main",
        "Client {name} added ({}).",
        conn.peer
    );
    let record = NodeRecord {
        name: name.clone(),
        node_type: crate::node::NodeType::Worker,
        version: hello.version().to_owned(),
        address: conn.peer.ip().to_string(),
        connected_since: wall,
    };
    if let Err(error) = shared.storage.record_node(record).await {
        tracing::error!(tag = tag.as_str(), subtag = "Main", "{error}");
    }
    Ok(Some(Reply::ok(format!("Client {name} added"))))
}
