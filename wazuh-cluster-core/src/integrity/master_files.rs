//! [`MasterFiles`]: the master's side of a comparison, read where it is kept (the master's
//! [`MetadataTable`], or a wire table in tests and benches) instead of copied per check.

use wazuh_cluster_proto::payload::{Blake2bHex, FileMetadata, FileTable};

use super::table::{MetadataTable, TableEntry};

/// The master's files as a comparison reads them: every entry in path order, its hash, and
/// the metadata a worker receives for the files it must write.
pub trait MasterFiles {
    /// One file's entry.
    type Entry;

    /// Every file with its entry, sorted by path.
    fn entries_by_path(&self) -> impl Iterator<Item = (&str, &Self::Entry)>;

    /// The hash of an entry.
    fn hash(entry: &Self::Entry) -> &Blake2bHex;

    /// An entry's metadata as the sync container's `files_metadata.json` carries it.
    fn metadata(entry: &Self::Entry) -> FileMetadata;
}

impl MasterFiles for FileTable {
    type Entry = FileMetadata;

    fn entries_by_path(&self) -> impl Iterator<Item = (&str, &FileMetadata)> {
        self.iter().map(|(path, meta)| (path.as_str(), meta))
    }

    fn hash(entry: &FileMetadata) -> &Blake2bHex {
        &entry.hash
    }

    fn metadata(entry: &FileMetadata) -> FileMetadata {
        entry.clone()
    }
}

impl MasterFiles for MetadataTable {
    type Entry = TableEntry;

    fn entries_by_path(&self) -> impl Iterator<Item = (&str, &TableEntry)> {
        self.entries().map(|entry| (entry.path.as_str(), entry))
    }

    fn hash(entry: &TableEntry) -> &Blake2bHex {
        &entry.hash
    }

    fn metadata(entry: &TableEntry) -> FileMetadata {
        MetadataTable::metadata_of(entry)
    }
}
