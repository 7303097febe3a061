//! What the master keeps about each worker's integrity sync: the permission of the current
//! cycle, the lock (a lease), the adaptive container limit, the inbox of files it sends, the
//! task waiting for them, the last container sent, the last stats, and the last check that
//! found it in sync.

use std::time::SystemTime;

use super::sent_files::SentFiles;
use super::states::KnownStates;
use crate::clock::Instant;
use crate::integrity::{IntegrityStats, ZipLimit};
use crate::transfer::{FileInbox, SharedInbox, WaitingTask};

/// The integrity lock of one worker, held by task `tid` since `since`; it expires after
/// `max_locked_integrity_time`.
#[derive(Debug, Clone)]
pub(crate) struct Lease {
    pub tid: String,
    pub since: Instant,
}

/// The last container sent, to match a `cancel_task` from the worker.
#[derive(Debug, Clone)]
pub(crate) struct LastSend {
    pub worker_tid: String,
    pub bytes: u64,
}

/// The last check that found the worker in sync: the SHA-256 of the integrity file it sent
/// and the generation of the master's table it was compared with. The same file against the
/// same table gives the same answer (and the same file states), so a repeated check is
/// answered without decoding or comparing anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InSync {
    pub file_sha256: [u8; 32],
    pub table_generation: u64,
    /// Files in the worker's metadata.
    pub files: usize,
}

/// One worker's integrity state on the master, kept by worker name across reconnections.
pub(crate) struct WorkerState {
    pub executed_this_cycle: bool,
    pub lease: Option<Lease>,
    pub zip_limit: ZipLimit,
    pub inbox: SharedInbox,
    pub receiving: Option<WaitingTask>,
    pub last_send: Option<LastSend>,
    pub last_sent: SentFiles,
    pub known: Option<KnownStates>,
    pub last_check: Option<IntegrityStats>,
    pub last_sync: Option<IntegrityStats>,
    pub in_sync: Option<InSync>,
    pub repeated_checks: u64,
}

impl WorkerState {
    pub fn new(zip_limit: ZipLimit, inbox: FileInbox) -> Self {
        Self {
            executed_this_cycle: false,
            lease: None,
            zip_limit,
            inbox: SharedInbox::new(inbox.into()),
            receiving: None,
            last_send: None,
            last_sent: SentFiles::new(),
            known: None,
            last_check: None,
            last_sync: None,
            in_sync: None,
            repeated_checks: 0,
        }
    }

    /// Releases the lease if task `tid` holds it.
    pub fn release(&mut self, tid: &str) -> bool {
        if self.lease.as_ref().is_some_and(|l| l.tid == tid) {
            self.lease = None;
            true
        } else {
            false
        }
    }
}

/// What the master shows about one worker's integrity sync (`get_health`'s `status`, and
/// `cluster_control -i`).
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerIntegrityStatus {
    /// Whether the worker's integrity lock is free (Wazuh's `sync_integrity_free`).
    pub lock_free: bool,
    /// When the current lock was taken, if held (calendar time).
    pub locked_since: Option<SystemTime>,
    /// The last completed check (`last_check_integrity`).
    pub last_check: Option<IntegrityStats>,
    /// The last completed sync (`last_sync_integrity`, with its counts).
    pub last_sync: Option<IntegrityStats>,
    /// The current container limit for this worker, in bytes.
    pub zip_limit: u64,
    /// Bytes of the worker's files the master holds now (received or in progress); freed
    /// when its session ends.
    pub inbox_bytes: u64,
    /// Checks answered without comparing: the worker sent the same metadata as at its last
    /// check, which found it in sync, and the master's files did not change since.
    pub repeated_checks: u64,
}
