//! [`IntegrityStats`]: the record of one integrity check or sync.

use std::time::{Duration, SystemTime};

use super::compare::ComparisonCounts;

/// Which integrity task a record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntegrityTask {
    /// Computing and comparing metadata (`[Integrity check]`).
    Check,
    /// Sending or applying the files that differ (`[Integrity sync]`).
    Sync,
}

impl IntegrityTask {
    /// Wazuh's log subtag.
    pub fn subtag(self) -> &'static str {
        match self {
            IntegrityTask::Check => "Integrity check",
            IntegrityTask::Sync => "Integrity sync",
        }
    }
}

/// One check or sync: when, how long, what differed, how many bytes moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrityStats {
    /// The task.
    pub task: IntegrityTask,
    /// Calendar time it started.
    pub started: SystemTime,
    /// Calendar time it finished.
    pub finished: SystemTime,
    /// Duration on the monotonic clock.
    pub elapsed: Duration,
    /// Files in the table that was checked (or files received, for a sync).
    pub files: usize,
    /// Missing / shared / extra counts.
    pub counts: ComparisonCounts,
    /// Bytes of the containers sent or received.
    pub bytes: u64,
}

impl IntegrityStats {
    /// The closing log message in Wazuh's words, such as
    /// `Finished in 0.012s. Sync not required.` for a check (the master then logs the counts as
    /// `Files to create in worker: N | Files to update in worker: N | Files to delete in worker: N`).
    pub fn finished_message(&self) -> String {
        let secs = self.elapsed.as_secs_f64();
        match self.task {
            IntegrityTask::Check if self.counts.is_empty() => {
                format!("Finished in {secs:.3}s. Sync not required.")
            }
            IntegrityTask::Check => format!("Finished in {secs:.3}s. Sync required."),
            IntegrityTask::Sync => format!(
                "Finished in {secs:.3}s. {} missing, {} shared, {} extra, {} bytes.",
                self.counts.missing, self.counts.shared, self.counts.extra, self.bytes
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(task: IntegrityTask, counts: ComparisonCounts) -> IntegrityStats {
        IntegrityStats {
            task,
            started: SystemTime::UNIX_EPOCH,
            finished: SystemTime::UNIX_EPOCH + Duration::from_millis(12),
            elapsed: Duration::from_millis(12),
            files: 3,
            counts,
            bytes: 2048,
        }
    }

    #[test]
    fn messages_follow_wazuh() {
        let none = ComparisonCounts::default();
        assert_eq!(
            stats(IntegrityTask::Check, none).finished_message(),
            "Finished in 0.012s. Sync not required."
        );
        let some = ComparisonCounts {
            missing: 1,
            shared: 2,
            extra: 3,
        };
        assert_eq!(
            stats(IntegrityTask::Check, some).finished_message(),
            "Finished in 0.012s. Sync required."
        );
        assert_eq!(
            stats(IntegrityTask::Sync, some).finished_message(),
            "Finished in 0.012s. 1 missing, 2 shared, 3 extra, 2048 bytes."
        );
        assert_eq!(IntegrityTask::Sync.subtag(), "Integrity sync");
    }
}
