//! openraft's async runtime, built on the parts of tokio the core may use (`rt`, `sync`,
//! `time`; see `.ci/check-deps`). openraft's own tokio runtime crate switches on tokio's
//! `rt-multi-thread`, which the core must not pull in; this adapter needs nothing more than
//! `tokio::spawn`, which runs on whatever runtime the daemon (multi-threaded) or a test
//! (current-thread, paused clock) started.
//!
//! Time is tokio's clock, so a test that pauses it drives openraft's timers too; randomness is
//! [`seed_election_rng`]'s seeded sequence.
//!
//! Adapted from `openraft-rt-tokio` 0.10.0-alpha.37 (MIT OR Apache-2.0).

mod election_rng;
mod instant;
mod mpsc;
mod mutex;
mod oneshot;
mod watch;

use std::future::Future;
use std::time::Duration;

use openraft_rt::{AsyncRuntime, OptionalSend};

pub use election_rng::seed_election_rng;
pub use instant::RaftInstant;
pub use mpsc::{RaftMpsc, RaftMpscReceiver, RaftMpscSender, RaftMpscWeakSender};
pub use mutex::RaftMutex;
pub use oneshot::{RaftOneshot, RaftOneshotSender};
pub use watch::{RaftWatch, RaftWatchReceiver, RaftWatchSender};

/// openraft's runtime for this crate: tasks on the current tokio runtime, tokio's clock, seeded
/// random draws.
pub struct RaftRuntime {
    rt: tokio::runtime::Runtime,
}

impl std::fmt::Debug for RaftRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RaftRuntime")
    }
}

impl AsyncRuntime for RaftRuntime {
    type JoinError = tokio::task::JoinError;
    type JoinHandle<T: OptionalSend + 'static> = tokio::task::JoinHandle<T>;
    type Sleep = tokio::time::Sleep;
    type Instant = RaftInstant;
    type TimeoutError = tokio::time::error::Elapsed;
    type Timeout<R, T: Future<Output = R> + OptionalSend> = tokio::time::Timeout<T>;
    type ThreadLocalRng = rand_openraft::rngs::SmallRng;
    type Mpsc = RaftMpsc;
    type Watch = RaftWatch;
    type Oneshot = RaftOneshot;
    type Mutex<T: OptionalSend + 'static> = RaftMutex<T>;

    fn spawn<T>(future: T) -> Self::JoinHandle<T::Output>
    where
        T: Future + OptionalSend + 'static,
        T::Output: OptionalSend + 'static,
    {
        tokio::task::spawn(future)
    }

    fn sleep(duration: Duration) -> Self::Sleep {
        tokio::time::sleep(duration)
    }

    fn sleep_until(deadline: RaftInstant) -> Self::Sleep {
        tokio::time::sleep_until(deadline.0)
    }

    fn timeout<R, F: Future<Output = R> + OptionalSend>(
        duration: Duration,
        future: F,
    ) -> Self::Timeout<R, F> {
        tokio::time::timeout(duration, future)
    }

    fn timeout_at<R, F: Future<Output = R> + OptionalSend>(
        deadline: RaftInstant,
        future: F,
    ) -> Self::Timeout<R, F> {
        tokio::time::timeout_at(deadline.0, future)
    }

    fn is_panic(join_error: &Self::JoinError) -> bool {
        join_error.is_panic()
    }

    fn thread_rng() -> Self::ThreadLocalRng {
        election_rng::next_rng()
    }

    /// A current-thread runtime with tokio's clock (openraft calls this only in its own tests
    /// and `TypeConfigExt::run`; the daemon runs Raft on the runtime it already has).
    fn new(_threads: usize) -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap_or_else(|e| panic!("cannot build a tokio current-thread runtime: {e}"));
        RaftRuntime { rt }
    }

    fn block_on<F, T>(&mut self, future: F) -> T
    where
        F: Future<Output = T>,
    {
        self.rt.block_on(future)
    }
}

#[cfg(test)]
mod tests {
    use super::RaftRuntime;

    /// openraft's own conformance suite for runtimes (spawn, sleep, timeouts, channels, mutex).
    #[test]
    fn passes_openraft_runtime_suite() {
        openraft_rt::testing::Suite::<RaftRuntime>::test_all();
    }
}
