//! How a check's comparison moves the sync state of each file of one worker (the rules are in
//! [`crate::sync_state`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::sent_files::SentFiles;
use crate::files::ClusterItems;
use crate::integrity::sorted_join::{Joined, outer_join};
use crate::integrity::{MasterFiles, WorkerFiles};
use crate::sync_state::FileSyncState;

/// The last recorded state of each file of a worker, by path (shared by every worker's map:
/// [`PathNames`](super::path_names::PathNames)).
pub(crate) type KnownStates = BTreeMap<Arc<str>, FileSyncState>;

/// The files whose sync state a comparison of `master` with `worker` changes, with their new
/// state, in path order, given the files of the last container sent (`sent`) and the states
/// known before (`known`: a known file neither side lists any more is `Deleted`). A file only
/// the worker lists gets a state only when its path lies inside one of the master's `items`: a
/// worker cannot make the master store rows for names of its choosing elsewhere. The tables
/// are walked together in path order ([`outer_join`]), not looked up path by path, and only the
/// changes are copied (a check of 10,000 unchanged files allocates nothing per file). A
/// changed path is the known states' own copy, or `name`'s for a path not known yet.
pub(crate) fn state_changes<M: MasterFiles + ?Sized, W: WorkerFiles + ?Sized>(
    master: &M,
    worker: &W,
    sent: &SentFiles,
    known: &KnownStates,
    items: &ClusterItems,
    name: impl Fn(&str) -> Arc<str>,
) -> Vec<(Arc<str>, FileSyncState)> {
    let checked =
        outer_join(master.entries_by_path(), worker.files_by_path()).filter_map(|(path, side)| {
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
    let known = known.iter().map(|(path, state)| (&**path, (path, *state)));
    outer_join(checked, known)
        .filter_map(|(path, side)| {
            let (state, before) = match side {
                Joined::Left(state) => (state, None),
                Joined::Both(state, before) => (state, Some(before)),
                Joined::Right(before) => (FileSyncState::Deleted, Some(before)),
            };
            match before {
                Some((_, was)) if was == state => None,
                Some((known_path, _)) => Some((known_path.clone(), state)),
                None => Some((name(path), state)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use wazuh_cluster_proto::payload::{Blake2bHex, FileMetadata, FileTable};

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
    fn a_check_gives_the_changed_state_of_every_file() {
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
        let sent: SentFiles = [
            ("sent".into(), Some(Blake2bHex::of(b"3"))),
            ("etc/shared/kept".into(), None),
        ]
        .into_iter()
        .collect();
        let known = KnownStates::from([
            ("gone".into(), FileSyncState::Pending),
            ("same".into(), FileSyncState::Pending),
        ]);
        let changes = state_changes(
            &master,
            &worker,
            &sent,
            &known,
            &ClusterItems::wazuh_default(),
            |path: &str| Arc::from(path),
        );
        use FileSyncState::*;
        let expected: Vec<(Arc<str>, FileSyncState)> = [
            ("etc/shared/extra", Pending),
            ("etc/shared/kept", Failed),
            ("gone", Deleted),
            ("new", Pending),
            ("same", Synchronized),
            ("sent", Failed),
        ]
        .into_iter()
        .map(|(path, state)| (Arc::from(path), state))
        .collect();
        assert_eq!(changes, expected);
        // Known again, nothing changes.
        let mut now = known.clone();
        now.extend(changes);
        let again = state_changes(
            &master,
            &worker,
            &sent,
            &now,
            &ClusterItems::wazuh_default(),
            |path: &str| Arc::from(path),
        );
        assert_eq!(again, []);
    }
}
