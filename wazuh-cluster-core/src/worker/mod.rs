//! The worker: connects to the master, says `hello`, keeps the connection alive, and reconnects
//! every `connection_retry` after a refusal, a failure or a disconnection. Every connection starts
//! from a clean state: its session, counter, pending requests and handlers are new.
//!
//! ```text
//! loop: Connector::connect -> Session(Router<WorkerConn>) -> hello -> keepalive until closed
//!       -> sleep connection_retry
//!       (a hello refused with 3070 "not the master" names the master: Connector::follow, and
//!       the next connect goes there at once)
//! modules' background tasks (integrity checks, agent-info, ...) run beside it
//! ```
//!
//! Every feature beyond the connection is a [`Module`] added with [`WorkerBuilder::module`].

mod keepalive;
mod status;

use std::pin::pin;
use std::sync::Arc;

use rand::Rng;
use rand::rngs::StdRng;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::{Hello, NodeType};

pub use status::WorkerStatus;

use tokio::task::JoinSet;

use crate::clock::Clock;
use crate::config::WorkerConfig;
use crate::module::{Module, ModuleContext, ModuleTasks, Role, plug};
use crate::node_rng::node_rng;
use crate::session::{DuplicateRoute, RequestError, Router, SessionHandle, SessionParts, session};
use crate::transport::{Connection, Connector};
use status::SharedStatus;

/// What every task of one worker shares.
pub struct WorkerShared {
    /// The worker's configuration.
    pub config: WorkerConfig,
    /// Its clock.
    pub clock: Arc<dyn Clock>,
    /// Its log tag, `Worker <name>`.
    pub tag: String,
    status: SharedStatus,
    sessions: tokio::sync::watch::Sender<u64>,
}

/// The context of the worker's connection to the master, given to its handlers.
pub struct WorkerConn {
    /// The worker's shared state.
    pub shared: Arc<WorkerShared>,
}

/// The worker role: its handlers see a [`WorkerConn`], its modules hold a [`WorkerHandle`].
#[derive(Debug)]
pub enum WorkerRole {}

impl Role for WorkerRole {
    type Conn = WorkerConn;
    type Handle = WorkerHandle;
}

/// Builds a [`Worker`]: configuration, dependencies, and its modules.
pub struct WorkerBuilder {
    shared: Arc<WorkerShared>,
    connector: Arc<dyn Connector>,
    router: Router<WorkerConn>,
    rng: StdRng,
    modules: ModuleTasks,
}

impl WorkerBuilder {
    /// A worker that reaches its master through `connector`.
    pub fn new(config: WorkerConfig, clock: Arc<dyn Clock>, connector: Arc<dyn Connector>) -> Self {
        Self {
            shared: Arc::new(WorkerShared {
                tag: format!("Worker {}", config.node_name),
                config,
                clock,
                status: SharedStatus::default(),
                sessions: tokio::sync::watch::Sender::new(0),
            }),
            connector,
            router: Router::new(),
            rng: node_rng(None),
            modules: Vec::new(),
        }
    }

    /// Seeds the worker's randomness (connection counters, the seeds of its modules) for
    /// reproducible runs. Call it before adding modules.
    pub fn seed(mut self, seed: u64) -> Self {
        self.rng = node_rng(Some(seed));
        self
    }

    /// Adds the module `make` builds from this worker's context (see [`crate::module`]): its
    /// handlers (requests the master sends) now, its background task when the worker runs.
    /// Returns the module, for the embedder to query or drive.
    pub fn module<M: Module<WorkerRole>>(
        &mut self,
        make: impl FnOnce(ModuleContext<WorkerRole>) -> Arc<M>,
    ) -> Result<Arc<M>, DuplicateRoute> {
        let module = make(ModuleContext {
            node: self.handle(),
            clock: self.shared.clock.clone(),
            node_name: self.shared.config.node_name.clone(),
            seed: self.rng.random(),
        });
        plug(&module, &mut self.router, &mut self.modules)?;
        Ok(module)
    }

    /// A handle to the worker being built (the same the built worker gives).
    pub fn handle(&self) -> WorkerHandle {
        WorkerHandle {
            shared: self.shared.clone(),
        }
    }

    /// Builds the worker.
    pub fn build(self) -> Worker {
        Worker {
            shared: self.shared,
            connector: self.connector,
            router: Arc::new(self.router),
            rng: self.rng,
            modules: self.modules,
        }
    }
}

/// A worker node. Query it through [`Worker::handle`], run it with [`Worker::run`].
pub struct Worker {
    shared: Arc<WorkerShared>,
    connector: Arc<dyn Connector>,
    router: Arc<Router<WorkerConn>>,
    rng: StdRng,
    modules: ModuleTasks,
}

impl Worker {
    /// A handle to query the running worker.
    pub fn handle(&self) -> WorkerHandle {
        WorkerHandle {
            shared: self.shared.clone(),
        }
    }

    /// Connects and stays connected forever. Dropping the future closes the connection.
    pub async fn run(mut self) {
        let mut background = JoinSet::new();
        for start in std::mem::take(&mut self.modules) {
            background.spawn(start());
        }
        let shared = self.shared.clone();
        let tag = shared.tag.as_str();
        let mut redirected_before = false;
        loop {
            match self.connector.connect().await {
                Ok(connection) => {
                    let counter_start = self.rng.random();
                    let ended = self.serve(connection, counter_start).await;
                    // Straight to the master a refusal named, unless the previous node
                    // redirected too (an election in progress: wait as after any refusal).
                    let follow_now = ended == Ended::Redirected && !redirected_before;
                    redirected_before = ended == Ended::Redirected;
                    if follow_now {
                        continue;
                    }
                }
                Err(error) => {
                    tracing::error!(
                        tag,
                        subtag = "Main",
                        "Could not connect to master: {error}."
                    );
                }
            }
            tracing::info!(
                tag,
                subtag = "Main",
                "Trying to connect to master again in {}s.",
                shared.config.connection_retry.as_secs()
            );
            shared.clock.sleep(shared.config.connection_retry).await;
        }
    }

    /// Runs one connection to its end.
    async fn serve(&self, connection: Connection, counter_start: u32) -> Ended {
        let shared = &self.shared;
        let tag = shared.tag.as_str();
        let (handle, driver) = session(
            connection.transport,
            SessionParts {
                router: self.router.clone(),
                ctx: Arc::new(WorkerConn {
                    shared: shared.clone(),
                }),
                clock: shared.clock.clone(),
                config: shared.config.session.clone(),
                counter_start,
                peer: connection.peer,
                tag: shared.tag.clone(),
            },
        );
        let mut run = pin!(driver.run());
        let ended = tokio::select! {
            biased;
            () = &mut run => {
                tracing::error!(tag, subtag = "Main", "The master closed the connection.");
                Ended::Closed
            }
            ended = self.handshake_then_keep_alive(&handle) => {
                run.await;
                ended
            }
        };
        let mut status = shared.status.lock();
        status.connected = false;
        status.master = None;
        ended
    }

    async fn handshake_then_keep_alive(&self, session: &SessionHandle) -> Ended {
        let shared = &self.shared;
        let tag = shared.tag.as_str();
        let config = &shared.config;
        let hello = match Hello::new(
            config.node_name.as_str(),
            config.cluster_name.as_str(),
            NodeType::Worker,
            config.version.as_str(),
        ) {
            Ok(hello) => hello,
            Err(error) => {
                tracing::error!(
                    tag,
                    subtag = "Main",
                    "Could not connect to master: {error}."
                );
                session.close();
                return Ended::Closed;
            }
        };
        match session.request(names::HELLO, hello.encode()).await {
            Ok(_) => {
                let mut status = shared.status.lock();
                status.connected = true;
                status.connected_since = Some(shared.clock.wall());
                status.last_keepalive_reply = None;
                status.last_handshake_error = None;
                status.sessions_established += 1;
                status.master = Some(session.clone());
                let established = status.sessions_established;
                drop(status);
                shared.sessions.send_replace(established);
                tracing::info!(tag, subtag = "Main", "Successfully connected to master.");
            }
            Err(error) => {
                let master = match &error {
                    RequestError::Peer { error, .. } => error.current_master(),
                    _ => None,
                };
                if let Some(master) = &master {
                    tracing::info!(
                        tag,
                        subtag = "Main",
                        "That node is not the master; following the master {} at {}.",
                        master.name,
                        master.address
                    );
                    self.connector.follow(master);
                } else {
                    tracing::error!(
                        tag,
                        subtag = "Main",
                        "Could not connect to master: {error}."
                    );
                }
                let redirected = master.is_some();
                if let RequestError::Peer { error, .. } = error {
                    shared.status.lock().last_handshake_error = Some(error);
                }
                session.close();
                return if redirected {
                    Ended::Redirected
                } else {
                    Ended::Closed
                };
            }
        }
        keepalive::keep_alive(shared, session).await;
        Ended::Closed
    }
}

/// How a connection to the master ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// Refused, failed or closed: retry after `connection_retry`.
    Closed,
    /// The node was not the master and named it: connect there at once.
    Redirected,
}

/// A cheap, cloneable view of a running worker.
#[derive(Clone)]
pub struct WorkerHandle {
    shared: Arc<WorkerShared>,
}

impl std::fmt::Debug for WorkerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerHandle")
            .field("node_name", &self.shared.config.node_name)
            .finish_non_exhaustive()
    }
}

impl WorkerHandle {
    /// The worker's current status.
    pub fn status(&self) -> WorkerStatus {
        self.shared.status.snapshot()
    }

    /// Watches the number of sessions the master accepted: it changes right after each
    /// successful `hello`, so a module can start its work on a new session at once.
    pub fn sessions(&self) -> tokio::sync::watch::Receiver<u64> {
        self.shared.sessions.subscribe()
    }

    /// The worker's name.
    pub fn name(&self) -> &str {
        &self.shared.config.node_name
    }
}
