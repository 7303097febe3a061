//! How a check's comparison moves the sync state of each file of one worker (the rules are in
//! [`crate::sync_state`]).

use std::collections::BTreeMap;

use wazuh_cluster_proto::payload::{Blake2bHex, FileTable};

use crate::files::ClusterItems;
use crate::integrity::MasterFiles;
use crate::integrity::sorted_join::{Joined, outer_join};
use crate::sync_state::FileSyncState;

/// What the master sent in its last container to a worker: the hash of each written file,
/// `None` for a file the worker was told to delete.
pub(crate) type SentFiles = BTreeMap<String, Option<Blake2bHex>>;

/// The state of every file after a comparison of `master` with `worker`, given the files of the
/// last container sent (`sent`) and the states known before (`known`, for deletions). A file
/// only the worker lists gets a state only when its path lies inside one of the master's
/// `items`: a worker cannot make the master store rows for names of its choosing elsewhere.
/// The tables are walked together in path order ([`outer_join`]), not looked up path by path.
pub(crate) fn states_after_check<M: MasterFiles + ?Sized>(
    master: &M,
    worker: &FileTable,
    sent: &SentFiles,
    known: &BTreeMap<String, FileSyncState>,
    items: &ClusterItems,
) -> BTreeMap<String, FileSyncState> {
    let theirs = worker.iter().map(|(path, meta)| (path.as_str(), meta));
    let checked = outer_join(master.entries_by_path(), theirs).filter_map(|(path, side)| {
        let state = match side {
            Joined::Both(entry, theirs) if theirs.hash == *M::hash(entry) => {
                FileSyncState::Synchronized
            }
            Joined::Left(entry) | Joined::Both(entry, _) => {
                if sent
                    .get(path)
                    .is_some_and(|s| s.as_ref() == Some(M::hash(entry)))
                {
                    FileSyncState::Failed
                } else {
                    FileSyncState::Pending
                }
            }
            Joined::Right(_) if items.confine(path).is_err() => return None,
            Joined::Right(_) if sent.get(path) == Some(&None) => FileSyncState::Failed,
            Joined::Right(_) => FileSyncState::Pending,
        };
        Some((path, state))
    });
    let known = known.iter().map(|(path, state)| (path.as_str(), *state));
    // Sorted input: `collect` builds the map in one pass.
    outer_join(checked, known)
        .map(|(path, side)| {
            let state = match side {
                Joined::Left(state) | Joined::Both(state, _) => state,
                Joined::Right(_) => FileSyncState::Deleted,
            };
            (path.to_owned(), state)
        })
        .collect()
}

/// The entries of `next` that differ from `known`, in path order.
pub(crate) fn changes<'a>(
    known: &'a BTreeMap<String, FileSyncState>,
    next: &'a BTreeMap<String, FileSyncState>,
) -> impl Iterator<Item = (&'a str, FileSyncState)> + 'a {
    let known = known.iter().map(|(path, state)| (path.as_str(), *state));
    let next = next.iter().map(|(path, state)| (path.as_str(), *state));
    outer_join(known, next).filter_map(|(path, side)| match side {
        Joined::Right(state) => Some((path, state)),
        Joined::Both(before, state) if before != state => Some((path, state)),
        _ => None,
    })
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
        let changed: Vec<_> = changes(&known, &states).map(|(p, _)| p).collect();
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
