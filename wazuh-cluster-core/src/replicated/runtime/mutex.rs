//! tokio's async mutex behind openraft's `Mutex` trait.

use std::future::Future;

use openraft_rt::OptionalSend;

/// An async mutex.
pub struct RaftMutex<T>(tokio::sync::Mutex<T>);

impl<T: OptionalSend + 'static> openraft_rt::Mutex<T> for RaftMutex<T> {
    type Guard<'a> = tokio::sync::MutexGuard<'a, T>;

    fn new(value: T) -> Self {
        Self(tokio::sync::Mutex::new(value))
    }

    fn lock(&self) -> impl Future<Output = Self::Guard<'_>> + OptionalSend {
        self.0.lock()
    }
}
