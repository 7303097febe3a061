//! [`FullRehashSchedule`]: when an incremental refresh should be a full one.

use std::time::Duration;

use super::table::RefreshMode;
use crate::clock::Instant;

/// Turns every refresh into a full rehash once `period` has passed since the last full one (the
/// first refresh is full), on the node's [`Clock`](crate::clock::Clock) timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullRehashSchedule {
    period: Duration,
    last_full: Option<Instant>,
}

impl FullRehashSchedule {
    /// A schedule with a full rehash every `period`.
    pub fn new(period: Duration) -> Self {
        FullRehashSchedule {
            period,
            last_full: None,
        }
    }

    /// The mode of a refresh starting at `now`, recording it when full.
    pub fn mode_at(&mut self, now: Instant) -> RefreshMode {
        let due = self
            .last_full
            .is_none_or(|last| now.saturating_duration_since(last) >= self.period);
        if due {
            self.last_full = Some(now);
            RefreshMode::Full
        } else {
            RefreshMode::Incremental
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_first_then_once_per_period() {
        let mut schedule = FullRehashSchedule::new(Duration::from_secs(3600));
        let at = |s| Instant::from_origin(Duration::from_secs(s));
        assert_eq!(schedule.mode_at(at(10)), RefreshMode::Full);
        assert_eq!(schedule.mode_at(at(18)), RefreshMode::Incremental);
        assert_eq!(schedule.mode_at(at(3609)), RefreshMode::Incremental);
        assert_eq!(schedule.mode_at(at(3610)), RefreshMode::Full);
        assert_eq!(schedule.mode_at(at(3618)), RefreshMode::Incremental);
    }
}
