//! The worker's task of one sync: wait for the master's container, index it strictly, apply it.

use std::sync::Arc;

use tokio::sync::oneshot;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::{SyncPlanPaths, TaskError, TaskId, WazuhException, error_codes};

use super::check::current_metadata;
use super::error::ApplyTaskError;
use super::{WorkerIntegrity, lock};
use crate::clock::Instant;
use crate::files::FileSource;
use crate::integrity::{
    ApplyReport, ComparisonCounts, ContainerStager, IntegrityStats, IntegrityTask,
    ReceivedContainer, apply_received,
};
use crate::session::SessionHandle;
use crate::transfer::{FileOutcome, FollowedFile, FollowedFiles, ReceivedFile, wait_for_file};
use std::future::Future;
use std::time::{Duration, SystemTime};
use tokio::sync::watch;

/// How long after an apply the next check's metadata is prepared: past the file watcher's
/// report of the apply's own writes.
const PREPARE_AFTER: Duration = Duration::from_millis(500);

/// Waits for the container of task `tid` (at most `timeout_receiving_file`, then `cancel_task`)
/// and applies it; a failure is reported to the master with `syn_i_w_m_r "None <json>"`, as
/// Wazuh does. The worker is no longer busy afterwards, whatever happened.
pub(super) async fn receive_then_apply(
    integrity: Arc<WorkerIntegrity>,
    tid: String,
    session: SessionHandle,
    (waiting, created): (oneshot::Receiver<FileOutcome>, FollowedFiles),
) {
    let tag = integrity.tag.as_str();
    let started = (integrity.clock.now(), integrity.clock.wall());
    integrity.applying.send_replace(true);
    let waiting = wait_for_file(
        waiting,
        &session,
        &*integrity.clock,
        integrity.config.timeout_receiving_file,
        &tid,
        "the master",
        tag,
    );
    let (outcome, staging) = stage_while_receiving(&integrity, created, waiting).await;
    let result = match outcome {
        Ok(file) => match staging {
            Some((followed, stager)) if followed.is(&file) => {
                apply_staged(&integrity, stager, file, started).await
            }
            other => {
                if let Some((_, stager)) = other {
                    stager.abandon().await;
                }
                apply(&integrity, file, started).await
            }
        },
        Err(error) => {
            if let Some((_, stager)) = staging {
                stager.abandon().await;
            }
            Err(ApplyTaskError::NotReceived(error.message()))
        }
    };
    if let Err(error) = result {
        tracing::error!(
            tag,
            subtag = "Integrity sync",
            "Error updating worker files: {error}"
        );
        lock(&integrity.state).report.failures += 1;
        if !session.is_closed() {
            let report = TaskError {
                tid: TaskId::None,
                error: WazuhException::cluster(error_codes::CLUSTER)
                    .with_extra_message(error.to_string()),
            };
            let _ = session.request(names::SYN_I_W_M_R, report.encode()).await;
        }
    }
    lock(&integrity.inbox).clear();
    integrity.applying.send_replace(false);
    // Whatever changed while a watcher was stopped is listed at the next check.
    integrity.changes.changed();
    let mut state = lock(&integrity.state);
    if state.receiving.as_ref().is_some_and(|(t, _)| *t == tid) {
        state.receiving = None;
    }
    if state.receiving.is_none() {
        state.busy = false;
        if std::mem::take(&mut state.recheck) {
            integrity.check_soon.notify_one();
        } else {
            integrity
                .spawner
                .spawn(prepare_next_check(integrity.clone()));
        }
    }
}

/// Once the watcher reported the apply's own writes, lists the files and packs their metadata
/// ahead of the next check, which then only sends it (a check that comes first waits for it).
async fn prepare_next_check(integrity: Arc<WorkerIntegrity>) {
    integrity.clock.sleep(PREPARE_AFTER).await;
    if let Err(error) = current_metadata(&integrity).await {
        tracing::debug!(
            tag = integrity.tag.as_str(),
            subtag = "Integrity check",
            "Could not prepare the next check's metadata: {error}"
        );
    }
}

/// What happened while waiting for the container.
enum Event {
    /// The wait ended.
    Done(FileOutcome),
    /// The inbox started a file (or the spool is gone: `None`).
    Created(Option<FollowedFile>),
    /// The file followed grew.
    Grown,
}

/// Waits for the container (`waiting`) while staging the files of the newest one the inbox
/// receives. Returns the outcome and, unless staging failed, the file followed with its stager
/// (a container the master started again replaces the earlier one, whose staged files are
/// discarded).
async fn stage_while_receiving<'a>(
    integrity: &'a WorkerIntegrity,
    mut created: FollowedFiles,
    waiting: impl Future<Output = FileOutcome>,
) -> (
    FileOutcome,
    Option<(FollowedFile, ContainerStager<'a, dyn FileSource>)>,
) {
    let mut waiting = std::pin::pin!(waiting);
    let mut following: Option<(FollowedFile, ContainerStager<'a, dyn FileSource>)> = None;
    let mut growth = None;
    let mut spool_alive = true;
    loop {
        let event = tokio::select! {
            biased;
            outcome = &mut waiting => Event::Done(outcome),
            file = created.next(), if spool_alive => Event::Created(file),
            () = grown(&mut growth) => Event::Grown,
        };
        match event {
            Event::Done(outcome) => return (outcome, following),
            Event::Created(None) => spool_alive = false,
            Event::Created(Some(file)) => {
                if let Some((_, stager)) = following.take() {
                    stager.abandon().await;
                }
                growth = Some(file.growth());
                let stager =
                    ContainerStager::new(&*integrity.files, &integrity.config.container_limits);
                following = Some((file, stager));
            }
            Event::Grown => {
                let Some((file, stager)) = following.as_mut() else {
                    continue;
                };
                if let Err(error) = stager.advance(file).await {
                    tracing::debug!(
                        tag = integrity.tag.as_str(),
                        subtag = "Integrity sync",
                        "Stopped staging {} at byte {}: {error}",
                        file.relpath(),
                        stager.scanned()
                    );
                    if let Some((_, stager)) = following.take() {
                        stager.abandon().await;
                    }
                    growth = None;
                }
            }
        }
    }
}

/// Waits until the file followed grows (forever when none is, or once it is gone).
async fn grown(growth: &mut Option<watch::Receiver<u64>>) {
    let grew = match growth {
        Some(growth) => growth.changed().await.is_ok(),
        None => false,
    };
    if !grew {
        std::future::pending::<()>().await;
    }
}

/// Applies a container whose files were staged while it arrived.
async fn apply_staged(
    integrity: &WorkerIntegrity,
    mut stager: ContainerStager<'_, dyn FileSource>,
    file: ReceivedFile,
    started: (Instant, SystemTime),
) -> Result<(), ApplyTaskError> {
    let plan = match stager.finish(&file).await {
        Ok(plan) => plan,
        Err(error) => {
            stager.abandon().await;
            return Err(ApplyTaskError::Container(error));
        }
    };
    if let Err(error) = plan.check_paths() {
        stager.abandon().await;
        return Err(ApplyTaskError::Plan(error.into()));
    }
    let received = file.len();
    drop(file);
    let counts = log_plan(integrity, &plan);
    let mut local = integrity.local.lock().await;
    let report = stager
        .apply(plan, |applied| local.record_applied(applied))
        .await?;
    drop(local);
    finish(integrity, report, counts, received, started);
    Ok(())
}

/// Logs what the plan asks, as Wazuh does.
fn log_plan(integrity: &WorkerIntegrity, plan: &SyncPlanPaths) -> ComparisonCounts {
    let counts = ComparisonCounts {
        missing: plan.missing.len(),
        shared: plan.shared.len(),
        extra: plan.extra.len(),
    };
    tracing::info!(
        tag = integrity.tag.as_str(),
        subtag = "Integrity sync",
        "Files to create: {} | Files to update: {} | Files to delete: {}",
        counts.missing,
        counts.shared,
        counts.extra
    );
    counts
}

/// Applies a container received whole (not staged while it arrived).
async fn apply(
    integrity: &WorkerIntegrity,
    file: ReceivedFile,
    started: (Instant, SystemTime),
) -> Result<(), ApplyTaskError> {
    // The files stay compressed in the spool file and are inflated by offset, batch by batch,
    // as they are written: the worker holds the index, never the container or the tree.
    let mut container = ReceivedContainer::open(file, &integrity.config.container_limits)
        .map_err(ApplyTaskError::Container)?;
    let received = container.received_bytes();
    let plan: SyncPlanPaths = container.metadata().map_err(ApplyTaskError::Container)?;
    plan.check_paths()
        .map_err(|e| ApplyTaskError::Plan(e.into()))?;
    let counts = log_plan(integrity, &plan);
    // No check runs while a sync is applied: the table follows the apply batch by batch.
    let mut local = integrity.local.lock().await;
    let report = apply_received(&*integrity.files, plan, container, |applied| {
        local.record_applied(applied);
    })
    .await?;
    drop(local);
    finish(integrity, report, counts, received, started);
    Ok(())
}

/// Logs and records an apply that went through.
fn finish(
    integrity: &WorkerIntegrity,
    report: ApplyReport,
    counts: ComparisonCounts,
    received: u64,
    (started, wall): (Instant, SystemTime),
) {
    let tag = integrity.tag.as_str();
    if report.errors.total() > 0 {
        tracing::error!(tag, subtag = "Integrity sync", "{}", report.errors);
    }
    let stats = IntegrityStats {
        task: IntegrityTask::Sync,
        started: wall,
        finished: integrity.clock.wall(),
        elapsed: integrity.clock.now() - started,
        files: report.created + report.overwritten + report.removed,
        counts,
        bytes: received,
    };
    tracing::info!(
        tag,
        subtag = "Integrity sync",
        "{}",
        stats.finished_message()
    );
    crate::telemetry::integrity(
        crate::telemetry::MASTER_PEER,
        &stats,
        crate::telemetry::Direction::Received,
    );
    let mut state = lock(&integrity.state);
    state.report.syncs += 1;
    state.report.last_sync = Some(stats);
    state.report.last_apply = Some(report);
}
