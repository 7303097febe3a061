//! [`SystemClock`]: the operating system's clocks, for the core and for the frame codec.
//!
//! The monotonic timeline is tokio's (`tokio::time::Instant`, origin when the clock was made),
//! so `now` and `sleep` agree, also under tokio's paused test time.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use wazuh_cluster_core::{Clock, Instant};

/// The system clocks: tokio's monotonic time and the calendar time.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: tokio::time::Instant,
}

impl SystemClock {
    /// A clock whose monotonic origin is now. Needs a tokio runtime with time enabled for
    /// [`Clock::sleep`].
    pub fn new() -> Self {
        Self {
            origin: tokio::time::Instant::now(),
        }
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
        SystemTime::now()
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

impl wazuh_cluster_proto::Clock for SystemClock {
    fn unix_seconds(&self) -> u64 {
        SystemTime::now()
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
}
