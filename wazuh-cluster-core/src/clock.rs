//! Time as the core sees it: a wall-clock timestamp for logs and health, a monotonic instant for
//! deadlines, and sleeping. The core never reads the OS clock; its embedder hands it a [`Clock`].

use std::ops::{Add, Sub};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

/// A point on a clock's monotonic timeline: the time elapsed since that clock's origin.
///
/// Only instants of the same clock may be compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(Duration);

impl Instant {
    /// The instant `since_origin` after the clock's origin.
    pub const fn from_origin(since_origin: Duration) -> Self {
        Self(since_origin)
    }

    /// Time elapsed since the clock's origin.
    pub const fn since_origin(self) -> Duration {
        self.0
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        self.0.saturating_sub(earlier.0)
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, rhs: Duration) -> Instant {
        Instant(self.0.saturating_add(rhs))
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

/// The source of time for every state machine of the core.
///
/// Obligations of an implementation:
/// - [`Clock::now`] never goes backwards and advances at the rate at which [`Clock::sleep`]
///   completes: after `sleep(d)` returns, `now()` has advanced by at least `d`.
/// - [`Clock::wall`] is the calendar time shown to people (logs, `get_health`, `cluster_control`);
///   it may jump, and the core never uses it for deadlines.
/// - [`Clock::sleep`] is cancel-safe: dropping the future before it completes has no effect.
/// - A clock is shared by every task of a node; cloning the `Arc` around it must be cheap.
#[async_trait]
pub trait Clock: Send + Sync + 'static {
    /// The current monotonic instant.
    fn now(&self) -> Instant;

    /// The current calendar time.
    fn wall(&self) -> SystemTime;

    /// Completes once `duration` has passed on this clock.
    async fn sleep(&self, duration: Duration);

    /// Completes once `deadline` has been reached (at once if it has passed).
    async fn sleep_until(&self, deadline: Instant) {
        let now = self.now();
        if deadline > now {
            self.sleep(deadline - now).await;
        }
    }
}
