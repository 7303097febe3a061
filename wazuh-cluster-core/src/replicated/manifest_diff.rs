//! [`manifest_changes`]: the commands that bring the committed file manifest to the master's
//! integrity table (what it pushes now), in batches.

use std::collections::BTreeMap;

use wazuh_cluster_proto::payload::FileTable;

use super::command::RegistryCommand;
use super::manifest::ManifestEntry;
use crate::files::ClusterItems;

/// Entries per command: a batch is one log entry, so the log never carries one huge entry.
pub const MANIFEST_BATCH: usize = 1024;

/// What `table` (the master's files, with the permissions of their cluster items in `items`)
/// changes in `committed`: entries to set (new or different), then paths to remove, in batches
/// of [`MANIFEST_BATCH`]. Empty when the manifest already matches.
pub fn manifest_changes(
    table: &FileTable,
    items: &ClusterItems,
    committed: &BTreeMap<String, ManifestEntry>,
) -> Vec<RegistryCommand> {
    let entries: Vec<ManifestEntry> = table
        .iter()
        .map(|(path, meta)| ManifestEntry {
            path: path.clone(),
            hash: meta.hash.to_string(),
            mode: items
                .get(&meta.cluster_item_key)
                .map_or(0o640, |item| item.permissions & 0o7777),
        })
        .filter(|entry| committed.get(&entry.path) != Some(entry))
        .collect();
    let gone: Vec<String> = committed
        .keys()
        .filter(|path| !table.contains_key(*path))
        .cloned()
        .collect();
    let mut commands: Vec<RegistryCommand> = entries
        .chunks(MANIFEST_BATCH)
        .map(|chunk| RegistryCommand::SetManifestEntries {
            entries: chunk.to_vec(),
        })
        .collect();
    commands.extend(gone.chunks(MANIFEST_BATCH).map(|chunk| {
        RegistryCommand::RemoveManifestEntries {
            paths: chunk.to_vec(),
        }
    }));
    commands
}

#[cfg(test)]
mod tests {
    use wazuh_cluster_proto::payload::{Blake2bHex, FileMetadata};

    use super::*;

    fn meta(contents: &[u8]) -> FileMetadata {
        FileMetadata {
            mod_time: 0.0,
            cluster_item_key: "etc/shared/".to_owned(),
            merged: false,
            merge_type: None,
            merge_name: None,
            hash: Blake2bHex::of(contents),
        }
    }

    #[test]
    fn only_what_differs_is_proposed() {
        let items = ClusterItems::wazuh_default();
        let mut table = FileTable::new();
        table.insert("etc/shared/default/agent.conf".to_owned(), meta(b"a"));
        table.insert("etc/shared/default/new.txt".to_owned(), meta(b"n"));
        let first = manifest_changes(&table, &items, &BTreeMap::new());
        let [RegistryCommand::SetManifestEntries { entries }] = first.as_slice() else {
            panic!("{first:?}");
        };
        assert_eq!(entries.len(), 2);
        let committed: BTreeMap<String, ManifestEntry> = entries
            .iter()
            .map(|e| (e.path.clone(), e.clone()))
            .chain([(
                "etc/shared/old.txt".to_owned(),
                ManifestEntry {
                    path: "etc/shared/old.txt".to_owned(),
                    hash: "0".repeat(128),
                    mode: 0o660,
                },
            )])
            .collect();
        table.insert("etc/shared/default/new.txt".to_owned(), meta(b"changed"));
        let second = manifest_changes(&table, &items, &committed);
        assert_eq!(second.len(), 2, "{second:?}");
        assert!(
            matches!(&second[0], RegistryCommand::SetManifestEntries { entries }
            if entries.len() == 1 && entries[0].path == "etc/shared/default/new.txt")
        );
        assert!(
            matches!(&second[1], RegistryCommand::RemoveManifestEntries { paths }
            if paths == &["etc/shared/old.txt"])
        );
        let mut done = committed.clone();
        done.remove("etc/shared/old.txt");
        for entry in manifest_changes(&table, &items, &committed)
            .into_iter()
            .filter_map(|c| match c {
                RegistryCommand::SetManifestEntries { entries } => Some(entries),
                _ => None,
            })
            .flatten()
        {
            done.insert(entry.path.clone(), entry);
        }
        assert!(manifest_changes(&table, &items, &done).is_empty());
    }
}
