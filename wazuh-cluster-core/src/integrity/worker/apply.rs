//! The worker's task of one sync: wait for the master's container, index it strictly, apply it.

use std::sync::Arc;

use tokio::sync::oneshot;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::{SyncPlanPaths, TaskError, TaskId, WazuhException, error_codes};

use super::check::current_metadata;
use super::error::ApplyTaskError;
use super::{WorkerIntegrity, lock};
use crate::clock::Instant;
use crate::integrity::{
    ComparisonCounts, IntegrityStats, IntegrityTask, ReceivedContainer, apply_received,
};
use crate::session::SessionHandle;
use crate::transfer::{FileOutcome, ReceivedFile, wait_for_file};
use std::time::{Duration, SystemTime};

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
    waiting: oneshot::Receiver<FileOutcome>,
) {
    let tag = integrity.tag.as_str();
    let started = (integrity.clock.now(), integrity.clock.wall());
    let outcome = wait_for_file(
        waiting,
        &session,
        &*integrity.clock,
        integrity.config.timeout_receiving_file,
        &tid,
        "the master",
        tag,
    )
    .await;
    // Whatever the apply wrote is listed at the next check.
    integrity.changes.changed();
    let result = match outcome {
        Ok(file) => apply(&integrity, file, started).await,
        Err(error) => Err(ApplyTaskError::NotReceived(error.message())),
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

async fn apply(
    integrity: &WorkerIntegrity,
    file: ReceivedFile,
    (started, wall): (Instant, SystemTime),
) -> Result<(), ApplyTaskError> {
    let tag = integrity.tag.as_str();
    // The files stay compressed in the spool file and are inflated by offset, batch by batch,
    // as they are written: the worker holds the index, never the container or the tree.
    let mut container = ReceivedContainer::open(file, &integrity.config.container_limits)
        .map_err(ApplyTaskError::Container)?;
    let received = container.received_bytes();
    let plan: SyncPlanPaths = container.metadata().map_err(ApplyTaskError::Container)?;
    plan.check_paths()
        .map_err(|e| ApplyTaskError::Plan(e.into()))?;
    let counts = ComparisonCounts {
        missing: plan.missing.len(),
        shared: plan.shared.len(),
        extra: plan.extra.len(),
    };
    tracing::info!(
        tag,
        subtag = "Integrity sync",
        "Files to create: {} | Files to update: {} | Files to delete: {}",
        counts.missing,
        counts.shared,
        counts.extra
    );
    // No check runs while a sync is applied: the table follows the apply batch by batch.
    let mut local = integrity.local.lock().await;
    let report = apply_received(&*integrity.files, plan, container, |applied| {
        local.record_applied(applied);
    })
    .await?;
    drop(local);
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
    Ok(())
}
