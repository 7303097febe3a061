//! The master: accepts workers, validates their `hello`, answers keepalives, reaps silent
//! workers and keeps the node list.
//!
//! ```text
//! Listener --accept--> serve(connection) --Session--> Router<MasterConn>
//!                                                       hello  -> handshake
//!                                                       echo-c -> keepalive
//!                                                       get_nodes -> node list
//!                                                       ...    -> the modules' handlers
//! reaper (every check_worker_lastkeepalive) --closes--> silent sessions
//! modules' background tasks (integrity recalculation, agent-groups pushes, ...)
//! ```
//!
//! Every feature beyond the handshake is a [`Module`] added with [`MasterBuilder::module`].

mod conn;
mod get_nodes;
mod handshake;
mod keepalive;
mod registry;

use std::pin::pin;
use std::sync::{Arc, Mutex};

use rand::Rng;
use rand::rngs::StdRng;
use tokio::task::JoinSet;
use wazuh_cluster_proto::command::names;

pub use conn::{MasterConn, MasterShared};
pub use get_nodes::{GetNodesArgs, NodeItem, NodesReply, get_nodes};

use crate::clock::Clock;
use crate::config::MasterConfig;
use crate::module::{Module, ModuleContext, ModuleTasks, Role, plug};
use crate::node::{NodeInfo, NodeType};
use crate::node_rng::node_rng;
use crate::session::{DuplicateRoute, Router, SessionHandle, SessionParts, session};
use crate::storage::Storage;
use crate::transport::{Connection, Listener};

/// Departures a slow module may miss before it is told it lagged (it then frees what it holds
/// for every worker that is not connected).
const DEPARTURES_BACKLOG: usize = 1024;

/// Builds a [`Master`]: configuration, dependencies, and its modules.
pub struct MasterBuilder {
    shared: Arc<MasterShared>,
    router: Router<MasterConn>,
    rng: StdRng,
    modules: ModuleTasks,
}

/// The master role: its handlers see a [`MasterConn`], its modules hold a [`MasterHandle`].
#[derive(Debug)]
pub enum MasterRole {}

impl Role for MasterRole {
    type Conn = MasterConn;
    type Handle = MasterHandle;
}

impl MasterBuilder {
    /// A master with the handshake, keepalive and node list handlers installed.
    pub fn new(config: MasterConfig, clock: Arc<dyn Clock>, storage: Arc<dyn Storage>) -> Self {
        let mut router = Router::new();
        router
            .gate(handshake::HelloFirst)
            .route(names::HELLO, handshake::HelloHandler)
            .and_then(|r| r.route(names::ECHO_C, keepalive::EchoHandler))
            .and_then(|r| r.route(names::GET_NODES, get_nodes::GetNodesHandler))
            .expect("a fresh router has no routes");
        Self {
            shared: Arc::new(MasterShared {
                config,
                started: clock.wall(),
                clock,
                storage,
                registry: Mutex::default(),
                departures: tokio::sync::broadcast::Sender::new(DEPARTURES_BACKLOG),
            }),
            router,
            rng: node_rng(None),
            modules: Vec::new(),
        }
    }

    /// Seeds the master's randomness (connection counters, the seeds of its modules) for
    /// reproducible runs. Call it before adding modules.
    pub fn seed(mut self, seed: u64) -> Self {
        self.rng = node_rng(Some(seed));
        self
    }

    /// Adds the module `make` builds from this master's context (see [`crate::module`]): its
    /// handlers now, its background task when the master runs. Returns the module, for the
    /// embedder to query or drive.
    pub fn module<M: Module<MasterRole>>(
        &mut self,
        make: impl FnOnce(ModuleContext<MasterRole>) -> Arc<M>,
    ) -> Result<Arc<M>, DuplicateRoute> {
        let module = make(ModuleContext {
            node: MasterHandle {
                shared: self.shared.clone(),
            },
            clock: self.shared.clock.clone(),
            node_name: self.shared.config.node_name.clone(),
            seed: self.rng.random(),
        });
        plug(&module, &mut self.router, &mut self.modules)?;
        Ok(module)
    }

    /// A handle to the master being built (the same the built master gives).
    pub fn handle(&self) -> MasterHandle {
        MasterHandle {
            shared: self.shared.clone(),
        }
    }

    /// Builds the master.
    pub fn build(self) -> Master {
        Master {
            shared: self.shared,
            router: Arc::new(self.router),
            rng: self.rng,
            modules: self.modules,
        }
    }
}

/// A master node. Query it through [`Master::handle`], run it with [`Master::run`].
pub struct Master {
    shared: Arc<MasterShared>,
    router: Arc<Router<MasterConn>>,
    rng: StdRng,
    modules: ModuleTasks,
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
        for start in std::mem::take(&mut self.modules) {
            tasks.spawn(start());
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
            let _ = shared.departures.send(name.clone());
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

    /// The names of workers whose session ends from now on, so a module frees what it holds
    /// for them (a lagging receiver should treat every worker not connected as gone).
    pub fn departures(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.shared.departures.subscribe()
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
}
