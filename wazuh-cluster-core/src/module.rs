//! The one shape of every cluster feature: a [`Module`] of a [`Role`].
//!
//! A feature (integrity sync, agent-info, agent-groups, the agent registry, health, and whatever
//! comes next) is a type that implements `Module<MasterRole>`, `Module<WorkerRole>` or both. The
//! node's builder makes it from a [`ModuleContext`] (the node's handle, clock, name and a seed
//! drawn from the node's randomness), then:
//!
//! 1. [`Module::install`] adds the feature's command handlers to the role's router;
//! 2. [`Module::run`] is the feature's background task (timers, transfers it started), run
//!    beside the node for as long as the node runs and dropped with it.
//!
//! ```text
//! builder.module(|ctx| Feature::new(ctx, ...))  -> Arc<Feature>   (kept by the embedder)
//!     install(router)   handlers see the role's per-connection context (MasterConn/WorkerConn)
//!     run()             started by Master::run / Worker::run, ends with them
//! ```
//!
//! A module holds the node's handle from birth, so nothing is bound late. A role change (a
//! master-eligible node becoming master, a master stepping down) builds the other role's node
//! with its own modules and drops the old one: modules never outlive their role.

use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::clock::Clock;
use crate::session::{DuplicateRoute, Router};

/// A role a node can run as; ties a module to the context its handlers and task receive.
pub trait Role: 'static {
    /// The per-connection context given to the role's handlers.
    type Conn: Send + Sync + 'static;
    /// A cheap, cloneable view of the running node.
    type Handle: Clone + Send + Sync + 'static;
}

/// What a module is made from: the node it belongs to.
pub struct ModuleContext<R: Role> {
    /// The node's handle (valid before the node runs; queries show it as not yet serving).
    pub node: R::Handle,
    /// The node's clock.
    pub clock: Arc<dyn Clock>,
    /// The node's name.
    pub node_name: String,
    /// A seed for the module's randomness, drawn from the node's generator (reproducible when
    /// the node is seeded).
    pub seed: u64,
}

/// A cluster feature of role `R` (see the module docs).
pub trait Module<R: Role>: Send + Sync + 'static {
    /// Adds the feature's command handlers. A command already routed by another module is
    /// refused with [`DuplicateRoute`].
    fn install(self: Arc<Self>, router: &mut Router<R::Conn>) -> Result<(), DuplicateRoute>;

    /// The feature's background task; it runs while the node runs and is dropped when the node
    /// stops. Features with nothing to do in the background return a future that ends at once.
    fn run(self: Arc<Self>) -> BoxFuture<'static, ()>;
}

/// The background tasks of a node's modules, started by the node's `run`.
pub(crate) type ModuleTasks = Vec<Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send + Sync>>;

/// Installs `module` on `router` and queues its task in `tasks`.
pub(crate) fn plug<R: Role, M: Module<R>>(
    module: &Arc<M>,
    router: &mut Router<R::Conn>,
    tasks: &mut ModuleTasks,
) -> Result<(), DuplicateRoute> {
    module.clone().install(router)?;
    let runner = module.clone();
    tasks.push(Box::new(move || runner.run()));
    Ok(())
}
