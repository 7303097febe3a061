//! What a worker reports about its link to the master.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use wazuh_cluster_proto::payload::WazuhException;

use crate::session::SessionHandle;

/// A snapshot of a worker's connection state.
#[derive(Debug, Clone, Default)]
pub struct WorkerStatus {
    /// Whether the master accepted this worker's `hello` on the current connection.
    pub connected: bool,
    /// When the current connection was accepted.
    pub connected_since: Option<SystemTime>,
    /// When the master last answered a keepalive on the current connection.
    pub last_keepalive_reply: Option<SystemTime>,
    /// The error of the last refused `hello`, if the last handshake failed.
    pub last_handshake_error: Option<WazuhException>,
    /// Connections accepted by the master since the worker started.
    pub sessions_established: u64,
    /// The current session to the master, while connected.
    pub master: Option<SessionHandle>,
}

/// The status shared between the worker's tasks and its handles.
#[derive(Debug, Clone, Default)]
pub(crate) struct SharedStatus(Arc<Mutex<WorkerStatus>>);

impl SharedStatus {
    pub fn lock(&self) -> MutexGuard<'_, WorkerStatus> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn snapshot(&self) -> WorkerStatus {
        self.lock().clone()
    }
}
