//! How a check's comparison moves the sync state of each file of one worker (the rules are in
//! [`crate::sync_state`]).

use std::collections::BTreeMap;

use wazuh_cluster_proto::payload::{Blake2bHex, FileTable};

use crate::files::ClusterItems;
use crate::integrity::MasterFiles;
use crate::sync_state::FileSyncState;

/// What the master sent in its last container to a worker: the hash of each written file,
/// `None` for a file the worker was told to delete.
pub(crate) type SentFiles = BTreeMap<String, Option<Blake2bHex>>;

/// The state of every file after a comparison of `master` with `worker`, given the files of the
/// last container sent (`sent`) and the states known before (`known`, for deletions). A file
/// only the worker lists gets a state only when its path lies inside one of the master's
/// `items`: a worker cannot make the master store rows for names of its choosing elsewhere.
pub(crate) fn states_after_check<M: MasterFiles + ?Sized>(
    master: &M,
    worker: &FileTable,
    sent: &SentFiles,
    known: &BTreeMap<String, FileSyncState>,
    items: &ClusterItems,
) -> BTreeMap<String, FileSyncState> {
    let mut states = BTreeMap::new();
    for (path, entry) in master.entries_by_path() {
        let hash = M::hash(entry);
        let state = match worker.get(path) {
            Some(theirs) if theirs.hash == *hash => FileSyncState::Synchronized,
            _ if sent.get(path).is_some_and(|s| s.as_ref() == Some(hash)) => FileSyncState::Failed,
            _ => FileSyncState::Pending,
        };
        states.insert(path.to_owned(), state);
    }
    let extra = worker
        .keys()
        .filter(|p| master.entry(p).is_none() && items.confine(p).is_ok());
    for path in extra {
        let state = if sent.get(path) == Some(&None) {
            FileSyncState::Failed
        } else {
            FileSyncState::Pending
        };
        states.insert(path.clone(), state);
    }
    for path in known.keys() {
        states.entry(path.clone()).or_insert(FileSyncState::Deleted);
    }
    states
}

/// The entries of `next` that differ from `known`.
pub(crate) fn changes<'a>(
    known: &'a BTreeMap<String, FileSyncState>,
    next: &'a BTreeMap<String, FileSyncState>,
) -> impl Iterator<Item = (&'a String, FileSyncState)> + 'a {
    next.iter()
        .filter(move |(path, state)| known.get(*path) != Some(state))
        .map(|(path, state)| (path, *state))
}

#[cfg(test)]
mod tests {
    use wazuh_cluster_proto::payload::FileMetadata;

    use super::*;

    fn meta(data: &[u8]) -> FileMetadata {
        FileMetadata {
            mod_time: 1.0,
            cluster_item_key: "etc/shared/".into(),
            merged: false,
            merge_type: None,
            merge_name: None,
            hash: Blake2bHex::of(data),
        }
    }

    #[test]
    fn a_check_classifies_every_file() {
        let master = FileTable::from([
            ("same".into(), meta(b"1")),
            ("new".into(), meta(b"2")),
            ("sent".into(), meta(b"3")),
        ]);
        let worker = FileTable::from([
            ("same".into(), meta(b"1")),
            ("sent".into(), meta(b"old")),
            ("etc/shared/extra".into(), meta(b"x")),
            ("etc/shared/kept".into(), meta(b"y")),
            ("var/db/cluster.db".into(), meta(b"outside every item")),
        ]);
        let sent = SentFiles::from([
            ("sent".into(), Some(Blake2bHex::of(b"3"))),
            ("etc/shared/kept".into(), None),
        ]);
        let known = BTreeMap::from([
            ("gone".into(), FileSyncState::Pending),
            ("same".into(), FileSyncState::Pending),
        ]);
        let states = states_after_check(
            &master,
            &worker,
            &sent,
            &known,
            &ClusterItems::wazuh_default(),
        );
        use FileSyncState::*;
        assert_eq!(
            states,
            BTreeMap::from([
                ("same".into(), Synchronized),
                ("new".into(), Pending),
                ("sent".into(), Failed),
                ("etc/shared/extra".into(), Pending),
                ("etc/shared/kept".into(), Failed),
                ("gone".into(), Deleted),
            ])
        );
        let changed: Vec<_> = changes(&known, &states).map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            changed,
            [
                "etc/shared/extra",
                "etc/shared/kept",
                "gone",
                "new",
                "same",
                "sent"
            ]
        );
    }
}
