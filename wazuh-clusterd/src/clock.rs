//! [`SystemClock`]: the operating system's clocks, for the core and for the frame codec.
//!
//! The monotonic timeline is tokio's (`tokio::time::Instant`, origin when the clock was made),
//! so `now` and `sleep` agree, also under tokio's paused test time.
//!
//! For tests only, the calendar time can be shifted ([`SystemClock::shifted`]; the daemon reads
//! the shift from [`TEST_CLOCK_OFFSET_ENV`]) to play a node whose clock is wrong: its Fernet
//! timestamps and the dates it records move, its peers see the skew.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Environment variable, for tests only, shifting the daemon's calendar clock by a whole number
/// of seconds (`-30` runs 30 s late). Never set it in production: a shifted node writes wrong
/// dates and its peers warn about its clock.
pub const TEST_CLOCK_OFFSET_ENV: &str = "WAZUH_CLUSTERD_TEST_CLOCK_OFFSET";

use async_trait::async_trait;
use wazuh_cluster_core::{Clock, Instant};

/// The system clocks: tokio's monotonic time and the calendar time.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: tokio::time::Instant,
    /// Seconds added to the calendar time (tests only).
    shift: i64,
}

impl SystemClock {
    /// A clock whose monotonic origin is now. Needs a tokio runtime with time enabled for
    /// [`Clock::sleep`].
    pub fn new() -> Self {
        Self {
            origin: tokio::time::Instant::now(),
            shift: 0,
        }
    }

    /// A clock whose calendar time is `shift` seconds off the system's (tests only).
    pub fn shifted(shift: i64) -> Self {
        Self {
            shift,
            ..Self::new()
        }
    }

    /// The daemon's clock: the system's, shifted by [`TEST_CLOCK_OFFSET_ENV`] when a test set
    /// it to a whole number of seconds.
    pub fn from_environment() -> Self {
        let shift = std::env::var(TEST_CLOCK_OFFSET_ENV)
            .ok()
            .and_then(|text| text.trim().parse::<i64>().ok())
            .unwrap_or(0);
        if shift != 0 {
            tracing::warn!(
                tag = "Cluster",
                subtag = "Main",
                "{TEST_CLOCK_OFFSET_ENV} shifts this node's clock by {shift}s: for tests only."
            );
        }
        Self::shifted(shift)
    }

    fn elapsed(&self) -> Duration {
        tokio::time::Instant::now().saturating_duration_since(self.origin)
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::from_origin(self.elapsed())
    }

    fn wall(&self) -> SystemTime {
        let now = SystemTime::now();
        let by = Duration::from_secs(self.shift.unsigned_abs());
        if self.shift >= 0 { now + by } else { now - by }
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

impl wazuh_cluster_proto::Clock for SystemClock {
    fn unix_seconds(&self) -> u64 {
        wazuh_cluster_core::Clock::wall(self)
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    fn monotonic(&self) -> Duration {
        self.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn sleep_advances_now_by_at_least_the_duration() {
        let clock = SystemClock::new();
        let before = clock.now();
        clock.sleep(Duration::from_secs(3)).await;
        assert!(clock.now() - before >= Duration::from_secs(3));
        assert_eq!(
            wazuh_cluster_proto::Clock::monotonic(&clock),
            clock.now().since_origin()
        );
    }

    #[tokio::test]
    async fn a_shifted_clock_moves_calendar_time_and_token_time() {
        use wazuh_cluster_proto::Clock as _;
        let late = SystemClock::shifted(-30);
        let right = SystemClock::new();
        let late_wall = late.wall();
        let gap = right.wall().duration_since(late_wall).unwrap();
        assert!(gap >= Duration::from_secs(30) && gap < Duration::from_secs(31));
        let token_gap = right.unix_seconds() - late.unix_seconds();
        assert!((29..=31).contains(&token_gap), "{token_gap}");
    }
}
