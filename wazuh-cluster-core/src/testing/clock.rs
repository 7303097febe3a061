//! A [`Clock`] on tokio's timer: virtual under tokio's paused time (`start_paused = true`), where a
//! test advances minutes in microseconds and every run sees the same instants.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use crate::clock::{Clock, Instant};

/// 2024/10/01 12:00:00 UTC, the default calendar origin of virtual clocks.
pub const DEFAULT_EPOCH_SECS: u64 = 1_727_784_000;

/// A clock driven by tokio's timer, with a fixed calendar origin.
#[derive(Debug, Clone)]
pub struct VirtualClock {
    origin: tokio::time::Instant,
    epoch: SystemTime,
}

impl VirtualClock {
    /// A clock whose monotonic origin is now and whose calendar time starts at `epoch`.
    pub fn new(epoch: SystemTime) -> Self {
        Self {
            origin: tokio::time::Instant::now(),
            epoch,
        }
    }
}

impl Default for VirtualClock {
    fn default() -> Self {
        Self::new(SystemTime::UNIX_EPOCH + Duration::from_secs(DEFAULT_EPOCH_SECS))
    }
}

#[async_trait]
impl Clock for VirtualClock {
    fn now(&self) -> Instant {
        Instant::from_origin(tokio::time::Instant::now() - self.origin)
    }

    fn wall(&self) -> SystemTime {
        self.epoch + self.now().since_origin()
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}
