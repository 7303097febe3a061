//! [`LocalChanges`]: whether a node's synchronized files may have changed since its last
//! listing.

use std::sync::atomic::{AtomicBool, Ordering};

/// What a node knows of changes to its synchronized files between two listings. Until a
/// watcher reports changes ([`watched`](Self::watched)), nothing is known and every refresh
/// lists the files; once one does, a refresh lists them only when a change was reported since
/// the previous listing. A worker reports its own applies too.
#[derive(Debug)]
pub(crate) struct LocalChanges {
    watched: AtomicBool,
    changed: AtomicBool,
}

impl LocalChanges {
    /// Nothing watched yet, and the files not listed yet.
    pub fn new() -> Self {
        Self {
            watched: AtomicBool::new(false),
            changed: AtomicBool::new(true),
        }
    }

    /// Every change is reported from now on.
    pub fn watched(&self) {
        self.watched.store(true, Ordering::SeqCst);
    }

    /// Changes are no longer reported: every refresh lists the files.
    pub fn unwatched(&self) {
        self.watched.store(false, Ordering::SeqCst);
    }

    /// The files changed (or may have: a watcher that lost events says so too).
    pub fn changed(&self) {
        self.changed.store(true, Ordering::SeqCst);
    }

    /// Whether the files are known not to have changed since the previous call; a change
    /// reported from now on counts for the next call.
    pub fn take_unchanged(&self) -> bool {
        let changed = self.changed.swap(false, Ordering::SeqCst);
        self.watched.load(Ordering::SeqCst) && !changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_until_watched_then_unchanged_until_a_change() {
        let changes = LocalChanges::new();
        assert!(!changes.take_unchanged(), "never listed");
        assert!(!changes.take_unchanged(), "not watched");
        changes.watched();
        assert!(changes.take_unchanged());
        changes.changed();
        assert!(!changes.take_unchanged());
        assert!(changes.take_unchanged(), "the change was taken");
        changes.unwatched();
        assert!(!changes.take_unchanged(), "no longer watched");
    }
}
