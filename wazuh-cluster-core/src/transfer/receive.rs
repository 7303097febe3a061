//! Receiving the one file a task waits for, the same on both roles: the transfer steps go into
//! the inbox, the peer's `*_e` command (`syn_i_w_m_e`, `syn_m_c_e`) hands the complete file to
//! the waiting task, and the task waits a bounded time for it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::oneshot;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::{
    TaskError, TaskFile, TaskId, TaskPayloadError, WazuhException, error_codes,
};

use super::{FileInbox, InboxError, ReceivedFile};
use crate::clock::Clock;
use crate::session::SessionHandle;

/// The outcome of waiting for a peer's file: the spool file holding it, or why it will not come.
pub type FileOutcome = Result<ReceivedFile, Box<WazuhException>>;

/// The task waiting for a file: its task id and where the file goes.
pub type WaitingTask = (String, oneshot::Sender<FileOutcome>);

/// Why [`hand_over`] refused the peer's end-of-file command (the text sent back to the peer).
#[derive(Debug, thiserror::Error)]
pub enum HandOverError {
    /// The payload is not a task id and a file name.
    #[error(transparent)]
    Payload(#[from] TaskPayloadError),
    /// The file name is outside the inbox's folder.
    #[error(transparent)]
    Name(#[from] InboxError),
    /// The command names a task that does not wait for a file.
    #[error("{command} names task {tid}, which is not waiting for a file")]
    NotWaiting {
        /// The peer's command (`syn_i_w_m_e`, `syn_m_c_e`).
        command: String,
        /// The task id it named.
        tid: TaskId,
    },
    /// No task waits for a file.
    #[error("no task is waiting for a file")]
    NoTask,
    /// The named file is not complete in the inbox.
    #[error("file {relpath:?} was not received completely")]
    Incomplete {
        /// The file's name in the inbox.
        relpath: String,
    },
}

/// Which step of a file transfer a payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferStep {
    /// `new_file`.
    NewFile,
    /// `file_upd`.
    FileUpdate,
    /// `file_end`.
    FileEnd,
}

impl FileInbox {
    /// Feeds one transfer step's payload to the inbox.
    pub fn receive(&mut self, step: TransferStep, payload: &[u8]) -> Result<(), InboxError> {
        match step {
            TransferStep::NewFile => self.start(payload),
            TransferStep::FileUpdate => self.update(payload),
            TransferStep::FileEnd => self.end(payload),
        }
    }
}

/// An inbox shared by a peer's handlers, written through [`receive_blocking`].
pub type SharedInbox = Arc<Mutex<FileInbox>>;

/// [`FileInbox::receive`] on a blocking thread: a piece's write to the spool can wait on a busy
/// disk (seconds, when 25 nodes write their trees on one disk), and must hold neither a
/// runtime thread nor any other lock meanwhile.
pub async fn receive_blocking(
    inbox: &SharedInbox,
    step: TransferStep,
    payload: Bytes,
) -> Result<(), InboxError> {
    let inbox = inbox.clone();
    let written = tokio::task::spawn_blocking(move || {
        inbox
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .receive(step, &payload)
    });
    match written.await {
        Ok(received) => received,
        Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        Err(_) => Err(InboxError::Stopping),
    }
}

/// The peer's `command` (`syn_i_w_m_e`, `syn_m_c_e`) with `payload` (task id and file name)
/// says the file is complete: hands it to the task `waiting` for it, which is then no longer
/// waiting. Refused (as the text sent back) when the payload is malformed, the name is outside
/// the inbox's folder or no task of that id waits; when the file is not complete the waiting
/// task gets the error too.
pub fn hand_over(
    inbox: &mut FileInbox,
    waiting: &mut Option<WaitingTask>,
    payload: &[u8],
    command: &str,
) -> Result<(), HandOverError> {
    let file = TaskFile::decode(payload)?;
    inbox.check_name(&file.relpath)?;
    let matches =
        matches!((&*waiting, &file.tid), (Some((tid, _)), TaskId::Uuid(got)) if tid == got);
    if !matches {
        return Err(HandOverError::NotWaiting {
            command: command.to_owned(),
            tid: file.tid.clone(),
        });
    }
    let Some((_, task)) = waiting.take() else {
        return Err(HandOverError::NoTask);
    };
    match inbox.take(&file.relpath) {
        Some(file) => {
            let _ = task.send(Ok(file));
            Ok(())
        }
        None => {
            let error = HandOverError::Incomplete {
                relpath: file.relpath.clone(),
            };
            let _ = task.send(Err(Box::new(
                WazuhException::cluster(error_codes::FILE_NOT_FOUND)
                    .with_extra_message(error.to_string()),
            )));
            Err(error)
        }
    }
}

/// Waits for the file of task `tid` from `peer` (`"the master"`, `"the worker"`) on `session`:
/// its bytes, or an error when the waiting task was replaced, the connection closed, or no file
/// came within `timeout` (then the peer is sent `cancel_task`). `tag` names the node in logs.
pub async fn wait_for_file(
    waiting: oneshot::Receiver<FileOutcome>,
    session: &SessionHandle,
    clock: &dyn Clock,
    timeout: Duration,
    tid: &str,
    peer: &str,
    tag: &str,
) -> FileOutcome {
    tokio::select! {
        biased;
        outcome = waiting => outcome.unwrap_or_else(|_| Err(Box::new(WazuhException::cluster(error_codes::FILE_WAIT_FAILED)
            .with_extra_message("the task waiting for the file was replaced")))),
        () = session.closed() => Err(Box::new(WazuhException::cluster(error_codes::FILE_WAIT_FAILED)
            .with_extra_message("the connection closed before the file arrived"))),
        () = clock.sleep(timeout) => {
            let error = WazuhException::cluster(error_codes::FILE_TIMEOUT)
                .with_extra_message(format!("no file from {peer} within {}s", timeout.as_secs()));
            let cancel = TaskError { tid: TaskId::Uuid(tid.to_owned()), error: error.clone() };
            if let Err(e) = session.request(names::CANCEL_TASK, cancel.encode()).await {
                tracing::debug!(tag, subtag = "Integrity check", "Could not send cancel_task: {e}");
            }
            Err(Box::new(error))
        }
    }
}
