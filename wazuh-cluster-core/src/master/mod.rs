//! The master: accepts workers, validates their `hello`, answers keepalives, reaps silent
//! workers and keeps the node list.
//!
//! ```text
//! Listener --accept--> serve(connection) --Session--> Router<MasterConn>
//!                                                       hello  -> handshake
//!                                                       echo-c -> keepalive
//!                                                       get_nodes -> node list
//!                                                       ...    -> modules added by later issues
//! reaper (every check_worker_lastkeepalive) --closes--> silent sessions
//! ```

mod conn;
mod get_nodes;
mod handshake;
pub mod integrity;
mod keepalive;
mod registry;

use std::pin::pin;
use std::sync::{Arc, Mutex};

use rand::Rng;
use rand::rngs::StdRng;
use tokio::task::JoinSet;
use wazuh_cluster_proto::Command;
use wazuh_cluster_proto::command::names;

pub use conn::{MasterConn, MasterShared};
pub use get_nodes::{GetNodesArgs, get_nodes};

use futures_util::future::BoxFuture;

use crate::clock::Clock;
use crate::config::{IntegrityConfig, MasterConfig};
use crate::files::FileSource;
use crate::node::{NodeInfo, NodeType};
use crate::node_rng::node_rng;
use crate::session::{DuplicateRoute, Handler, Router, SessionHandle, SessionParts, session};
use crate::storage::Storage;
use crate::sync_state::SyncStateStore;
use crate::transport::{Connection, Listener};

/// Builds a [`Master`]: configuration, dependencies, and the handlers of every module.
pub struct MasterBuilder {
    config: MasterConfig,
    clock: Arc<dyn Clock>,
    storage: Arc<dyn Storage>,
    router: Router<MasterConn>,
    seed: Option<u64>,
    background: Vec<MasterBackground>,
    integrity: Option<integrity::IntegritySetup>,
}

/// A task a module runs beside the master for as long as it serves (see
/// [`MasterBuilder::background`]).
pub type MasterBackground = Box<dyn FnOnce(&MasterHandle) -> BoxFuture<'static, ()> + Send + Sync>;

impl MasterBuilder {
    /// A master with the handshake and keepalive handlers installed.
    pub fn new(config: MasterConfig, clock: Arc<dyn Clock>, storage: Arc<dyn Storage>) -> Self {
        let mut router = Router::new();
        router
            .route(names::HELLO, handshake::HelloHandler)
            .and_then(|r| r.route(names::ECHO_C, keepalive::EchoHandler))
            .and_then(|r| r.route(names::GET_NODES, get_nodes::GetNodesHandler))
            .expect("a fresh router has no routes");
        Self {
            config,
            clock,
            storage,
            router,
            seed: None,
            background: Vec::new(),
            integrity: None,
        }
    }

    /// Adds a task that runs beside the master while [`Master::run`] runs, started with the
    /// master's handle (how modules with timers plug in); it stops when the master stops.
    pub fn background(
        mut self,
        start: impl FnOnce(&MasterHandle) -> BoxFuture<'static, ()> + Send + Sync + 'static,
    ) -> Self {
        self.background.push(Box::new(start));
        self
    }

    /// Enables the file integrity synchronization: the master keeps the metadata table of
    /// `files`, answers the workers' integrity checks, sends them what differs and records the
    /// state of every file on every worker in `sync_states` (see [`integrity`]).
    pub fn integrity(
        mut self,
        files: Arc<dyn FileSource>,
        sync_states: Arc<dyn SyncStateStore>,
        config: IntegrityConfig,
    ) -> Self {
        self.integrity = Some(integrity::IntegritySetup {
            files,
            sync_states,
            config,
        });
        self
    }

    /// Seeds the master's randomness (connection counters) for reproducible runs.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Adds the handler of `command` (how later modules plug in).
    pub fn route(
        mut self,
        command: Command,
        handler: impl Handler<MasterConn>,
    ) -> Result<Self, DuplicateRoute> {
        self.router.route(command, handler)?;
        Ok(self)
    }

    /// Builds the master.
    pub fn build(mut self) -> Master {
        let started = self.clock.wall();
        let mut rng = node_rng(self.seed);
        let integrity = self.integrity.take().map(|setup| {
            let state = integrity::MasterIntegrity::new(setup, self.clock.clone(), rng.random());
            state.install(&mut self.router);
            let runner = state.clone();
            self.background
                .push(Box::new(move |_: &MasterHandle| Box::pin(runner.run())));
            state
        });
        Master {
            shared: Arc::new(MasterShared {
                config: self.config,
                clock: self.clock,
                storage: self.storage,
                started,
                registry: Mutex::default(),
                integrity,
            }),
            router: Arc::new(self.router),
            rng,
            background: self.background,
        }
    }
}

/// A master node. Query it through [`Master::handle`], run it with [`Master::run`].
pub struct Master {
    shared: Arc<MasterShared>,
    router: Arc<Router<MasterConn>>,
    rng: StdRng,
    background: Vec<MasterBackground>,
}

impl Master {
    /// A handle to query the running master.
    pub fn handle(&self) -> MasterHandle {
        MasterHandle {
            shared: self.shared.clone(),
        }
    }

    /// Serves the connections `listener` accepts until it closes. Dropping the future closes
    /// every connection and stops every task of the master.
    pub async fn run(mut self, mut listener: impl Listener) {
        self.forget_previous_sessions().await;
        let mut tasks = JoinSet::new();
        tasks.spawn(keepalive::reap_silent_workers(self.shared.clone()));
        let handle = self.handle();
        for start in std::mem::take(&mut self.background) {
            tasks.spawn(start(&handle));
        }
        let mut next_conn_id = 0u64;
        tracing::info!(
            tag = "Master",
            subtag = "Main",
            "Serving as master node {}.",
            self.shared.config.node_name
        );
        loop {
            tokio::select! {
                biased;
                Some(_) = tasks.join_next() => {}
                accepted = listener.accept() => match accepted {
                    Ok(Some(connection)) => {
                        next_conn_id += 1;
                        let counter_start = self.rng.random();
                        tasks.spawn(serve(self.shared.clone(), self.router.clone(), connection, next_conn_id, counter_start));
                    }
                    Ok(None) => break,
                    Err(error) => tracing::error!(tag = "Master", subtag = "Main", "Error accepting a connection: {error}"),
                },
            }
        }
    }
}

impl Master {
    /// Removes the node records a previous run of this master left: their sessions are gone.
    async fn forget_previous_sessions(&self) {
        let removed = match self.shared.storage.nodes().await {
            Ok(nodes) => nodes,
            Err(error) => {
                tracing::error!(tag = "Master", subtag = "Main", "{error}");
                return;
            }
        };
        for node in removed {
            if let Err(error) = self.shared.storage.remove_node(&node.name).await {
                tracing::error!(tag = "Master", subtag = "Main", "{error}");
            }
        }
    }
}

/// Runs one accepted connection to its end.
async fn serve(
    shared: Arc<MasterShared>,
    router: Arc<Router<MasterConn>>,
    connection: Connection,
    conn_id: u64,
    counter_start: u32,
) {
    let conn = Arc::new(MasterConn::new(shared.clone(), conn_id, connection.peer));
    let (handle, driver) = session(
        connection.transport,
        SessionParts {
            router,
            ctx: conn.clone(),
            clock: shared.clock.clone(),
            config: shared.config.session.clone(),
            counter_start,
            peer: connection.peer,
            tag: "Master".to_owned(),
        },
    );
    let mut run = pin!(driver.run());
    tokio::select! {
        biased;
        () = &mut run => {}
        () = shared.clock.sleep(shared.config.hello_deadline) => {
            if conn.worker_name().is_none() {
                tracing::info!(tag = "Master", subtag = "Main",
                    "Closing the connection from {}: no valid hello within {:?}.", connection.peer, shared.config.hello_deadline);
                handle.close();
            }
            run.await;
        }
    }
    if let Some(name) = conn.worker_name() {
        let removed = shared.registry().remove_connection(&name, conn_id);
        if removed.is_some() {
            tracing::info!(
                tag = conn.tag().as_str(),
                subtag = "Main",
                "The worker {name} disconnected."
            );
            if let Err(error) = shared.storage.remove_node(&name).await {
                tracing::error!(tag = conn.tag().as_str(), subtag = "Main", "{error}");
            }
        }
    }
}

/// A cheap, cloneable view of a running master.
#[derive(Clone)]
pub struct MasterHandle {
    shared: Arc<MasterShared>,
}

impl std::fmt::Debug for MasterHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterHandle")
            .field("node_name", &self.shared.config.node_name)
            .finish_non_exhaustive()
    }
}

impl MasterHandle {
    /// The node list: the master first, then connected workers in connect order (what
    /// `cluster_control -l` and `get_nodes` show).
    pub fn nodes(&self) -> Vec<NodeInfo> {
        let config = &self.shared.config;
        let mut nodes = vec![NodeInfo {
            name: config.node_name.clone(),
            node_type: NodeType::Master,
            version: config.version.clone(),
            address: config.address.clone(),
            connected_since: self.shared.started,
            last_keepalive: None,
        }];
        nodes.extend(self.shared.registry().node_infos());
        nodes
    }

    /// Names of the connected workers, in connect order.
    pub fn worker_names(&self) -> Vec<String> {
        self.nodes().into_iter().skip(1).map(|n| n.name).collect()
    }

    /// How long ago the worker `name` sent its last keepalive, if it is connected.
    pub fn silence_of(&self, name: &str) -> Option<std::time::Duration> {
        let now = self.shared.clock.now();
        self.shared
            .registry()
            .get(name)
            .map(|e| now - e.last_keepalive)
    }

    /// The session of the connected worker `name`, to send it requests.
    pub fn worker_session(&self, name: &str) -> Option<SessionHandle> {
        self.shared.registry().get(name).map(|e| e.session.clone())
    }

    /// Sessions of every connected worker, by name.
    pub fn worker_sessions(&self) -> Vec<(String, SessionHandle)> {
        self.shared
            .registry()
            .sessions()
            .map(|(n, s)| (n.clone(), s.clone()))
            .collect()
    }

    /// The master's shared state (configuration, clock, storage).
    pub fn shared(&self) -> &Arc<MasterShared> {
        &self.shared
    }

    /// The integrity synchronization's state, if [`MasterBuilder::integrity`] enabled it.
    pub fn integrity(&self) -> Option<&integrity::MasterIntegrity> {
        self.shared.integrity.as_deref()
    }
}
