//! [`WorkerFiles`]: a worker's `{path: metadata}` table as the master's comparison reads it,
//! whether decoded into a [`SortedTable`] (what the master does with a worker's integrity
//! file) or built as a [`FileTable`] (tests, benches).

use wazuh_cluster_proto::payload::{FileMetadata, FileTable, SortedTable};

/// A worker's files, each with its metadata, walked in path order.
pub trait WorkerFiles {
    /// Every file with its metadata, sorted by path, each path once.
    fn files_by_path(&self) -> impl Iterator<Item = (&str, &FileMetadata)>;
}

impl WorkerFiles for FileTable {
    fn files_by_path(&self) -> impl Iterator<Item = (&str, &FileMetadata)> {
        self.iter().map(|(path, meta)| (path.as_str(), meta))
    }
}

impl WorkerFiles for SortedTable {
    fn files_by_path(&self) -> impl Iterator<Item = (&str, &FileMetadata)> {
        self.iter()
    }
}
