//! A Raft log, vote and committed id in memory.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::io;
use std::ops::RangeBounds;
use std::sync::{Arc, Mutex, MutexGuard};

use openraft::entry::RaftEntry;
use openraft::storage::{IOFlushed, LogState, RaftLogReader, RaftLogStorage};

use crate::replicated::{RegistryEntry, RegistryLogId, RegistryRaftConfig as C, RegistryVote};

#[derive(Debug, Default)]
struct Log {
    last_purged: Option<RegistryLogId>,
    entries: BTreeMap<u64, RegistryEntry>,
    committed: Option<RegistryLogId>,
    vote: Option<RegistryVote>,
}

/// The log store; clones share one log (the clone is openraft's log reader).
#[derive(Debug, Clone, Default)]
pub struct MemoryLogStore {
    log: Arc<Mutex<Log>>,
}

impl MemoryLogStore {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Log> {
        self.log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl RaftLogReader<C> for MemoryLogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> Result<Vec<RegistryEntry>, io::Error> {
        Ok(self
            .lock()
            .entries
            .range(range)
            .map(|(_, e)| e.clone())
            .collect())
    }

    async fn read_vote(&mut self) -> Result<Option<RegistryVote>, io::Error> {
        Ok(self.lock().vote)
    }
}

impl RaftLogStorage<C> for MemoryLogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<C>, io::Error> {
        let log = self.lock();
        let last = log.entries.values().next_back().map(|e| e.log_id());
        Ok(LogState {
            last_purged_log_id: log.last_purged,
            last_log_id: last.or(log.last_purged),
        })
    }

    async fn get_log_reader(&mut self) -> Self {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &RegistryVote) -> Result<(), io::Error> {
        self.lock().vote = Some(*vote);
        Ok(())
    }

    async fn save_committed(&mut self, committed: Option<RegistryLogId>) -> Result<(), io::Error> {
        self.lock().committed = committed;
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<RegistryLogId>, io::Error> {
        Ok(self.lock().committed)
    }

    async fn append<I>(&mut self, entries: I, callback: IOFlushed<C>) -> Result<(), io::Error>
    where
        I: IntoIterator<Item = RegistryEntry> + Send,
        I::IntoIter: Send,
    {
        let mut log = self.lock();
        for entry in entries {
            log.entries.insert(entry.index(), entry);
        }
        drop(log);
        callback.io_completed(Ok(()));
        Ok(())
    }

    async fn truncate_after(&mut self, last: Option<RegistryLogId>) -> Result<(), io::Error> {
        let from = last.map_or(0, |id| id.index() + 1);
        self.lock().entries.split_off(&from);
        Ok(())
    }

    async fn purge(&mut self, upto: RegistryLogId) -> Result<(), io::Error> {
        let mut log = self.lock();
        let kept = log.entries.split_off(&(upto.index() + 1));
        log.entries = kept;
        log.last_purged = Some(upto);
        Ok(())
    }
}
