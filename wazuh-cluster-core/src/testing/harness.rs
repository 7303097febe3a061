//! A deterministic in-memory cluster on virtual time: one master and N workers on a [`SimNet`].
//!
//! Run it inside `#[tokio::test(start_paused = true)]` (a current-thread runtime with tokio's
//! clock paused): minutes of cluster time pass in milliseconds, and a given seed replays the same
//! run. The seed is printed when the cluster is built and is part of every [`SimCluster::check`]
//! message; set `WAZUH_SIM_SEED` to replay it.
//!
//! ```no_run
//! # async fn demo() {
//! use std::time::Duration;
//! use wazuh_cluster_core::testing::harness::SimCluster;
//! let mut sim = SimCluster::builder(SimCluster::seed_from_env(7)).workers(3).build();
//! sim.run_for(Duration::from_secs(5)).await;
//! sim.check(sim.master().worker_names().len() == 3, "every worker connected");
//! sim.partition("worker01", "master01");
//! sim.run_for(Duration::from_secs(200)).await;
//! sim.heal_all();
//! sim.restart("worker02");
//! # }
//! ```
//!
//! Later capabilities add their modules through [`SimBuilder::extend_master`] and
//! [`SimBuilder::extend_worker`], which run at every (re)start of a node.
//!
//! Every node has a [`MemoryFileSource`] (its Wazuh home, kept across restarts like a disk) and
//! the master a [`MemorySyncStates`]; [`SimBuilder::integrity`] turns the integrity sync on, and
//! [`SimCluster::files`], [`SimCluster::synced_files`] and [`SimCluster::converged`] edit and
//! read the homes.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::task::JoinHandle;

use super::clock::VirtualClock;
use super::net::{ConnectError, LinkConfig, SimNet};
use super::storage::MemoryStorage;
use super::sync_states::MemorySyncStates;
use crate::clock::Clock;
use crate::config::{IntegrityConfig, MasterConfig, WorkerConfig};
use crate::files::ClusterItems;
use crate::files::FileSource;
use crate::files::memory::MemoryFileSource;
use crate::integrity::{MasterIntegrity, WorkerIntegrity};
use crate::master::{MasterBuilder, MasterHandle};
use crate::transport::Connection;
use crate::worker::{WorkerBuilder, WorkerHandle};

/// Environment variable that overrides the seed of [`SimCluster::seed_from_env`].
pub const SEED_ENV: &str = "WAZUH_SIM_SEED";
/// The master's name in a simulated cluster.
pub const MASTER_NAME: &str = "master01";
/// The port the simulated master listens on.
pub const CLUSTER_PORT: u16 = 1516;
/// The version every simulated node runs unless configured otherwise.
pub const VERSION: &str = "4.9.2";
/// The simulated cluster's name.
pub const CLUSTER_NAME: &str = "wazuh";

/// What a node's extension sees when the node is (re)built.
#[derive(Debug, Clone)]
pub struct NodeEnv {
    /// Node name.
    pub name: String,
    /// Node IP.
    pub ip: IpAddr,
    /// The cluster's virtual clock.
    pub clock: Arc<VirtualClock>,
    /// The node's database, kept across restarts.
    pub storage: Arc<MemoryStorage>,
    /// The node's Wazuh home (its synchronized files), kept across restarts.
    pub files: Arc<MemoryFileSource>,
    /// The node's file sync-state table (used on the master), kept across restarts.
    pub sync_states: Arc<MemorySyncStates>,
}

type MasterExtension = Arc<dyn Fn(&mut MasterBuilder, &NodeEnv) + Send + Sync>;
type MasterConfigEdit = Box<dyn Fn(&mut MasterConfig)>;
type WorkerConfigEdit = Box<dyn Fn(usize, &mut WorkerConfig)>;
type WorkerExtension = Arc<dyn Fn(&mut WorkerBuilder, &NodeEnv) + Send + Sync>;

/// Configures a [`SimCluster`].
pub struct SimBuilder {
    seed: u64,
    workers: usize,
    link: LinkConfig,
    master_config: MasterConfigEdit,
    worker_config: WorkerConfigEdit,
    extend_master: MasterExtension,
    extend_worker: WorkerExtension,
    integrity: Option<IntegrityConfig>,
    master_watched: bool,
}

impl SimBuilder {
    /// Turns the file integrity synchronization on in every node, with these timers.
    pub fn integrity(mut self, config: IntegrityConfig) -> Self {
        self.integrity = Some(config);
        self
    }

    /// Number of workers (`worker01`, `worker02`, ...; default 1).
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n;
        self
    }

    /// The link every pair of nodes starts with.
    pub fn link(mut self, link: LinkConfig) -> Self {
        self.link = link;
        self
    }

    /// Adjusts the master's configuration.
    pub fn master_config(mut self, f: impl Fn(&mut MasterConfig) + 'static) -> Self {
        self.master_config = Box::new(f);
        self
    }

    /// Adjusts the configuration of worker number `i` (0-based).
    pub fn worker_config(mut self, f: impl Fn(usize, &mut WorkerConfig) + 'static) -> Self {
        self.worker_config = Box::new(f);
        self
    }

    /// Adds modules to the master at every (re)start.
    pub fn extend_master(
        mut self,
        f: impl Fn(&mut MasterBuilder, &NodeEnv) + Send + Sync + 'static,
    ) -> Self {
        self.extend_master = Arc::new(f);
        self
    }

    /// Adds modules to every worker at every (re)start.
    pub fn extend_worker(
        mut self,
        f: impl Fn(&mut WorkerBuilder, &NodeEnv) + Send + Sync + 'static,
    ) -> Self {
        self.extend_worker = Arc::new(f);
        self
    }

    /// The master's home reports no change, as a daemon whose file watcher could not start:
    /// the master sees a change at its next periodic recalculation only (by default, every
    /// change is reported at once and recalculated).
    pub fn unwatched_master_files(mut self) -> Self {
        self.master_watched = false;
        self
    }

    /// Builds the cluster and starts every node. Call it inside a tokio runtime with paused time.
    pub fn build(self) -> SimCluster {
        eprintln!(
            "simulated cluster seed {seed}; replay with {SEED_ENV}={seed}",
            seed = self.seed
        );
        let clock = Arc::new(VirtualClock::default());
        let mut rng = StdRng::seed_from_u64(self.seed);
        let net = SimNet::new(rng.random(), clock.clone(), self.link);
        let master_ip = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let mut master_config = MasterConfig::new(MASTER_NAME, CLUSTER_NAME, VERSION);
        master_config.address = master_ip.to_string();
        (self.master_config)(&mut master_config);
        let master = NodeSlot::new(MASTER_NAME, master_ip, clock.clone());
        let mut workers = BTreeMap::new();
        for i in 0..self.workers {
            let name = format!("worker{:02}", i + 1);
            let mut config = WorkerConfig::new(name.as_str(), CLUSTER_NAME, VERSION);
            (self.worker_config)(i, &mut config);
            let ip = IpAddr::V4(Ipv4Addr::new(10, 0, 0, (i + 2) as u8));
            workers.insert(
                name.clone(),
                WorkerSlot {
                    config,
                    slot: NodeSlot::new(&name, ip, clock.clone()),
                    handle: None,
                    integrity: None,
                },
            );
        }
        let mut sim = SimCluster {
            seed: self.seed,
            rng,
            clock,
            net,
            master_config,
            master,
            master_handle: None,
            master_integrity: None,
            workers,
            extend_master: self.extend_master,
            extend_worker: self.extend_worker,
            integrity: self.integrity,
            master_watched: self.master_watched,
            next_raw_ip: 100,
        };
        sim.start(MASTER_NAME);
        let names: Vec<String> = sim.workers.keys().cloned().collect();
        for name in names {
            sim.start(&name);
        }
        sim
    }
}

struct NodeSlot {
    env: NodeEnv,
    task: Option<JoinHandle<()>>,
}

impl NodeSlot {
    fn new(name: &str, ip: IpAddr, clock: Arc<VirtualClock>) -> Self {
        Self {
            env: NodeEnv {
                name: name.to_owned(),
                ip,
                clock,
                storage: Arc::new(MemoryStorage::new()),
                files: Arc::new(MemoryFileSource::new(ClusterItems::wazuh_default())),
                sync_states: Arc::new(MemorySyncStates::new()),
            },
            task: None,
        }
    }

    fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

struct WorkerSlot {
    config: WorkerConfig,
    slot: NodeSlot,
    handle: Option<WorkerHandle>,
    integrity: Option<Arc<WorkerIntegrity>>,
}

/// A running simulated cluster.
pub struct SimCluster {
    seed: u64,
    rng: StdRng,
    clock: Arc<VirtualClock>,
    net: SimNet,
    master_config: MasterConfig,
    master: NodeSlot,
    master_handle: Option<MasterHandle>,
    master_integrity: Option<Arc<MasterIntegrity>>,
    workers: BTreeMap<String, WorkerSlot>,
    extend_master: MasterExtension,
    extend_worker: WorkerExtension,
    integrity: Option<IntegrityConfig>,
    master_watched: bool,
    next_raw_ip: u8,
}

impl SimCluster {
    /// A builder for a cluster whose every random choice derives from `seed`.
    pub fn builder(seed: u64) -> SimBuilder {
        SimBuilder {
            seed,
            workers: 1,
            link: LinkConfig::default(),
            master_config: Box::new(|_| {}),
            worker_config: Box::new(|_, _| {}),
            extend_master: Arc::new(|_, _| {}),
            extend_worker: Arc::new(|_, _| {}),
            integrity: None,
            master_watched: true,
        }
    }

    /// `WAZUH_SIM_SEED` if set (and a number), else `default`.
    pub fn seed_from_env(default: u64) -> u64 {
        std::env::var(SEED_ENV)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(default)
    }

    /// This run's seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The cluster's clock.
    pub fn clock(&self) -> &Arc<VirtualClock> {
        &self.clock
    }

    /// The network, for finer fault injection.
    pub fn net(&self) -> &SimNet {
        &self.net
    }

    /// The master's address.
    pub fn master_addr(&self) -> SocketAddr {
        SocketAddr::new(self.master.env.ip, CLUSTER_PORT)
    }

    /// Lets `duration` of virtual time pass while every node runs.
    pub async fn run_for(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }

    /// Runs until `condition` holds (checked every second of virtual time) or `limit` passed;
    /// returns whether it held.
    pub async fn run_until(
        &self,
        limit: Duration,
        mut condition: impl FnMut(&Self) -> bool,
    ) -> bool {
        let deadline = self.clock.now() + limit;
        loop {
            if condition(self) {
                return true;
            }
            if self.clock.now() >= deadline {
                return false;
            }
            self.run_for(Duration::from_secs(1)).await;
        }
    }

    /// Panics with `what` and the seed to replay it unless `condition` holds.
    #[track_caller]
    pub fn check(&self, condition: bool, what: impl std::fmt::Display) {
        assert!(
            condition,
            "{what} (at {:?} of virtual time; replay with {SEED_ENV}={})",
            self.clock.now().since_origin(),
            self.seed
        );
    }

    /// The running master.
    pub fn master(&self) -> MasterHandle {
        self.master_handle
            .clone()
            .expect("the master is stopped; start it first")
    }

    /// The running master's integrity module ([`SimBuilder::integrity`] turns it on).
    pub fn master_integrity(&self) -> Arc<MasterIntegrity> {
        self.master_integrity
            .clone()
            .expect("the master is stopped or runs without the integrity sync")
    }

    /// Worker `name`'s integrity module ([`SimBuilder::integrity`] turns it on).
    pub fn worker_integrity(&self, name: &str) -> Arc<WorkerIntegrity> {
        self.workers
            .get(name)
            .and_then(|w| w.integrity.clone())
            .unwrap_or_else(|| {
                panic!(
                    "worker {name:?} is stopped or runs without the integrity sync (seed {})",
                    self.seed
                )
            })
    }

    /// The worker `name` (its handle survives until its next restart).
    pub fn worker(&self, name: &str) -> WorkerHandle {
        self.workers
            .get(name)
            .and_then(|w| w.handle.clone())
            .unwrap_or_else(|| panic!("no running worker {name:?} (seed {})", self.seed))
    }

    /// Names of every worker slot, running or not.
    pub fn worker_names(&self) -> Vec<String> {
        self.workers.keys().cloned().collect()
    }

    /// Whether node `name` is running.
    pub fn is_running(&self, name: &str) -> bool {
        self.slot(name).task.is_some()
    }

    /// The environment (IP, storage) of node `name`.
    pub fn env(&self, name: &str) -> NodeEnv {
        self.slot(name).env.clone()
    }

    fn slot(&self, name: &str) -> &NodeSlot {
        if name == MASTER_NAME {
            &self.master
        } else {
            &self
                .workers
                .get(name)
                .unwrap_or_else(|| panic!("no node {name:?} (seed {})", self.seed))
                .slot
        }
    }

    fn ip(&self, name: &str) -> IpAddr {
        self.slot(name).env.ip
    }

    /// Cuts the link between nodes `a` and `b`.
    pub fn partition(&self, a: &str, b: &str) {
        self.net.partition(self.ip(a), self.ip(b));
    }

    /// Restores the link between nodes `a` and `b`.
    pub fn heal(&self, a: &str, b: &str) {
        self.net.heal(self.ip(a), self.ip(b));
    }

    /// Restores every link.
    pub fn heal_all(&self) {
        self.net.heal_all();
    }

    /// Sets the latency, jitter and loss between nodes `a` and `b`.
    pub fn set_link(&self, a: &str, b: &str, link: LinkConfig) {
        self.net.set_link(self.ip(a), self.ip(b), link);
    }

    /// Stops node `name`: its tasks end and its connections close, as a crash would (its storage
    /// is kept).
    pub fn stop(&mut self, name: &str) {
        if name == MASTER_NAME {
            self.master.stop();
            self.master_handle = None;
            self.master_integrity = None;
        } else if let Some(worker) = self.workers.get_mut(name) {
            worker.slot.stop();
            worker.handle = None;
            worker.integrity = None;
        }
    }

    /// Crashes node `name`: it stops and its peers are not told that its connections are gone
    /// (they find out through keepalives). Its storage is kept.
    pub fn crash(&mut self, name: &str) {
        self.net.crash_host(self.ip(name));
        self.stop(name);
    }

    /// Starts node `name` (no effect if it runs), with a fresh seed from the run's generator.
    pub fn start(&mut self, name: &str) {
        let seed = self.rng.random();
        if name == MASTER_NAME {
            if self.master.task.is_some() {
                return;
            }
            let env = self.master.env.clone();
            let mut builder = MasterBuilder::new(
                self.master_config.clone(),
                self.clock.clone(),
                env.storage.clone(),
            )
            .seed(seed);
            self.master_integrity = self.integrity.as_ref().map(|config| {
                let integrity = builder
                    .module(|ctx| {
                        MasterIntegrity::new(
                            ctx,
                            env.files.clone(),
                            env.sync_states.clone(),
                            config.clone(),
                        )
                    })
                    .expect("the integrity module is the first module");
                if self.master_watched {
                    // The simulated home reports its changes at once, as the daemon's watcher
                    // does.
                    report_changes(&env.files, &integrity, MasterIntegrity::recalculate_now);
                    integrity.files_watched();
                }
                integrity
            });
            (self.extend_master)(&mut builder, &env);
            let master = builder.build();
            self.master_handle = Some(master.handle());
            let listener = self.net.listen(self.master_addr());
            self.master.task = Some(tokio::spawn(master.run(listener)));
            return;
        }
        let master_addr = self.master_addr();
        let Some(worker) = self.workers.get_mut(name) else {
            panic!("no node {name:?} (seed {})", self.seed);
        };
        if worker.slot.task.is_some() {
            return;
        }
        let env = worker.slot.env.clone();
        let connector = Arc::new(self.net.connector(env.ip, master_addr));
        let mut builder =
            WorkerBuilder::new(worker.config.clone(), self.clock.clone(), connector).seed(seed);
        worker.integrity = self.integrity.as_ref().map(|config| {
            let integrity = builder
                .module(|ctx| WorkerIntegrity::new(ctx, env.files.clone(), config.clone()))
                .expect("the integrity module is the first module");
            // The simulated home reports its changes at once, as the daemon's file watcher does.
            report_changes(&env.files, &integrity, WorkerIntegrity::files_changed);
            integrity.files_watched();
            integrity
        });
        (self.extend_worker)(&mut builder, &env);
        let node = builder.build();
        worker.handle = Some(node.handle());
        worker.slot.task = Some(tokio::spawn(node.run()));
    }

    /// Stops then starts node `name`.
    pub fn restart(&mut self, name: &str) {
        self.stop(name);
        self.start(name);
    }

    /// The Wazuh home of node `name` (running or not), to edit or read its files.
    pub fn files(&self, name: &str) -> Arc<MemoryFileSource> {
        self.slot(name).env.files.clone()
    }

    /// The files of node `name` that belong to a synchronized item, with their content.
    pub fn synced_files(&self, name: &str) -> BTreeMap<String, Vec<u8>> {
        let files = self.files(name);
        let items = files.items();
        files
            .snapshot()
            .into_iter()
            .filter(|(path, _)| items.confine(path).is_ok())
            .collect()
    }

    /// Whether worker `name`'s synchronized files equal the master's.
    pub fn converged(&self, name: &str) -> bool {
        self.synced_files(name) == self.synced_files(MASTER_NAME)
    }

    /// Whether every worker's synchronized files equal the master's.
    pub fn all_converged(&self) -> bool {
        let master = self.synced_files(MASTER_NAME);
        self.workers
            .keys()
            .all(|name| self.synced_files(name) == master)
    }

    /// Opens a raw connection to the master from a new IP, to speak the protocol by hand.
    pub async fn connect_raw(&mut self) -> Result<Connection, ConnectError> {
        let ip = IpAddr::V4(Ipv4Addr::new(10, 0, 1, self.next_raw_ip));
        self.next_raw_ip = self.next_raw_ip.wrapping_add(1);
        self.net.connect(ip, self.master_addr()).await
    }
}

impl Drop for SimCluster {
    fn drop(&mut self) {
        self.master.stop();
        for worker in self.workers.values_mut() {
            worker.slot.stop();
        }
    }
}

/// Makes `files` call `on_change` on `module` (while it lives) after each change, as the
/// daemon's file watcher does.
fn report_changes<T: Send + Sync + 'static>(
    files: &MemoryFileSource,
    module: &Arc<T>,
    on_change: fn(&T),
) {
    let watching = Arc::downgrade(module);
    files.on_change(move || {
        if let Some(module) = watching.upgrade() {
            on_change(&module);
        }
    });
}
