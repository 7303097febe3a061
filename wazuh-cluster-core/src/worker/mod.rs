//! The worker: connects to the master, says `hello`, keeps the connection alive, and reconnects
//! every `connection_retry` after a refusal, a failure or a disconnection. Every connection starts
//! from a clean state: its session, counter, pending requests and handlers are new.
//!
//! ```text
//! loop: Connector::connect -> Session(Router<WorkerConn>) -> hello -> keepalive until closed
//!       -> sleep connection_retry
//! ```

pub mod integrity;
mod keepalive;
mod status;

use std::pin::pin;
use std::sync::Arc;

use rand::Rng;
use rand::rngs::StdRng;
use wazuh_cluster_proto::Command;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::{Hello, NodeType};

pub use status::WorkerStatus;

use futures_util::future::BoxFuture;
use tokio::task::JoinSet;

use crate::clock::Clock;
use crate::config::{IntegrityConfig, WorkerConfig};
use crate::files::FileSource;
use crate::node_rng::node_rng;
use crate::session::{
    DuplicateRoute, Handler, RequestError, Router, SessionHandle, SessionParts, session,
};
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
    integrity: Option<Arc<integrity::WorkerIntegrity>>,
}

/// The context of the worker's connection to the master, given to its handlers.
pub struct WorkerConn {
    /// The worker's shared state.
    pub shared: Arc<WorkerShared>,
}

/// Builds a [`Worker`].
pub struct WorkerBuilder {
    config: WorkerConfig,
    clock: Arc<dyn Clock>,
    connector: Arc<dyn Connector>,
    router: Router<WorkerConn>,
    seed: Option<u64>,
    background: Vec<WorkerBackground>,
    integrity: Option<(Arc<dyn FileSource>, IntegrityConfig)>,
}

/// A task a module runs beside the worker for as long as it runs (see
/// [`WorkerBuilder::background`]).
pub type WorkerBackground = Box<dyn FnOnce(&WorkerHandle) -> BoxFuture<'static, ()> + Send + Sync>;

impl WorkerBuilder {
    /// A worker that reaches its master through `connector`.
    pub fn new(config: WorkerConfig, clock: Arc<dyn Clock>, connector: Arc<dyn Connector>) -> Self {
        Self {
            config,
            clock,
            connector,
            router: Router::new(),
            seed: None,
            background: Vec::new(),
            integrity: None,
        }
    }

    /// Adds a task that runs beside the worker while [`Worker::run`] runs, started with the
    /// worker's handle (how modules with timers plug in); it stops when the worker stops.
    pub fn background(
        mut self,
        start: impl FnOnce(&WorkerHandle) -> BoxFuture<'static, ()> + Send + Sync + 'static,
    ) -> Self {
        self.background.push(Box::new(start));
        self
    }

    /// Enables the file integrity synchronization: every `sync_integrity` the worker sends the
    /// metadata of `files` to the master and applies what the master sends back (see
    /// [`integrity`]).
    pub fn integrity(mut self, files: Arc<dyn FileSource>, config: IntegrityConfig) -> Self {
        self.integrity = Some((files, config));
        self
    }

    /// Seeds the worker's randomness (connection counters) for reproducible runs.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Adds the handler of `command`, a request the master sends (how later modules plug in).
    pub fn route(
        mut self,
        command: Command,
        handler: impl Handler<WorkerConn>,
    ) -> Result<Self, DuplicateRoute> {
        self.router.route(command, handler)?;
        Ok(self)
    }

    /// Builds the worker.
    pub fn build(mut self) -> Worker {
        let tag = format!("Worker {}", self.config.node_name);
        let mut rng = node_rng(self.seed);
        let integrity = self.integrity.take().map(|(files, config)| {
            let state = integrity::WorkerIntegrity::new(
                files,
                config,
                self.clock.clone(),
                &self.config.node_name,
                rng.random(),
            );
            state.install(&mut self.router);
            let runner = state.clone();
            self.background.push(Box::new(move |handle: &WorkerHandle| {
                Box::pin(runner.run(handle.clone()))
            }));
            state
        });
        Worker {
            shared: Arc::new(WorkerShared {
                config: self.config,
                clock: self.clock,
                tag,
                status: SharedStatus::default(),
                integrity,
            }),
            connector: self.connector,
            router: Arc::new(self.router),
            rng,
            background: self.background,
        }
    }
}

/// A worker node. Query it through [`Worker::handle`], run it with [`Worker::run`].
pub struct Worker {
    shared: Arc<WorkerShared>,
    connector: Arc<dyn Connector>,
    router: Arc<Router<WorkerConn>>,
    rng: StdRng,
    background: Vec<WorkerBackground>,
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
        let handle = self.handle();
        let mut background = JoinSet::new();
        for start in std::mem::take(&mut self.background) {
            background.spawn(start(&handle));
        }
        let shared = self.shared.clone();
        let tag = shared.tag.as_str();
        loop {
            match self.connector.connect().await {
                Ok(connection) => {
                    let counter_start = self.rng.random();
                    self.serve(connection, counter_start).await;
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
    async fn serve(&self, connection: Connection, counter_start: u32) {
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
        tokio::select! {
            biased;
            () = &mut run => {
                tracing::error!(tag, subtag = "Main", "The master closed the connection.");
            }
            () = self.handshake_then_keep_alive(&handle) => run.await,
        }
        let mut status = shared.status.lock();
        status.connected = false;
        status.master = None;
    }

    async fn handshake_then_keep_alive(&self, session: &SessionHandle) {
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
                return;
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
                drop(status);
                tracing::info!(tag, subtag = "Main", "Successfully connected to master.");
            }
            Err(error) => {
                tracing::error!(
                    tag,
                    subtag = "Main",
                    "Could not connect to master: {error}."
                );
                if let RequestError::Peer { error, .. } = error {
                    shared.status.lock().last_handshake_error = Some(error);
                }
                session.close();
                return;
            }
        }
        keepalive::keep_alive(shared, session).await;
    }
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

    /// The worker's name.
    pub fn name(&self) -> &str {
        &self.shared.config.node_name
    }

    /// The integrity synchronization's state, if [`WorkerBuilder::integrity`] enabled it.
    pub fn integrity(&self) -> Option<&integrity::WorkerIntegrity> {
        self.shared.integrity.as_deref()
    }
}
