//! [`MasterFiles`]: the master's side of a comparison, read where it is kept (the master's
//! [`MetadataTable`], or a wire table in tests and benches) instead of copied per check.

use std::sync::Arc;

use wazuh_cluster_proto::payload::{Blake2bHex, FileMetadata, FileTable};

use super::plan::PlannedFile;
use super::table::{MetadataTable, TableEntry};

/// The master's files as a comparison reads them: every entry in path order, its hash, and
/// what a plan holds of the files a worker must write.
pub trait MasterFiles {
    /// One file's entry.
    type Entry;

    /// What a plan holds of one file.
    type Planned: PlannedFile;

    /// Every file with its entry, sorted by path.
    fn entries_by_path(&self) -> impl Iterator<Item = (&str, &Self::Entry)>;

    /// The hash of an entry.
    fn hash(entry: &Self::Entry) -> &Blake2bHex;

    /// What a plan holds of the entry of `path`.
    fn planned(path: &str, entry: &Self::Entry) -> Self::Planned;
}

impl MasterFiles for FileTable {
    type Entry = FileMetadata;
    type Planned = (String, FileMetadata);

    fn entries_by_path(&self) -> impl Iterator<Item = (&str, &FileMetadata)> {
        self.iter().map(|(path, meta)| (path.as_str(), meta))
    }

    fn hash(entry: &FileMetadata) -> &Blake2bHex {
        &entry.hash
    }

    fn planned(path: &str, entry: &FileMetadata) -> (String, FileMetadata) {
        (path.to_owned(), entry.clone())
    }
}

impl MasterFiles for MetadataTable {
    type Entry = Arc<TableEntry>;
    type Planned = Arc<TableEntry>;

    fn entries_by_path(&self) -> impl Iterator<Item = (&str, &Arc<TableEntry>)> {
        self.shared_entries()
            .map(|entry| (entry.path.as_str(), entry))
    }

    fn hash(entry: &Arc<TableEntry>) -> &Blake2bHex {
        &entry.hash
    }

    /// The table's own entry, shared.
    fn planned(_: &str, entry: &Arc<TableEntry>) -> Arc<TableEntry> {
        Arc::clone(entry)
    }
}
