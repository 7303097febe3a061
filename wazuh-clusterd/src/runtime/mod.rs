//! The running node: a multi-thread tokio runtime holding the master or the worker, the control
//! socket and the cluster database, until SIGTERM or SIGINT.
//!
//! Start: `DIR/queue/cluster` is emptied except the control socket (as Wazuh does), the database
//! `DIR/var/db/cluster.db` is opened (migrations applied), the synchronized folders of Wazuh's
//! `cluster.json` items are created if missing, the control socket is bound, then the role runs.
//! Stop: every task is dropped (connections closed, transfers abandoned), the socket file removed
//! and the database closed.
//!
//! Both roles run the file integrity synchronization over [`DiskFileSource`](crate::fs) rooted
//! at `DIR`, and the agent tasks over the same SQLite database (the master's registry, sync
//! states and agent-info; a worker's own agent-info and group assignments); timers come from
//! `<intervals>` ([`integrity_config`], [`agents_config`]). The master also watches its
//! synchronized folders ([`crate::watch`]) and recalculates its table as soon as one changes, so
//! a change reaches each worker at that worker's next `sync_integrity` check rather than after
//! `recalculate_integrity` as well.

mod files;
mod master;
mod queue;
mod settings;
mod signals;
mod worker;

use std::future::Future;
use std::pin::Pin;

use wazuh_cluster_proto::Fernet;

pub use settings::{agents_config, integrity_config, master_config, worker_config};

use crate::clock::SystemClock;
use crate::config::{ClusterConfig, NodeType};
use crate::control::server::ControlServer;
use crate::control::{self, ControlContext};
use crate::node::{NodeContext, NodeError};
use crate::storage::SqliteStorage;

/// A role ready to run, and the control context that looks at it.
pub(crate) struct Prepared {
    pub role: Pin<Box<dyn Future<Output = ()> + Send>>,
    pub control: ControlContext,
}

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
    let clock = SystemClock::new();
    let home = &context.home;
    queue::clean(home)?;
    let storage = SqliteStorage::open_in_home(home).await?;
    let fernet = Fernet::from_cluster_key(config.key.as_str())?;
    let prepared = match config.node_type {
        NodeType::Master => master::prepare(&config, home, clock, storage.clone(), fernet).await,
        NodeType::Worker => worker::prepare(&config, home, clock, storage.clone(), fernet),
    };
    let prepared = match prepared {
        Ok(prepared) => prepared,
        Err(error) => {
            storage.close().await;
            return Err(error);
        }
    };
    let socket = control::socket_path(home);
    let server = match ControlServer::bind(&socket) {
        Ok(server) => server,
        Err(source) => {
            storage.close().await;
            return Err(NodeError::ControlSocket {
                path: socket,
                source,
            });
        }
    };
    let serve_control = server.serve(control::commands::router(), prepared.control, clock);
    tokio::select! {
        () = prepared.role => {}
        () = serve_control => {}
        signal = signals::stop_requested() => {
            tracing::info!(tag = "Cluster", subtag = "Main", "Received {signal}: stopping the node.");
        }
    }
    storage.close().await;
    Ok(())
}
