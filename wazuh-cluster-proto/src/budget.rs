//! A node-wide cap on the bytes of divided messages being joined, shared by every connection's
//! [`Reassembler`](crate::Reassembler): each connection's own limits (256 MiB per message, 10 in
//! flight) still allow gigabytes per connection, so a node caps the sum and a frame that would
//! pass it closes its connection before its bytes are kept.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes held by incomplete divided messages on a node, and the most allowed. Cloning shares it.
#[derive(Debug, Clone)]
pub struct NodeBudget {
    used: Arc<AtomicUsize>,
    cap: usize,
}

impl NodeBudget {
    /// A budget of `cap` bytes.
    pub fn new(cap: usize) -> Self {
        Self {
            used: Arc::new(AtomicUsize::new(0)),
            cap,
        }
    }

    /// Bytes held now, over every connection.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    /// The cap.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Reserves `bytes`; `false` (nothing reserved) when that would pass the cap.
    pub(crate) fn try_take(&self, bytes: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|total| *total <= self.cap)
            })
            .is_ok()
    }

    /// Gives back `bytes` reserved before.
    pub(crate) fn give_back(&self, bytes: usize) {
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                Some(used.saturating_sub(bytes))
            });
    }
}
