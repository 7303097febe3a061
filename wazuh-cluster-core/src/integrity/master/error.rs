//! Why the master refused an integrity command or gave up one integrity task.

use wazuh_cluster_proto::payload::{ContainerError, MetadataError, TaskPayloadError};

use crate::integrity::{CompareError, StreamContainerError, SyncContainerError};
use crate::session::RequestError;
use crate::transfer::{HandOverError, InboxError, SendFileError};

/// A worker's integrity command the master refuses (the text goes back to the worker).
#[derive(Debug, thiserror::Error)]
pub(super) enum RequestRefused {
    /// `syn_i_w_m` while another task holds the worker's lock.
    #[error("syn_i_w_m while task {tid} holds the integrity lock of {worker}; wait for it to end")]
    Locked {
        /// The task holding the lock.
        tid: String,
        /// The worker's name.
        worker: String,
    },
    /// A file transfer step while no task waits for a file.
    #[error("{command} with no integrity task waiting for a file; send syn_i_w_m first")]
    NoTaskWaiting {
        /// The transfer command (`new_file`, `file_upd`, `file_end`).
        command: String,
    },
    /// The transfer step was refused by the inbox.
    #[error(transparent)]
    Inbox(#[from] InboxError),
    /// The named file cannot go to a waiting task.
    #[error(transparent)]
    HandOver(#[from] HandOverError),
}

/// Why one integrity check or sync of a worker ended early (logged by the master).
#[derive(Debug, thiserror::Error)]
pub(super) enum SyncTaskError {
    /// The worker's file is not a valid container.
    #[error("Refused the worker's integrity file: {0}")]
    WorkerFile(ContainerError),
    /// The worker's file holds more than its metadata.
    #[error("Refused the worker's integrity file: it holds {0} files besides files_metadata.json")]
    ExtraFiles(usize),
    /// The worker's metadata is not a valid file table.
    #[error("Refused the worker's files_metadata.json: {0}")]
    WorkerMetadata(MetadataError),
    /// The master's and the worker's tables cannot be compared.
    #[error(transparent)]
    Compare(#[from] CompareError),
    /// `syn_m_c_ok` could not be sent.
    #[error("Error sending syn_m_c_ok: {0}")]
    SendOk(RequestError),
    /// `syn_m_c` could not be sent.
    #[error("Error starting the sync: {0}")]
    Start(RequestError),
    /// The worker answered `syn_m_c` with something other than a task id.
    #[error("Refused the worker's answer to syn_m_c: {0}")]
    WorkerTaskId(TaskPayloadError),
    /// The sync container could not be built.
    #[error("Error building the sync container: {0}")]
    Container(SyncContainerError),
    /// The master stopped during the comparison.
    #[error("The comparison was stopped: the master is stopping")]
    Stopping,
}

/// Why the sync container did not reach the worker.
#[derive(Debug, thiserror::Error)]
pub(super) enum SendContainerError {
    /// The container could not be built (the transfer is abandoned midway).
    #[error(transparent)]
    Build(SyncContainerError),
    /// The file transfer failed.
    #[error(transparent)]
    File(#[from] SendFileError),
    /// `syn_m_c_e` could not be sent.
    #[error(transparent)]
    End(#[from] RequestError),
}

impl From<StreamContainerError<SendFileError>> for SendContainerError {
    fn from(error: StreamContainerError<SendFileError>) -> Self {
        match error {
            StreamContainerError::Build(error) => Self::Build(error),
            StreamContainerError::Sink(error) => Self::File(error),
        }
    }
}
