//! The master's table of connected workers.

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::clock::Instant;
use crate::node::{NodeInfo, NodeType};
use crate::session::SessionHandle;

/// One worker that completed `hello`.
#[derive(Debug, Clone)]
pub(crate) struct WorkerEntry {
    /// Id of the connection that registered it.
    pub conn_id: u64,
    /// Its session.
    pub session: SessionHandle,
    /// Announced version.
    pub version: String,
    /// IP it connected from.
    pub address: String,
    /// When it registered (calendar time).
    pub connected_since: SystemTime,
    /// Last `echo-c` (or registration), monotonic.
    pub last_keepalive: Instant,
    /// Last `echo-c` (or registration), calendar time.
    pub last_keepalive_wall: SystemTime,
    /// Registration order, for listing in connect order.
    pub seq: u64,
}

/// Connected workers by name.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    workers: BTreeMap<String, WorkerEntry>,
    next_seq: u64,
}

impl Registry {
    pub fn get(&self, name: &str) -> Option<&WorkerEntry> {
        self.workers.get(name)
    }

    /// Registers `entry` under `name`, replacing any earlier entry.
    pub fn insert(&mut self, name: String, mut entry: WorkerEntry) {
        entry.seq = self.next_seq;
        self.next_seq += 1;
        self.workers.insert(name, entry);
    }

    /// Removes `name` if its entry belongs to connection `conn_id`.
    pub fn remove_connection(&mut self, name: &str, conn_id: u64) -> Option<WorkerEntry> {
        if self.workers.get(name)?.conn_id == conn_id {
            self.workers.remove(name)
        } else {
            None
        }
    }

    /// Removes `name` whatever its connection.
    pub fn remove(&mut self, name: &str) -> Option<WorkerEntry> {
        self.workers.remove(name)
    }

    /// Records a keepalive from connection `conn_id` registered as `name`.
    pub fn touch(&mut self, name: &str, conn_id: u64, now: Instant, wall: SystemTime) {
        if let Some(entry) = self.workers.get_mut(name).filter(|e| e.conn_id == conn_id) {
            entry.last_keepalive = now;
            entry.last_keepalive_wall = wall;
        }
    }

    /// Removes and returns every worker silent for longer than `limit` at `now`.
    pub fn take_silent(
        &mut self,
        now: Instant,
        limit: std::time::Duration,
    ) -> Vec<(String, WorkerEntry)> {
        let silent: Vec<String> = self
            .workers
            .iter()
            .filter(|(_, e)| now - e.last_keepalive > limit)
            .map(|(name, _)| name.clone())
            .collect();
        silent
            .into_iter()
            .filter_map(|name| self.workers.remove(&name).map(|e| (name, e)))
            .collect()
    }

    /// Workers as node-list rows, in connect order.
    pub fn node_infos(&self) -> Vec<NodeInfo> {
        let mut entries: Vec<(&String, &WorkerEntry)> = self.workers.iter().collect();
        entries.sort_by_key(|(_, e)| e.seq);
        entries
            .into_iter()
            .map(|(name, e)| NodeInfo {
                name: name.clone(),
                node_type: NodeType::Worker,
                version: e.version.clone(),
                address: e.address.clone(),
                connected_since: e.connected_since,
                last_keepalive: Some(e.last_keepalive_wall),
            })
            .collect()
    }

    /// Every registered worker's session, by name.
    pub fn sessions(&self) -> impl Iterator<Item = (&String, &SessionHandle)> {
        self.workers.iter().map(|(n, e)| (n, &e.session))
    }
}
