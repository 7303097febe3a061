//! The master's record of its last agent syncs with each worker, for `get_health`
//! (`last_sync_agentinfo`, `last_sync_agentgroup`, `last_sync_full_agentgroup`,
//! `sync_agent_info_free`).
//!
//! - Agent-info: from the worker's `syn_a_w_m` to the master's answer; the chunks are those of
//!   the envelope the master ingested.
//! - Agent-groups (and full): from the moment the master starts sending `syn_g_m_w`
//!   (`syn_g_m_w_c`) to the worker's `syn_w_g_e` (`syn_wgc_e`); the chunks are the rows the
//!   worker says it applied. A push the worker refused (`syn_w_g_err`) records nothing.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use crate::telemetry;

/// One completed sync with a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncRun {
    /// When it started, on the master's wall clock.
    pub started: SystemTime,
    /// When it ended.
    pub finished: SystemTime,
    /// Chunks synchronized (Wazuh's `n_synced_chunks`).
    pub chunks: u64,
}

impl SyncRun {
    /// How long it took (zero if the wall clock went backwards).
    pub fn elapsed(&self) -> Duration {
        self.finished
            .duration_since(self.started)
            .unwrap_or_default()
    }
}

/// The last agent syncs between the master and one worker.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerAgentSync {
    /// Last agent-info the master ingested from the worker.
    pub agent_info: Option<SyncRun>,
    /// Last periodic agent-groups push the worker applied.
    pub agent_groups: Option<SyncRun>,
    /// Last full agent-groups resync the worker applied.
    pub agent_groups_full: Option<SyncRun>,
    /// Whether the master is ingesting agent-info of the worker right now (Wazuh's
    /// `sync_agent_info_free` is its negation).
    pub receiving_agent_info: bool,
}

/// Which agent-groups send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupsSend {
    /// The periodic push of changed agents (`syn_g_m_w`).
    Changed,
    /// Every agent, after the worker asked (`syn_g_m_w_c`).
    Full,
}

impl GroupsSend {
    /// The log subtag of this send, as Wazuh names it.
    pub fn subtag(self) -> &'static str {
        match self {
            GroupsSend::Changed => "Agent-groups send",
            GroupsSend::Full => "Agent-groups send full",
        }
    }
}

#[derive(Default)]
struct Entry {
    stats: WorkerAgentSync,
    groups_started: Option<SystemTime>,
    full_started: Option<SystemTime>,
}

/// Per-worker [`WorkerAgentSync`], shared by the master's agent handlers and tasks.
#[derive(Default)]
pub(crate) struct SyncStatsBook {
    workers: Mutex<BTreeMap<String, Entry>>,
}

impl SyncStatsBook {
    fn entry<'a>(
        workers: &'a mut MutexGuard<'_, BTreeMap<String, Entry>>,
        worker: &str,
    ) -> &'a mut Entry {
        workers.entry(worker.to_owned()).or_default()
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Entry>> {
        self.workers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The master starts ingesting agent-info of `worker`: answers `false` (and changes
    /// nothing) when an ingest of that worker is still running, so that at most one envelope of
    /// each worker waits in memory.
    pub(crate) fn info_started(&self, worker: &str) -> bool {
        let mut workers = self.lock();
        let stats = &mut Self::entry(&mut workers, worker).stats;
        !std::mem::replace(&mut stats.receiving_agent_info, true)
    }

    /// Whether the master may take agent-info of `worker` now (Wazuh's
    /// `sync_agent_info_free`): no ingest of it is running.
    pub(crate) fn info_free(&self, worker: &str) -> bool {
        self.lock()
            .get(worker)
            .is_none_or(|entry| !entry.stats.receiving_agent_info)
    }

    /// The master finished ingesting agent-info of `worker`: `run` when it succeeded.
    pub(crate) fn info_finished(&self, worker: &str, run: Option<SyncRun>) {
        let mut workers = self.lock();
        let entry = Self::entry(&mut workers, worker);
        entry.stats.receiving_agent_info = false;
        if let Some(run) = &run {
            telemetry::agent_sync(telemetry::task::AGENT_INFO, worker, run);
        }
        if run.is_some() {
            entry.stats.agent_info = run;
        }
    }

    /// The master starts sending agent-groups to `worker` at `at`.
    pub(crate) fn groups_sending(&self, worker: &str, send: GroupsSend, at: SystemTime) {
        let mut workers = self.lock();
        let entry = Self::entry(&mut workers, worker);
        match send {
            GroupsSend::Changed => entry.groups_started = Some(at),
            GroupsSend::Full => entry.full_started = Some(at),
        }
    }

    /// `worker` applied the agent-groups send (`chunks` rows) at `at`; answers the run, which
    /// starts when the send started (or at `at` if the master did not see it start).
    pub(crate) fn groups_applied(
        &self,
        worker: &str,
        send: GroupsSend,
        at: SystemTime,
        chunks: u64,
    ) -> SyncRun {
        let mut workers = self.lock();
        let entry = Self::entry(&mut workers, worker);
        let (started, slot) = match send {
            GroupsSend::Changed => (entry.groups_started.take(), &mut entry.stats.agent_groups),
            GroupsSend::Full => (
                entry.full_started.take(),
                &mut entry.stats.agent_groups_full,
            ),
        };
        let run = SyncRun {
            started: started.unwrap_or(at).min(at),
            finished: at,
            chunks,
        };
        *slot = Some(run);
        let task = match send {
            GroupsSend::Changed => telemetry::task::AGENT_GROUPS,
            GroupsSend::Full => telemetry::task::AGENT_GROUPS_FULL,
        };
        telemetry::agent_sync(task, worker, &run);
        run
    }

    /// `worker` refused the agent-groups send (or it failed): forget its start.
    pub(crate) fn groups_failed(&self, worker: &str, send: GroupsSend) {
        let mut workers = self.lock();
        let entry = Self::entry(&mut workers, worker);
        match send {
            GroupsSend::Changed => entry.groups_started = None,
            GroupsSend::Full => entry.full_started = None,
        }
    }

    /// The record of `worker`, if the master ever synced agents with it.
    pub(crate) fn get(&self, worker: &str) -> Option<WorkerAgentSync> {
        self.lock().get(worker).map(|e| e.stats.clone())
    }

    /// Every worker's record, by name.
    pub(crate) fn all(&self) -> BTreeMap<String, WorkerAgentSync> {
        self.lock()
            .iter()
            .map(|(name, e)| (name.clone(), e.stats.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn agent_info_runs_replace_the_last_and_failures_keep_it() {
        let book = SyncStatsBook::default();
        assert_eq!(book.get("w1"), None);
        assert!(book.info_started("w1"));
        assert!(book.get("w1").unwrap().receiving_agent_info);
        let run = SyncRun {
            started: at(10),
            finished: at(11),
            chunks: 3,
        };
        book.info_finished("w1", Some(run));
        assert!(book.info_started("w1"));
        book.info_finished("w1", None);
        let stats = book.get("w1").unwrap();
        assert_eq!(stats.agent_info, Some(run));
        assert!(!stats.receiving_agent_info);
        assert_eq!(run.elapsed(), Duration::from_secs(1));
    }

    #[test]
    fn one_agent_info_ingest_per_worker_at_a_time() {
        let book = SyncStatsBook::default();
        assert!(book.info_free("w1"), "a worker never seen is free");
        assert!(book.info_started("w1"));
        assert!(!book.info_free("w1"), "busy while its ingest runs");
        assert!(!book.info_started("w1"), "a second envelope is refused");
        assert!(book.info_free("w2"), "other workers are not held back");
        assert!(book.info_started("w2"));
        book.info_finished("w1", None);
        assert!(
            book.info_free("w1"),
            "free again once it ended, even failed"
        );
        assert!(book.info_started("w1"));
        assert!(!book.info_free("w2"));
    }

    #[test]
    fn groups_runs_start_when_sending_and_end_when_applied() {
        let book = SyncStatsBook::default();
        book.groups_sending("w1", GroupsSend::Changed, at(5));
        book.groups_sending("w1", GroupsSend::Full, at(6));
        let run = book.groups_applied("w1", GroupsSend::Changed, at(7), 2);
        assert_eq!((run.started, run.finished, run.chunks), (at(5), at(7), 2));
        book.groups_failed("w1", GroupsSend::Full);
        let full = book.groups_applied("w1", GroupsSend::Full, at(9), 4);
        assert_eq!(full.started, at(9), "a forgotten start is not reused");
        let all = book.all();
        assert_eq!(all["w1"].agent_groups, Some(run));
        assert_eq!(all["w1"].agent_groups_full, Some(full));
    }
}
