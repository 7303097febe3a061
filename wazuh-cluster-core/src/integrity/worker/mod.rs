//! The worker's side of the file integrity synchronization (Wazuh 4.x, protocol section 6).
//!
//! ```text
//! right after each successful hello, when the master says its files changed (syn_m_chg), and
//! every sync_integrity, while connected and no sync is being applied:
//!   syn_i_w_m_p -> True: refresh the table (incremental, full on a schedule; skipped when a
//!   watcher reported no change since the last one), pack files_metadata.json alone (the last
//!   container again if the table did not change), syn_i_w_m -> tid,
//!   new_file/file_upd/file_end, syn_i_w_m_e;
//!   any error after that: syn_i_w_m_r "<tid or None> <json>"
//! syn_m_c_ok -> "Sync not required"
//! syn_m_c    -> ok <tid>; busy; wait timeout_receiving_file for the file (then cancel_task)
//! new_file/file_upd/file_end -> inbox (queue/cluster/<own name>/ only, bounded, to a spool file)
//! syn_m_c_e  -> index the container (strict limits), apply it through the FileSource
//! syn_m_c_r  -> the master gave up; cancel_task -> logged
//! syn_m_chg  -> ok; check now (or right after the sync being applied)
//! ```
//!
//! Nothing of a container reaches the files before it is complete and its checksum verified,
//! and each file is written atomically by the [`FileSource`], so an interrupted transfer leaves
//! no partial file.

mod apply;
mod check;
mod error;
mod handlers;
mod local_metadata;

use std::sync::{Arc, Mutex, MutexGuard};

use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::clock::{Clock, Instant};
use crate::config::IntegrityConfig;
use crate::files::FileSource;
use crate::integrity::local_changes::LocalChanges;
use crate::integrity::{ApplyReport, FullRehashSchedule, IntegrityStats};
use crate::module::{Module, ModuleContext};
use crate::session::DuplicateRoute;
use crate::session::Router;
use crate::transfer::{
    FileInbox, FollowedSpool, MemorySpool, PendingTasks, SharedInbox, Spool, TaskSpawner,
    WaitingTask,
};
use crate::worker::{WorkerConn, WorkerHandle, WorkerRole};
use futures_util::future::BoxFuture;
use local_metadata::LocalMetadata;

/// What the worker shows about its integrity sync.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkerIntegrityReport {
    /// The last check the master answered (`syn_m_c_ok` or `syn_m_c`).
    pub last_check: Option<IntegrityStats>,
    /// The last container applied.
    pub last_sync: Option<IntegrityStats>,
    /// What the last apply did.
    pub last_apply: Option<ApplyReport>,
    /// Checks the master granted.
    pub checks: u64,
    /// Containers applied.
    pub syncs: u64,
    /// Transfers or applies that failed (timeouts, refusals).
    pub failures: u64,
}

#[derive(Default)]
struct SyncState {
    busy: bool,
    /// The master asked for a check while a check was in flight or a sync was being applied:
    /// check once it is done.
    recheck: bool,
    /// The master said its files changed and no check was granted since.
    notice: bool,
    receiving: Option<WaitingTask>,
    check_started: Option<(Instant, std::time::SystemTime)>,
    report: WorkerIntegrityReport,
}

/// The worker's integrity state.
pub struct WorkerIntegrity {
    files: Arc<dyn FileSource>,
    config: IntegrityConfig,
    clock: Arc<dyn Clock>,
    name: String,
    tag: String,
    worker: WorkerHandle,
    local: tokio::sync::Mutex<LocalMetadata>,
    changes: LocalChanges,
    schedule: Mutex<FullRehashSchedule>,
    inbox: SharedInbox,
    /// The inbox's spool: the task waiting for a container stages its files as they arrive.
    spool: Arc<FollowedSpool>,
    /// Whether a container is being received and applied (see [`WorkerIntegrity::applying`]).
    applying: tokio::sync::watch::Sender<bool>,
    state: Mutex<SyncState>,
    rng: Mutex<StdRng>,
    spawner: TaskSpawner,
    tasks: PendingTasks,
    check_soon: tokio::sync::Notify,
}

impl std::fmt::Debug for WorkerIntegrity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerIntegrity")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl WorkerIntegrity {
    /// The integrity sync of the worker of `ctx`: every `sync_integrity` it sends the metadata
    /// of `files` to the master and applies what the master sends back. Add it with
    /// [`WorkerBuilder::module`](crate::WorkerBuilder::module). The master's containers are
    /// received in memory ([`MemorySpool`]); [`with_spool`](Self::with_spool) puts them elsewhere.
    pub fn new(
        ctx: ModuleContext<WorkerRole>,
        files: Arc<dyn FileSource>,
        config: IntegrityConfig,
    ) -> Arc<Self> {
        Self::with_spool(ctx, files, config, Arc::new(MemorySpool))
    }

    /// As [`new`](Self::new), receiving the master's containers into files of `spool`.
    pub fn with_spool(
        ctx: ModuleContext<WorkerRole>,
        files: Arc<dyn FileSource>,
        config: IntegrityConfig,
        spool: Arc<dyn Spool>,
    ) -> Arc<Self> {
        let (tasks, spawner) = PendingTasks::new();
        let name = ctx.node_name;
        let spool = Arc::new(FollowedSpool::new(spool));
        Arc::new(Self {
            files,
            schedule: Mutex::new(FullRehashSchedule::new(config.full_rehash_period)),
            inbox: SharedInbox::new(
                FileInbox::new(
                    format!("queue/cluster/{name}/"),
                    config.inbox,
                    spool.clone(),
                )
                .into(),
            ),
            spool,
            applying: tokio::sync::watch::channel(false).0,
            config,
            clock: ctx.clock,
            tag: format!("Worker {name}"),
            name,
            worker: ctx.node,
            local: tokio::sync::Mutex::new(LocalMetadata::default()),
            changes: LocalChanges::new(),
            state: Mutex::new(SyncState::default()),
            rng: Mutex::new(StdRng::seed_from_u64(ctx.seed)),
            spawner,
            tasks,
            check_soon: tokio::sync::Notify::new(),
        })
    }

    /// What the worker's integrity sync did so far.
    pub fn report(&self) -> WorkerIntegrityReport {
        lock(&self.state).report.clone()
    }

    /// Starts a check now instead of at the next `sync_integrity` (what `syn_m_chg` asks); while
    /// a check is in flight or a sync is being applied, right after it.
    pub fn check_now(&self) {
        let mut state = lock(&self.state);
        state.notice = true;
        if state.busy || state.check_started.is_some() {
            state.recheck = true;
        } else {
            self.check_soon.notify_one();
        }
    }

    /// The check in flight ended (answered, or failed): a check asked for meanwhile starts now.
    fn check_ended(&self, state: &mut SyncState) {
        state.check_started = None;
        if !state.busy && std::mem::take(&mut state.recheck) {
            self.check_soon.notify_one();
        }
    }

    /// Says that from now on [`files_changed`](Self::files_changed) is called after every change
    /// to the synchronized files (a file watcher runs). A check then lists the files only when a
    /// change was reported since the last listing, or on the full-rehash schedule; otherwise it
    /// sends the metadata it sent last time, byte for byte, which the master answers without
    /// comparing again.
    pub fn files_watched(&self) {
        self.changes.watched();
    }

    /// A synchronized file changed (or may have: call it too when the watcher lost events).
    pub fn files_changed(&self) {
        self.changes.changed();
    }

    /// Whether a container from the master is being received and applied, as it changes. A
    /// file watcher may stop watching meanwhile: the apply tells the worker what it writes, and
    /// once it is done the next check lists every file (what changed otherwise is seen then), so
    /// the events of tens of thousands of writes need not be read. A watcher that starts again
    /// afterwards calls [`files_changed`](Self::files_changed) once it watches.
    pub fn applying(&self) -> tokio::sync::watch::Receiver<bool> {
        self.applying.subscribe()
    }

    /// The watcher could not start again: every check lists the files until one is
    /// [`files_watched`](Self::files_watched) again.
    pub fn files_unwatched(&self) {
        self.changes.unwatched();
    }

    /// Whether a container from the master is being received or applied.
    pub fn is_busy(&self) -> bool {
        lock(&self.state).busy
    }
}

impl Module<WorkerRole> for WorkerIntegrity {
    fn install(self: Arc<Self>, router: &mut Router<WorkerConn>) -> Result<(), DuplicateRoute> {
        handlers::install(&self, router)
    }

    fn run(self: Arc<Self>) -> BoxFuture<'static, ()> {
        // The periodic check (on the current connection to the master), and beside it the
        // background tasks of the transfers.
        Box::pin(async move {
            let checks = check::check_forever(self.clone(), self.worker.clone());
            self.tasks.run_beside(checks).await;
        })
    }
}
