//! The CPU-bound part of the master's check of one worker, on the blocking threads: decoding
//! the worker's metadata, comparing it with the master's table and deriving the file states.
//! At 10,000 files that is tens of milliseconds per check; on the runtime's threads it held
//! back every other task of the master (agent-info ingests, keepalives, the sends of sync
//! containers) while it ran, and 25 workers check every few seconds in a change storm.

use std::sync::Arc;

use wazuh_cluster_proto::payload::SortedTable;

use super::MasterIntegrity;
use super::error::SyncTaskError;
use super::sent_files::SentFiles;
use super::states::{KnownStates, state_changes};
use crate::integrity::{ContainerPlan, ReceivedContainer, TableEntry, compare};
use crate::sync_state::FileSyncState;
use crate::transfer::ReceivedFile;

/// What a check's comparison found.
pub(super) struct Compared {
    /// What the worker must write (the table's entries) and delete.
    pub(super) plan: ContainerPlan<Arc<TableEntry>>,
    /// The file states that change, in path order.
    pub(super) changes: Vec<(Arc<str>, FileSyncState)>,
    /// The generation of the master's table compared.
    pub(super) table_generation: u64,
    /// Files the worker listed.
    pub(super) worker_files: usize,
}

/// Decodes the integrity `file` of worker `name` and compares it with the master's table,
/// given the worker's `known` states (given back, for recording the changes) and the files of
/// the last container sent to it (taken once the file decodes), on a blocking thread.
pub(super) async fn compare_worker_file(
    integrity: &Arc<MasterIntegrity>,
    name: &str,
    file: ReceivedFile,
    known: KnownStates,
) -> (KnownStates, Result<Compared, SyncTaskError>) {
    let (integrity, name) = (integrity.clone(), name.to_owned());
    let blocking = tokio::task::spawn_blocking(move || {
        let compared = compare_now(&integrity, &name, file, &known);
        (known, compared)
    });
    match blocking.await {
        Ok(done) => done,
        Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        // The runtime is shutting down: the states are read again from the store next time.
        Err(_) => (KnownStates::new(), Err(SyncTaskError::Stopping)),
    }
}

#[expect(
    clippy::result_large_err,
    reason = "the check's own error, moved once to the check that logs it"
)]
fn compare_now(
    integrity: &MasterIntegrity,
    name: &str,
    file: ReceivedFile,
    known: &KnownStates,
) -> Result<Compared, SyncTaskError> {
    let mut container = ReceivedContainer::open(file, &integrity.worker_file_limits().1)
        .map_err(SyncTaskError::WorkerFile)?;
    if !container.is_empty() {
        return Err(SyncTaskError::ExtraFiles(container.len()));
    }
    let worker_table: SortedTable = container.metadata().map_err(SyncTaskError::WorkerFile)?;
    drop(container);
    worker_table
        .check_paths()
        .map_err(|e| SyncTaskError::WorkerMetadata(e.into()))?;
    let sent: SentFiles = integrity.with_worker(name, |w| std::mem::take(&mut w.last_sent));
    let items = integrity.files.items();
    let table = integrity.table.blocking_read();
    Ok(Compared {
        plan: compare(&*table, &worker_table, items)?,
        changes: state_changes(&*table, &worker_table, &sent, known, items, |path| {
            integrity.path_names.get(path)
        }),
        table_generation: table.generation(),
        worker_files: worker_table.len(),
    })
}
