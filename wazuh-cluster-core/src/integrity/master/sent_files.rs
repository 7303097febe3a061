//! [`SentFiles`]: what the master sent in its last container to a worker.

use std::sync::Arc;

use wazuh_cluster_proto::payload::Blake2bHex;

/// What the master sent in its last container to a worker: the hash of each written file,
/// `None` for a file the worker was told to delete (paths shared with the worker's known
/// states).
///
/// One vector sorted by path, built from the sync plan in one pass and sorted where it is: a
/// map collected from the plan held its 50,000 entries twice while it was built (the entries
/// gathered, then the tree), at the top of the master's memory at the end of a fresh
/// worker's sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SentFiles(Vec<(Arc<str>, Option<Blake2bHex>)>);

impl SentFiles {
    /// Nothing sent.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// What was sent for `path`: `Some(Some(hash))` written, `Some(None)` deleted, `None`
    /// not in the container.
    pub(crate) fn get(&self, path: &str) -> Option<&Option<Blake2bHex>> {
        self.0
            .binary_search_by(|(p, _)| (**p).cmp(path))
            .ok()
            .map(|i| &self.0[i].1)
    }

    /// How many files the container wrote or deleted.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// The paths, in order.
    pub(crate) fn into_paths(self) -> impl Iterator<Item = Arc<str>> {
        self.0.into_iter().map(|(path, _)| path)
    }
}

impl FromIterator<(Arc<str>, Option<Blake2bHex>)> for SentFiles {
    /// Sorts the files by path; a path given twice is kept once.
    fn from_iter<I: IntoIterator<Item = (Arc<str>, Option<Blake2bHex>)>>(iter: I) -> Self {
        let mut files: Vec<_> = iter.into_iter().collect();
        files.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
        files.dedup_by(|(a, _), (b, _)| a == b);
        files.shrink_to_fit();
        Self(files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_given_in_any_order_are_found_by_path() {
        let sent: SentFiles = [
            (Arc::from("etc/shared/b"), Some(Blake2bHex::of(b"b"))),
            (Arc::from("etc/client.keys"), Some(Blake2bHex::of(b"k"))),
            (Arc::from("etc/shared/a"), None),
            (Arc::from("etc/shared/b"), Some(Blake2bHex::of(b"b"))),
        ]
        .into_iter()
        .collect();
        assert_eq!(sent.len(), 3);
        assert_eq!(sent.get("etc/shared/b"), Some(&Some(Blake2bHex::of(b"b"))));
        assert_eq!(sent.get("etc/shared/a"), Some(&None));
        assert_eq!(sent.get("etc/shared/c"), None);
        let paths: Vec<Arc<str>> = sent.into_paths().collect();
        assert_eq!(
            paths,
            [
                Arc::from("etc/client.keys"),
                Arc::from("etc/shared/a"),
                Arc::from("etc/shared/b")
            ]
        );
    }
}
