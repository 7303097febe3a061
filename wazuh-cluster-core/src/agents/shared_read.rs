//! [`SharedRead`]: one read of the store shared by the callers that asked while it could still
//! answer them. A caller gets the result of a read that started after it asked, so it sees every
//! write that completed before its call; callers that queue behind a running read share the next
//! one. When 25 workers ask the master for every agent's groups at once (their first hash
//! mismatch), the master reads and encodes 50,000 assignments once or twice instead of 25 times.
//!
//! Memory stays bounded: the result is kept only while a caller still holds it (a weak
//! reference), so an idle master keeps nothing.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

/// A read shared by concurrent callers (see the module docs).
pub struct SharedRead<T> {
    /// Callers so far; each takes the next number when it asks.
    asked: AtomicU64,
    /// The last read: how many callers had asked when it started, and its result while held.
    last: tokio::sync::Mutex<Option<(u64, Weak<T>)>>,
}

impl<T> Default for SharedRead<T> {
    fn default() -> Self {
        Self {
            asked: AtomicU64::new(0),
            last: tokio::sync::Mutex::new(None),
        }
    }
}

impl<T> std::fmt::Debug for SharedRead<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedRead")
            .field("asked", &self.asked.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl<T> SharedRead<T> {
    /// The result of a `read` that started after this call: the one another caller ran, if it
    /// started after this call and its result is still held, else a new one. Reads run one at a
    /// time; a failed read is not shared (the next caller reads again).
    pub async fn get<E, F, Fut>(&self, read: F) -> Result<Arc<T>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let ticket = self.asked.fetch_add(1, Ordering::SeqCst) + 1;
        let mut last = self.last.lock().await;
        if let Some((covered, held)) = last.as_ref()
            && *covered >= ticket
            && let Some(shared) = held.upgrade()
        {
            return Ok(shared);
        }
        let covered = self.asked.load(Ordering::SeqCst);
        let value = Arc::new(read().await?);
        *last = Some((covered, Arc::downgrade(&value)));
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// Callers queued behind a running read share the next one; a caller that asks after a
    /// read started never gets that read's result.
    #[tokio::test]
    async fn queued_callers_share_one_fresh_read() {
        let shared: Arc<SharedRead<usize>> = Arc::default();
        let reads = Arc::new(AtomicUsize::new(0));
        let (release, gate) = tokio::sync::watch::channel(false);
        let read = |reads: Arc<AtomicUsize>, mut gate: tokio::sync::watch::Receiver<bool>| {
            move || async move {
                let n = reads.fetch_add(1, Ordering::SeqCst) + 1;
                let _ = gate.wait_for(|open| *open).await;
                Ok::<_, ()>(n)
            }
        };
        let first = {
            let (shared, reads, gate) = (shared.clone(), reads.clone(), gate.clone());
            tokio::spawn(async move { shared.get(read(reads, gate)).await })
        };
        while reads.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        let queued: Vec<_> = (0..5)
            .map(|_| {
                let (shared, reads, gate) = (shared.clone(), reads.clone(), gate.clone());
                tokio::spawn(async move { shared.get(read(reads, gate)).await })
            })
            .collect();
        while shared.asked.load(Ordering::SeqCst) < 6 {
            tokio::task::yield_now().await;
        }
        release.send(true).unwrap();
        let first = first.await.unwrap().unwrap();
        assert_eq!(*first, 1, "the first caller ran the first read");
        let mut results = Vec::new();
        for caller in queued {
            results.push(caller.await.unwrap().unwrap());
        }
        assert!(
            results.iter().all(|r| **r == 2),
            "every queued caller got the read that started after it asked: {results:?}"
        );
        assert_eq!(reads.load(Ordering::SeqCst), 2, "two reads for six callers");
        drop((first, results));
        let again = shared.get(read(reads.clone(), gate)).await.unwrap();
        assert_eq!(*again, 3, "a later caller reads again");
    }

    /// A failed read is not shared: the next caller reads again.
    #[tokio::test]
    async fn a_failure_is_not_shared() {
        let shared = SharedRead::<u32>::default();
        assert_eq!(
            shared.get(|| async { Err::<u32, &str>("busy") }).await,
            Err("busy")
        );
        assert_eq!(*shared.get(|| async { Ok::<_, &str>(7) }).await.unwrap(), 7);
    }
}
