//! The master's task of one integrity check: wait for the worker's metadata, compare, then
//! answer `syn_m_c_ok` or send the sync container; record stats and file states.

use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::oneshot;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::{TaskError, TaskFile, TaskId, WazuhException, error_codes};

use super::comparison::{Compared, compare_worker_file};
use super::error::{SendContainerError, SyncTaskError};
use super::sent_files::SentFiles;
use super::states::KnownStates;
use super::worker_state::{InSync, LastSend};
use super::{MasterIntegrity, lock};
use crate::clock::Instant;
use crate::integrity::{
    ComparisonCounts, ContainerPlan, IntegrityStats, IntegrityTask, PieceSink, PlannedFile,
    TableEntry, stream_sync_container,
};
use crate::session::SessionHandle;
use crate::sync_state::{FileSyncState, SyncStateQuery, SyncStateRecord};
use crate::transfer::{
    FileOutcome, FileUpload, ReceivedFile, SendFileError, sync_file_name, wait_for_file,
};

const MIB: f64 = 1024.0 * 1024.0;

/// File sync states handed to the store at once.
const STORED_AT_ONCE: usize = 4096;

/// When a task started, on both clocks.
#[derive(Debug, Clone, Copy)]
struct Start {
    now: Instant,
    wall: SystemTime,
}

impl Start {
    fn of(integrity: &MasterIntegrity) -> Self {
        Self {
            now: integrity.clock.now(),
            wall: integrity.clock.wall(),
        }
    }

    fn stats(
        self,
        integrity: &MasterIntegrity,
        task: IntegrityTask,
        files: usize,
        counts: ComparisonCounts,
        bytes: u64,
    ) -> IntegrityStats {
        IntegrityStats {
            task,
            started: self.wall,
            finished: integrity.clock.wall(),
            elapsed: integrity.clock.now() - self.now,
            files,
            counts,
            bytes,
        }
    }
}

/// Waits for the worker's file (at most `timeout_receiving_file`), then checks and syncs; the
/// lock of task `tid` is released at the end whatever happened.
pub(super) async fn receive_then_sync(
    integrity: Arc<MasterIntegrity>,
    name: String,
    tid: String,
    session: SessionHandle,
    waiting: oneshot::Receiver<FileOutcome>,
) {
    let tag = format!("Worker {name}");
    let start = Start::of(&integrity);
    let outcome = wait_for_file(
        waiting,
        &session,
        &*integrity.clock,
        integrity.config.timeout_receiving_file,
        &tid,
        "the worker",
        &tag,
    )
    .await;
    match outcome {
        Ok(file) => {
            if let Err(error) = check(&integrity, &name, &tag, &session, file, start).await {
                tracing::error!(tag = tag.as_str(), subtag = "Integrity check", "{error}");
            }
        }
        Err(error) => {
            tracing::error!(
                tag = tag.as_str(),
                subtag = "Integrity check",
                "Error receiving the worker's integrity file: {}",
                error.message()
            );
        }
    }
    integrity.with_worker(&name, |w| {
        w.release(&tid);
        if w.receiving.as_ref().is_some_and(|(t, _)| *t == tid) {
            w.receiving = None;
        }
    });
}

/// Decodes the worker's metadata, compares, records states, and answers.
async fn check(
    integrity: &Arc<MasterIntegrity>,
    name: &str,
    tag: &str,
    session: &SessionHandle,
    file: ReceivedFile,
    start: Start,
) -> Result<(), SyncTaskError> {
    let received = file.len();
    let file_sha256 = file.sha256();
    if let Some(files) = repeated_in_sync(integrity, name, file_sha256).await {
        let stats = start.stats(
            integrity,
            IntegrityTask::Check,
            files,
            ComparisonCounts::default(),
            received,
        );
        return answer_in_sync(integrity, name, tag, session, stats).await;
    }
    // Loaded from the store on a worker's first check, before taking a comparison's turn.
    let known = known_states(integrity, name, tag).await;
    // The decoded metadata is the largest thing a check holds: a few at a time.
    let comparing = integrity.comparisons.acquire().await;
    let (known, compared) = compare_worker_file(integrity, name, file, known).await;
    drop(comparing);
    let Compared {
        plan,
        changes,
        table_generation,
        worker_files,
    } = compared?;
    let counts = ComparisonCounts::of(&plan);
    let stats = start.stats(
        integrity,
        IntegrityTask::Check,
        worker_files,
        counts,
        received,
    );
    let stored = store(integrity, name, tag, known, changes).await;
    let in_sync = (counts.is_empty() && stored).then_some(InSync {
        file_sha256,
        table_generation,
        files: worker_files,
    });
    integrity.with_worker(name, |w| w.in_sync = in_sync);
    if counts.is_empty() {
        return answer_in_sync(integrity, name, tag, session, stats).await;
    }
    log_check(name, tag, &stats);
    integrity.with_worker(name, |w| w.last_check = Some(stats));
    tracing::info!(
        tag,
        subtag = "Integrity check",
        "Files to create in worker: {} | Files to update in worker: {} | Files to delete in worker: {}",
        counts.missing,
        counts.shared,
        counts.extra
    );
    sync(integrity, name, tag, session, plan).await
}

/// The number of files of the worker's last check if it found the worker in sync with the same
/// integrity file (`file_sha256`) and the master's table did not change since.
async fn repeated_in_sync(
    integrity: &MasterIntegrity,
    name: &str,
    file_sha256: [u8; 32],
) -> Option<usize> {
    let table_generation = integrity.table.read().await.generation();
    integrity.with_worker(name, |w| {
        let files = w
            .in_sync
            .filter(|last| last.file_sha256 == file_sha256)
            .filter(|last| last.table_generation == table_generation)
            .map(|last| last.files);
        w.repeated_checks += u64::from(files.is_some());
        files
    })
}

fn log_check(name: &str, tag: &str, stats: &IntegrityStats) {
    tracing::info!(
        tag,
        subtag = "Integrity check",
        "{}",
        stats.finished_message()
    );
    crate::telemetry::integrity(name, stats, crate::telemetry::Direction::Received);
}

/// Records a check that found nothing to send and answers `syn_m_c_ok`.
async fn answer_in_sync(
    integrity: &MasterIntegrity,
    name: &str,
    tag: &str,
    session: &SessionHandle,
    stats: IntegrityStats,
) -> Result<(), SyncTaskError> {
    log_check(name, tag, &stats);
    integrity.with_worker(name, |w| w.last_check = Some(stats));
    session
        .request(names::SYN_M_C_OK, &b""[..])
        .await
        .map(drop)
        .map_err(SyncTaskError::SendOk)
}

/// Sends `syn_m_c`, the container and `syn_m_c_e` once a sending slot is free (the sync's
/// time counts from there); adapts the limit and records states.
async fn sync(
    integrity: &Arc<MasterIntegrity>,
    name: &str,
    tag: &str,
    session: &SessionHandle,
    mut plan: ContainerPlan<Arc<TableEntry>>,
) -> Result<(), SyncTaskError> {
    let _sending = integrity.sends.acquire().await;
    let start = Start::of(integrity);
    tracing::info!(tag, subtag = "Integrity sync", "Starting.");
    let reply = session
        .request(names::SYN_M_C, &b""[..])
        .await
        .map_err(SyncTaskError::Start)?;
    let worker_tid = TaskId::parse(&String::from_utf8_lossy(&reply.payload))
        .map_err(SyncTaskError::WorkerTaskId)?;
    let limit = integrity.with_worker(name, |w| w.zip_limit.current());
    let path = sync_file_name(name, integrity.clock.wall(), &mut *lock(&integrity.rng));
    tracing::debug!(
        tag,
        subtag = "Integrity sync",
        "Sending zip file to worker."
    );
    // What reached the worker when a send fails: the limit shrinks below it (Wazuh, which
    // builds the whole container first, takes the container's size).
    let mut sent_bytes = 0;
    let sent = async {
        let mut upload = FileUpload::start(session, &path).await?;
        let piece_len = upload.piece_len();
        let streamed = stream_sync_container(
            &*integrity.files,
            &integrity.bodies,
            &mut plan,
            limit,
            piece_len,
            &mut upload,
        )
        .await;
        sent_bytes = upload.sent();
        let container = streamed?;
        let bytes = upload.end().await?;
        let end = TaskFile {
            tid: worker_tid.clone(),
            relpath: path[1..].to_owned(),
        };
        session.request(names::SYN_M_C_E, end.encode()).await?;
        Ok::<_, SendContainerError>((container, bytes))
    }
    .await;
    let (container, bytes) = match sent {
        Ok(sent) => sent,
        Err(SendContainerError::Build(e)) => {
            send_sync_error(session, &worker_tid, &e.to_string()).await;
            return Err(SyncTaskError::Container(e));
        }
        Err(error) => {
            let limit = integrity.with_worker(name, |w| {
                w.zip_limit.after_cancelled(sent_bytes);
                w.zip_limit.current()
            });
            tracing::info!(
                tag,
                subtag = "Integrity sync",
                "Decreasing sync size limit to {:.2} MB.",
                limit as f64 / MIB
            );
            let planned = plan.paths().map(str::to_owned).collect();
            mark(
                integrity.clone(),
                name.to_owned(),
                planned,
                FileSyncState::Failed,
            )
            .await;
            tracing::error!(
                tag,
                subtag = "Integrity sync",
                "Error sending the sync container: {error}"
            );
            send_sync_error(session, &worker_tid, &error.to_string()).await;
            return Ok(());
        }
    };
    tracing::debug!(
        tag,
        subtag = "Integrity sync",
        "Container sent: {:.2} MB of files, {} of them compressed earlier for another worker.",
        container.raw_bytes as f64 / MIB,
        container.from_cache
    );
    if container.is_partial() {
        tracing::warn!(
            tag,
            subtag = "Integrity sync",
            "Maximum zip size exceeded ({:.2} MB): {} files will be synchronized in a later round.",
            limit as f64 / MIB,
            container.deferred.len()
        );
    }
    let counts = ComparisonCounts::of(&plan);
    // The paths are the known states' copies: the plan's entries are the table's.
    let names = &integrity.path_names;
    let sent_files: SentFiles = plan
        .missing
        .iter()
        .chain(&plan.shared)
        .map(|file| (names.get(file.path()), Some(*file.hash())))
        .chain(plan.extra.keys().map(|p| (names.get(p), None)))
        .collect();
    drop(plan);
    let stats = start.stats(
        integrity,
        IntegrityTask::Sync,
        sent_files.len(),
        counts,
        bytes,
    );
    crate::telemetry::integrity(name, &stats, crate::telemetry::Direction::Sent);
    let grown = integrity.with_worker(name, |w| {
        let before = w.zip_limit.current();
        w.zip_limit.after_sent(stats.elapsed);
        w.last_send = Some(LastSend {
            worker_tid: worker_tid.to_string(),
            bytes,
        });
        w.last_sent = sent_files;
        w.last_sync = Some(stats.clone());
        (w.zip_limit.current() > before).then_some(w.zip_limit.current())
    });
    if let Some(limit) = grown {
        tracing::info!(
            tag,
            subtag = "Integrity sync",
            "Increasing sync size limit to {:.2} MB.",
            limit as f64 / MIB
        );
    }
    tracing::info!(
        tag,
        subtag = "Integrity sync",
        "{}",
        stats.finished_message()
    );
    Ok(())
}

impl PieceSink for FileUpload<'_> {
    type Error = SendFileError;

    async fn piece(&mut self, piece: Vec<u8>) -> Result<(), SendFileError> {
        FileUpload::piece(self, &piece).await
    }
}

async fn send_sync_error(session: &SessionHandle, worker_tid: &TaskId, error: &str) {
    let payload = TaskError {
        tid: worker_tid.clone(),
        error: WazuhException::cluster(error_codes::CLUSTER).with_extra_message(error),
    };
    let _ = session.request(names::SYN_M_C_R, payload.encode()).await;
}

/// The states `name` had recorded, taken from its state (the check or mark that takes them
/// puts the next ones back once stored), or loaded from the store when absent: on first use,
/// and after a failed store, when the store holds the truth.
async fn known_states(integrity: &MasterIntegrity, name: &str, tag: &str) -> KnownStates {
    if let Some(known) = integrity.with_worker(name, |w| w.known.take()) {
        return known;
    }
    match integrity
        .sync_states
        .states(&SyncStateQuery::node(name))
        .await
    {
        Ok(records) => records
            .into_iter()
            .map(|r| (integrity.path_names.get(&r.file), r.state))
            .collect(),
        Err(error) => {
            tracing::error!(tag, subtag = "Integrity check", "{error}");
            KnownStates::new()
        }
    }
}

/// Records `changes` (paths and their new states) and keeps `known` with them applied as the
/// worker's known states; false if the store refused them (the states are then read again
/// from the store next time).
async fn store(
    integrity: &MasterIntegrity,
    name: &str,
    tag: &str,
    mut known: KnownStates,
    changes: Vec<(Arc<str>, FileSyncState)>,
) -> bool {
    let changed = integrity.clock.wall();
    // A fresh worker's first check changes every file's state: the records (node and path
    // copied into each) are built a slice at a time, not all at once.
    for slice in changes.chunks(STORED_AT_ONCE) {
        let records: Vec<SyncStateRecord> = slice
            .iter()
            .map(|(file, state)| SyncStateRecord {
                node: name.to_owned(),
                file: file.to_string(),
                state: *state,
                changed,
            })
            .collect();
        if let Err(error) = integrity.sync_states.set_states(&records).await {
            tracing::error!(tag, subtag = "Integrity check", "{error}");
            return false;
        }
    }
    // Built apart and appended: `append` lays the whole map out again in full nodes, where
    // inserting paths in order leaves every node about half empty (25 workers' states of
    // 10,000 files took 7 MB in half-empty nodes).
    let mut changed: KnownStates = changes.into_iter().collect();
    known.append(&mut changed);
    integrity.with_worker(name, |w| w.known = Some(known));
    true
}

/// Records `state` for `paths` of worker `name`.
pub(super) async fn mark(
    integrity: Arc<MasterIntegrity>,
    name: String,
    paths: Vec<String>,
    state: FileSyncState,
) {
    let tag = format!("Worker {name}");
    let known = known_states(&integrity, &name, &tag).await;
    let changes = paths
        .into_iter()
        .filter(|path| known.get(path.as_str()) != Some(&state))
        .map(|path| (integrity.path_names.get(&path), state))
        .collect();
    store(&integrity, &name, &tag, known, changes).await;
}
