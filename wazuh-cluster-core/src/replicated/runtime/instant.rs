//! The runtime's clock reading: tokio's `Instant`, so that a test's paused clock
//! (`tokio::time::pause`) drives elections and heartbeats too.

use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

/// A point in tokio time, as openraft's runtime trait wants it.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Ord, PartialOrd)]
pub struct RaftInstant(pub(super) tokio::time::Instant);

impl Add<Duration> for RaftInstant {
    type Output = Self;

    fn add(self, rhs: Duration) -> Self {
        Self(self.0 + rhs)
    }
}

impl AddAssign<Duration> for RaftInstant {
    fn add_assign(&mut self, rhs: Duration) {
        self.0 += rhs;
    }
}

impl Sub<Duration> for RaftInstant {
    type Output = Self;

    fn sub(self, rhs: Duration) -> Self {
        Self(self.0 - rhs)
    }
}

impl Sub<Self> for RaftInstant {
    type Output = Duration;

    fn sub(self, rhs: Self) -> Duration {
        self.0.saturating_duration_since(rhs.0)
    }
}

impl SubAssign<Duration> for RaftInstant {
    fn sub_assign(&mut self, rhs: Duration) {
        self.0 -= rhs;
    }
}

impl openraft_rt::Instant for RaftInstant {
    fn now() -> Self {
        Self(tokio::time::Instant::now())
    }
}
