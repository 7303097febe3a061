//! State shared by the master's tasks, and the per-connection context its handlers receive.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use super::registry::Registry;
use crate::clock::Clock;
use crate::config::MasterConfig;
use crate::storage::Storage;

/// What every task of one master shares.
pub struct MasterShared {
    /// The master's configuration.
    pub config: MasterConfig,
    /// Its clock.
    pub clock: Arc<dyn Clock>,
    /// Its cluster database.
    pub storage: Arc<dyn Storage>,
    /// When it started serving (calendar time).
    pub started: SystemTime,
    pub(crate) registry: Mutex<Registry>,
    /// Names of workers whose session ended, for modules to free what they hold for them.
    pub(crate) departures: tokio::sync::broadcast::Sender<String>,
}

impl MasterShared {
    pub(crate) fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The context of one accepted connection, given to every handler of the master.
pub struct MasterConn {
    /// The master's shared state.
    pub shared: Arc<MasterShared>,
    /// Id of this connection, unique within the master's life.
    pub conn_id: u64,
    /// The peer's address.
    pub peer: SocketAddr,
    worker: Mutex<Option<String>>,
}

impl MasterConn {
    pub(crate) fn new(shared: Arc<MasterShared>, conn_id: u64, peer: SocketAddr) -> Self {
        Self {
            shared,
            conn_id,
            peer,
            worker: Mutex::new(None),
        }
    }

    /// The worker's name once its `hello` was accepted.
    pub fn worker_name(&self) -> Option<String> {
        self.worker
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The log tag of this connection: `Worker <name>` after `hello`, `Master` before.
    pub fn tag(&self) -> String {
        match self.worker_name() {
            Some(name) => format!("Worker {name}"),
            None => "Master".to_owned(),
        }
    }

    pub(crate) fn set_worker_name(&self, name: String) {
        *self
            .worker
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(name);
    }
}
