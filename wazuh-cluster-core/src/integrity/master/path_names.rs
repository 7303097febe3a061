//! [`PathNames`]: one copy of each synchronized path for the known file states of every worker.
//! The master keeps, per worker, the last recorded state of each of its files; at 25 workers
//! and 10,000 files that was 250,000 copies of the same 10,000 strings.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// Paths shared by the workers' known states. A path no worker's states hold any more is
/// forgotten when the set has doubled since the last pruning.
#[derive(Debug, Default)]
pub(crate) struct PathNames {
    inner: Mutex<Names>,
}

#[derive(Debug, Default)]
struct Names {
    set: HashSet<Arc<str>>,
    /// The set's size that triggers the next pruning.
    prune_at: usize,
}

/// The set is never pruned below this many paths (pruning walks every path).
const MIN_PRUNE_AT: usize = 4096;

impl PathNames {
    /// The shared copy of `path`.
    pub(crate) fn get(&self, path: &str) -> Arc<str> {
        let mut names = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(name) = names.set.get(path) {
            return name.clone();
        }
        if names.set.len() >= names.prune_at.max(MIN_PRUNE_AT) {
            names.set.retain(|name| Arc::strong_count(name) > 1);
            names.prune_at = names.set.len() * 2;
        }
        let name: Arc<str> = Arc::from(path);
        names.set.insert(name.clone());
        name
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.lock().map_or(0, |names| names.set.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_held_once_and_forgotten_when_unused() {
        let names = PathNames::default();
        let a = names.get("etc/shared/a");
        let again = names.get("etc/shared/a");
        assert!(Arc::ptr_eq(&a, &again));
        drop(again);
        let unused: Vec<String> = (1..MIN_PRUNE_AT).map(|i| format!("p{i}")).collect();
        for path in &unused {
            names.get(path);
        }
        assert_eq!(names.len(), MIN_PRUNE_AT);
        let b = names.get("etc/shared/b");
        assert_eq!(
            names.len(),
            2,
            "only the paths still held and the new one remain"
        );
        assert!(Arc::ptr_eq(&a, &names.get("etc/shared/a")));
        assert_eq!(&*b, "etc/shared/b");
    }
}
