//! The master's side of the file integrity synchronization (Wazuh 4.x, protocol section 6).
//!
//! ```text
//! recalculation (every recalculate_integrity): refresh the table (incremental, full on a
//!     schedule; skipped when a watcher reported no change since the last one), open a new
//!     permission cycle
//! syn_i_w_m_p -> True once per worker per cycle, if its lock is free (the lock is a lease:
//!     held longer than max_locked_integrity_time, it is released with a warning)
//! syn_i_w_m   -> ok <tid>; takes the lock; a task waits timeout_receiving_file for the file
//! new_file/file_upd/file_end -> the worker's inbox (queue/cluster/<worker>/ only, bounded)
//! syn_i_w_m_e -> decode, compare -> syn_m_c_ok, or syn_m_c + container + syn_m_c_e
//! syn_i_w_m_r -> the worker gave up: release the lock
//! after a recalculation that changed a file: syn_m_chg to every connected worker, which
//!     checks at once (a Python worker answers "unknown command" and keeps its own schedule)
//! cancel_task -> the worker timed out on our container: shrink its container limit
//! ```
//!
//! The task waiting for a worker's file ends when the file comes, after `timeout_receiving_file`
//! (with `cancel_task`), on `syn_i_w_m_r`, or when the worker's connection closes; each releases
//! the lock. The lease only matters for a live session whose task never ends.
//!
//! Files are received into a [`Spool`] (the daemon's: a file at that name under the home, as
//! Wazuh does; [`MemorySpool`] by default): the `queue/cluster/<worker>/` path in the messages is
//! checked first (the worker's own folder, one component, no `..`), and each chunk is checked
//! against the inbox's limits before it is written.
//!
//! After each comparison, the state of every file on that worker is recorded in the
//! [`SyncStateStore`] (see [`crate::sync_state`] for the meaning of each state): Wazuh's workers
//! never acknowledge an apply, so a file sent is `pending` until the worker's next check shows
//! the master's hash (`synchronized`) or still another one (`failed`).

mod budget;
mod comparison;
mod error;
mod handlers;
mod path_names;
mod recalc;
mod sent_files;
mod states;
mod sync;
mod worker_state;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use rand::SeedableRng;
use rand::rngs::StdRng;
use wazuh_cluster_proto::payload::{ContainerLimits, FileTable};

pub use worker_state::WorkerIntegrityStatus;

use crate::clock::Clock;
use crate::config::IntegrityConfig;
use crate::files::FileSource;
use crate::integrity::local_changes::LocalChanges;
use crate::integrity::{BodyCache, FullRehashSchedule, MetadataTable, ZipLimit, ZipLimitConfig};
use crate::session::Router;
use crate::storage::StorageError;
use crate::sync_state::{SyncStateQuery, SyncStateRecord, SyncStateStore};
use crate::transfer::{FileInbox, InboxLimits, MemorySpool, PendingTasks, Spool, TaskSpawner};
use worker_state::WorkerState;

use crate::master::{MasterConn, MasterHandle, MasterRole};
use crate::module::{Module, ModuleContext};
use crate::session::DuplicateRoute;
use futures_util::future::BoxFuture;

/// The master's integrity state: its table, every worker's lock, limit and stats.
pub struct MasterIntegrity {
    files: Arc<dyn FileSource>,
    sync_states: Arc<dyn SyncStateStore>,
    config: IntegrityConfig,
    clock: Arc<dyn Clock>,
    table: tokio::sync::RwLock<MetadataTable>,
    schedule: Mutex<FullRehashSchedule>,
    ready: AtomicBool,
    /// Files in the table after the last recalculation (bounds a worker's integrity file).
    table_files: std::sync::atomic::AtomicUsize,
    workers: Mutex<BTreeMap<String, WorkerState>>,
    rng: Mutex<StdRng>,
    spawner: TaskSpawner,
    tasks: PendingTasks,
    recalculate_soon: tokio::sync::Notify,
    changes: LocalChanges,
    master: MasterHandle,
    spool: Arc<dyn Spool>,
    /// Checks decoding and comparing a worker's metadata at once (the rest wait).
    comparisons: tokio::sync::Semaphore,
    /// Sync containers being sent at once (the rest wait for a slot).
    sends: tokio::sync::Semaphore,
    /// Compressed bodies shared by the workers' sync containers.
    bodies: BodyCache,
    /// One copy of each path for the workers' known file states.
    path_names: path_names::PathNames,
}

/// Compressed bytes the master keeps of the files its sync containers carry, for the next
/// workers that need them (at 10,000 agent-group files of 2.6 KB, about 10 MB: the whole tree).
const BODY_CACHE_BYTES: u64 = 32 << 20;

/// Checks that decode and compare at once: each holds the worker's decoded metadata (a few
/// MB at 10,000 files), so 25 workers checking together would hold 25 copies; on two cores
/// more at once would not finish sooner.
const COMPARISONS_AT_ONCE: usize = 2;

/// Sync containers sent at once. 25 workers' first syncs start within a second of the cluster
/// forming: sent all together, each held about five copies of a 5 MiB piece in turn (the
/// setup's memory peak, 279 MB of heap at 10 workers under heaptrack, benches/README.md) and
/// all of them shared the cores, so each took as long as all of them. Sent a few at a time,
/// each finishes in its own share of that time and the peak is a few workers' pieces. Two: a
/// send keeps two pieces in flight, so it seldom waits for the worker's answers, and the first
/// two sends of a tree are the ones that compress it (the body cache keeps a body from its
/// second use), so more at once would compress the same files more often, on the same cores.
const SENDS_AT_ONCE: usize = 2;

impl std::fmt::Debug for MasterIntegrity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterIntegrity")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl MasterIntegrity {
    /// The integrity sync of the master of `ctx`: it keeps the metadata table of `files`,
    /// answers the workers' integrity checks, sends them what differs and records the state of
    /// every file on every worker in `sync_states`. Add it with
    /// [`MasterBuilder::module`](crate::MasterBuilder::module).
    pub fn new(
        ctx: ModuleContext<MasterRole>,
        files: Arc<dyn FileSource>,
        sync_states: Arc<dyn SyncStateStore>,
        config: IntegrityConfig,
    ) -> Arc<Self> {
        Self::with_spool(ctx, files, sync_states, config, Arc::new(MemorySpool))
    }

    /// As [`new`](Self::new), receiving the workers' integrity files into files of `spool`.
    pub fn with_spool(
        ctx: ModuleContext<MasterRole>,
        files: Arc<dyn FileSource>,
        sync_states: Arc<dyn SyncStateStore>,
        config: IntegrityConfig,
        spool: Arc<dyn Spool>,
    ) -> Arc<Self> {
        let (tasks, spawner) = PendingTasks::new();
        Arc::new(Self {
            files,
            sync_states,
            schedule: Mutex::new(FullRehashSchedule::new(config.full_rehash_period)),
            config,
            clock: ctx.clock,
            table: tokio::sync::RwLock::new(MetadataTable::new()),
            ready: AtomicBool::new(false),
            table_files: std::sync::atomic::AtomicUsize::new(0),
            workers: Mutex::new(BTreeMap::new()),
            rng: Mutex::new(StdRng::seed_from_u64(ctx.seed)),
            spawner,
            tasks,
            recalculate_soon: tokio::sync::Notify::new(),
            changes: LocalChanges::new(),
            master: ctx.node,
            spool,
            comparisons: tokio::sync::Semaphore::new(COMPARISONS_AT_ONCE),
            sends: tokio::sync::Semaphore::new(SENDS_AT_ONCE),
            bodies: BodyCache::new(BODY_CACHE_BYTES),
            path_names: path_names::PathNames::default(),
        })
    }

    fn zip_limit_config(&self) -> ZipLimitConfig {
        ZipLimitConfig {
            timeout_receiving_file: self.config.timeout_receiving_file,
            ..self.config.zip_limit
        }
    }

    /// Frees the files and the waiting task of every worker whose session ends (its lock, stats
    /// and container limit stay, as Wazuh keeps them by name).
    async fn free_departed(self: Arc<Self>) {
        let mut departures = self.master.departures();
        loop {
            let gone: Vec<String> = match departures.recv().await {
                Ok(name) => vec![name],
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    let connected = self.master.worker_names();
                    lock(&self.workers)
                        .keys()
                        .filter(|name| !connected.contains(name))
                        .cloned()
                        .collect()
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            // A worker that already came back keeps what its new session started.
            let connected = self.master.worker_names();
            let mut workers = lock(&self.workers);
            for name in gone.iter().filter(|name| !connected.contains(name)) {
                if let Some(worker) = workers.get_mut(name) {
                    lock(&worker.inbox).clear();
                    worker.receiving = None;
                }
            }
        }
    }

    /// The inbox and decoding bounds of a worker's integrity file now (see [`budget`]).
    fn worker_file_limits(&self) -> (InboxLimits, ContainerLimits) {
        budget::worker_file_limits(
            self.table_files.load(Ordering::Relaxed),
            self.config.inbox,
            self.config.container_limits,
        )
    }

    /// Runs `f` on the state of worker `name`, created on first use.
    fn with_worker<R>(&self, name: &str, f: impl FnOnce(&mut WorkerState) -> R) -> R {
        let mut workers = lock(&self.workers);
        let state = workers.entry(name.to_owned()).or_insert_with(|| {
            WorkerState::new(
                ZipLimit::new(self.zip_limit_config()),
                FileInbox::new(
                    format!("queue/cluster/{name}/"),
                    self.config.inbox,
                    self.spool.clone(),
                ),
            )
        });
        f(state)
    }

    /// The master's current metadata table (`{path: metadata}`).
    pub async fn table(&self) -> FileTable {
        self.table.read().await.to_file_table()
    }

    /// Asks for a recalculation of the table now instead of at the end of the current
    /// `recalculate_integrity` period (a file watcher calls it when a synchronized file
    /// changed). The recalculation also opens a new permission cycle, so each worker sees the
    /// change at its next integrity check. Requests made while one recalculation runs, or
    /// several before it starts, are merged into one, which starts at least half a second after
    /// the previous one started (`recalc::CHANGE_SPACING`); the periodic schedule restarts after
    /// it.
    pub fn recalculate_now(&self) {
        self.changes.changed();
        self.recalculate_soon.notify_one();
    }

    /// Says that from now on [`recalculate_now`](Self::recalculate_now) is called after every
    /// change to the synchronized files (a file watcher runs). The periodic recalculation then
    /// lists the files only when a change was reported since the last listing, or on the full
    /// rehash schedule; it still opens a new permission cycle each time.
    pub fn files_watched(&self) {
        self.changes.watched();
    }

    /// Whether the first computation of the table finished (permissions are refused before).
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// The integrity status of worker `name`, if it ever asked for a check.
    pub fn status(&self, name: &str) -> Option<WorkerIntegrityStatus> {
        let workers = lock(&self.workers);
        workers.get(name).map(|w| self.status_of(w))
    }

    /// The integrity status of every worker that ever asked for a check, by name.
    pub fn statuses(&self) -> BTreeMap<String, WorkerIntegrityStatus> {
        let workers = lock(&self.workers);
        workers
            .iter()
            .map(|(name, w)| (name.clone(), self.status_of(w)))
            .collect()
    }

    fn status_of(&self, w: &WorkerState) -> WorkerIntegrityStatus {
        let now = self.clock.now();
        let wall = self.clock.wall();
        WorkerIntegrityStatus {
            lock_free: w.lease.is_none(),
            locked_since: w.lease.as_ref().map(|l| {
                let held = now.saturating_duration_since(l.since);
                wall.checked_sub(held).unwrap_or(wall)
            }),
            last_check: w.last_check.clone(),
            last_sync: w.last_sync.clone(),
            zip_limit: w.zip_limit.current(),
            inbox_bytes: lock(&w.inbox).held_bytes(),
            repeated_checks: w.repeated_checks,
        }
    }

    /// The recorded sync states `query` matches (by worker and/or file), ordered by worker then
    /// file: what `cluster_control` shows per file.
    pub async fn sync_states(
        &self,
        query: &SyncStateQuery,
    ) -> Result<Vec<SyncStateRecord>, StorageError> {
        self.sync_states.states(query).await
    }
}

impl Module<MasterRole> for MasterIntegrity {
    fn install(self: Arc<Self>, router: &mut Router<MasterConn>) -> Result<(), DuplicateRoute> {
        handlers::install(&self, router)
    }

    fn run(self: Arc<Self>) -> BoxFuture<'static, ()> {
        // The recalculation loop, and beside it the background tasks of the transfers and the
        // release of what departed workers left.
        Box::pin(async move {
            let recalculate = recalc::recalculate_forever(self.clone());
            let departures = self.clone().free_departed();
            self.tasks
                .run_beside(async move {
                    tokio::join!(recalculate, departures);
                })
                .await;
        })
    }
}
