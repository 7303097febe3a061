//! The running node: a multi-thread tokio runtime holding the master or the worker, the control
//! socket and the cluster database, until SIGTERM or SIGINT.
//!
//! Start: `DIR/queue/cluster` is emptied except the control socket (as Wazuh does), the database
//! `DIR/var/db/cluster.db` is opened (migrations applied), the synchronized folders of Wazuh's
//! `cluster.json` items are created if missing, the control socket is bound, then the role runs.
//! Stop: every task is dropped (connections closed, transfers abandoned), the socket file removed
//! and the database closed.
//!
//! The node runs in one role at a time under the [`supervisor`], the one place where a role
//! starts, stops and changes.
//!
//! Both roles run the file integrity synchronization over [`DiskFileSource`](crate::fs) rooted
//! at `DIR`, and the agent tasks over the same SQLite database (the master's registry, sync
//! states and agent-info; a worker's own agent-info and group assignments); timers come from
//! `<intervals>` ([`integrity_config`], [`agents_config`]). The master also watches its
//! synchronized folders ([`crate::watch`]) and recalculates its table as soon as one changes, so
//! a change reaches each worker at that worker's next `sync_integrity` check rather than after
//! `recalculate_integrity` as well.

mod error;
pub mod failover;
mod files;
mod master;
mod queue;
mod settings;
mod signals;
pub mod supervisor;
mod systemd;
mod worker;

use std::path::Path;

use tokio::sync::watch;
use wazuh_cluster_proto::Fernet;

pub use error::{NodeContext, NodeError};
pub use settings::{agents_config, integrity_config, master_config, worker_config};

use crate::clock::SystemClock;
use crate::config::{ClusterConfig, NodeType};
use crate::control::server::ControlServer;
use crate::control::{self, ControlContext};
use crate::net::PeerObserver;
use crate::operations::Operations;
use crate::skew::SkewBook;
use crate::storage::SqliteStorage;
use failover::FailoverNode;
use failover::standby::Standby;
use supervisor::{RoleStarter, Started};

/// Runs the node until a stop signal (see the module docs).
pub fn run(config: ClusterConfig, context: NodeContext) -> Result<(), NodeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("wazuh-clusterd")
        .build()
        .map_err(NodeError::Runtime)?;
    runtime.block_on(run_async(config, context))
}

async fn run_async(config: ClusterConfig, context: NodeContext) -> Result<(), NodeError> {
    let home = &context.home;
    queue::clean(home)?;
    let storage = SqliteStorage::open_in_home(home).await?;
    let outcome = serve(&config, home, storage.clone()).await;
    storage.close().await;
    outcome
}

/// Starts the configured role and the control socket, then runs until a stop signal.
async fn serve(
    config: &ClusterConfig,
    home: &Path,
    storage: SqliteStorage,
) -> Result<(), NodeError> {
    let clock = SystemClock::from_environment();
    let fernet = Fernet::from_cluster_key(config.key.as_str())?;
    let peers = PeerObserver::with_skew(SkewBook::new(
        config.operations.clock_skew_warning,
        role_tag(config),
    ));
    let master_eligible = config.failover && config.own_node.is_some();
    let failover = match master_eligible {
        true => {
            Some(FailoverNode::start(config, home, &storage, fernet.clone(), clock, &peers).await?)
        }
        false => None,
    };
    // The wanted role: fixed by <node_type> in the single-master mode; with failover, a
    // master-eligible node starts as standby and follows the election. The senders live as
    // long as the node, so the supervisor keeps the role until a stop signal.
    let first_role = match master_eligible {
        true => NodeType::Worker,
        false => config.node_type,
    };
    let (role_source, wanted) = watch::channel(first_role);
    let (master_source, master) = watch::channel(None);
    let roles = NodeRoles {
        config,
        home,
        clock,
        storage,
        fernet,
        peers,
        failover: failover.as_ref().map(|node| Standby {
            failover: node,
            master,
        }),
    };
    let follow = async {
        match &failover {
            Some(node) => node.follow(role_source, master_source).await,
            None => std::future::pending().await,
        }
    };
    let first = roles.start(first_role).await?;
    let (control_tx, control_rx) = watch::channel(first.control.clone());
    let socket = control::socket_path(home);
    let server = ControlServer::bind(&socket).map_err(|source| NodeError::ControlSocket {
        path: socket,
        source,
    })?;
    let operations = Operations::prepare(config, control_rx.clone(), roles.peers.clone()).await?;
    let announce = systemd::announce(control_rx.clone());
    let mut router = control::commands::router();
    control::commands::clock_skew::register(&mut router, roles.peers.skew())
        .expect("get_skew is registered once");
    if let Some(node) = &failover {
        control::commands::raft::register(&mut router, node.clone())
            .expect("the Raft control commands are registered once");
    }
    let serve_control = server.serve(router, control_rx, roles.clock);
    tokio::select! {
        () = supervisor::supervise(&roles, wanted, first, &control_tx) => {}
        () = serve_control => {}
        () = announce => {}
        () = operations.run() => {}
        () = follow => {}
        () = signals::reopen_logs_on_sighup() => {}
        signal = signals::stop_requested() => {
            tracing::info!(tag = "Cluster", subtag = "Main", "Received {signal}: stopping the node.");
        }
    }
    systemd::stopping();
    Ok(())
}

/// What every role of this node is started from.
struct NodeRoles<'a> {
    config: &'a ClusterConfig,
    home: &'a Path,
    clock: SystemClock,
    storage: SqliteStorage,
    fernet: Fernet,
    /// What every connection reports its traffic and its peer's clock to.
    peers: PeerObserver,
    /// With failover: the Raft membership, which makes the worker role a standby.
    failover: Option<Standby<'a>>,
}

impl RoleStarter<NodeType> for NodeRoles<'_> {
    type Control = ControlContext;
    type Error = NodeError;

    async fn start(&self, role: NodeType) -> Result<Started<ControlContext>, NodeError> {
        let (config, home, clock) = (self.config, self.home, self.clock);
        let (storage, fernet, peers) = (self.storage.clone(), self.fernet.clone(), &self.peers);
        let failover = self.failover.as_ref();
        match (role, failover) {
            (NodeType::Master, _) => {
                let node = failover.map(|standby| standby.failover);
                master::start(config, home, clock, storage, fernet, peers, node).await
            }
            (NodeType::Worker | NodeType::Client, Some(standby)) => {
                standby
                    .start(config, home, clock, storage, fernet, peers)
                    .await
            }
            (NodeType::Worker | NodeType::Client, None) => {
                worker::start(config, home, clock, storage, fernet, peers)
            }
        }
    }
}

/// The log tag of this node's role (`Master`, `Worker worker01`).
fn role_tag(config: &ClusterConfig) -> String {
    match config.node_type {
        NodeType::Master => "Master".to_owned(),
        NodeType::Worker | NodeType::Client => format!("Worker {}", config.node_name),
    }
}
