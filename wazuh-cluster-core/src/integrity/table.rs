//! [`MetadataTable`]: the incremental table of a node's synchronized files.
//!
//! A refresh lists every file (a stat each) and hashes only files that are new or whose size or
//! modification time changed; a [`RefreshMode::Full`] refresh hashes everything (run it on a
//! schedule (`FullRehashSchedule` decides when), to catch a change
//! that kept size and mtime). So a check where nothing changed reads no content.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::BTreeSet;

use wazuh_cluster_proto::payload::{Blake2bHex, FileMetadata, FileTable};

use super::apply::AppliedFiles;
use super::packed::Packed;
use crate::files::{FileSource, FileSourceError, FileStat, ModTime, SyncPath};

/// One file of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableEntry {
    /// The file (and its item).
    pub path: SyncPath,
    /// Size in bytes when hashed.
    pub size: u64,
    /// Modification time when hashed.
    pub mtime: ModTime,
    /// BLAKE2b-512 of the content.
    pub hash: Blake2bHex,
}

/// Whether a refresh trusts unchanged stats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshMode {
    /// Rehash only files that are new or whose size or mtime changed.
    Incremental,
    /// Rehash every file.
    Full,
}

/// What a refresh did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefreshReport {
    /// Files in the table afterwards.
    pub files: usize,
    /// Files whose content was hashed.
    pub hashed: usize,
    /// Files that left the table because they are no longer listed (or vanished while hashed).
    pub removed: usize,
    /// Files whose hash is new or differs from the previous table's (a hashed file whose
    /// content did not change is not counted).
    pub changed: usize,
    /// Files that could not be hashed, with the error; a known one keeps its previous entry, a
    /// new one stays out of the table until it can be read.
    pub unreadable: Vec<(String, String)>,
}

impl RefreshReport {
    /// Whether the refresh changed what a worker must hold: a file added, edited or removed.
    pub fn changed_content(&self) -> bool {
        self.changed > 0 || self.removed > 0
    }
}

/// Files hashed at once: the paths handed to the source and their results are held for one
/// batch, not for the whole tree (the first refresh of a large tree hashes every file).
const HASH_BATCH: usize = 4096;

/// A table entry ordered, compared and looked up by its path alone: the path is the entry's
/// key without a second copy of it.
#[derive(Debug, Clone)]
struct ByPath(TableEntry);

impl PartialEq for ByPath {
    fn eq(&self, other: &Self) -> bool {
        self.0.path.as_str() == other.0.path.as_str()
    }
}

impl Eq for ByPath {}

impl PartialOrd for ByPath {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ByPath {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.path.as_str().cmp(other.0.path.as_str())
    }
}

impl Borrow<str> for ByPath {
    fn borrow(&self) -> &str {
        self.0.path.as_str()
    }
}

/// The `{path: (size, mtime, hash)}` table of a node's synchronized files.
#[derive(Debug, Clone, Default)]
pub struct MetadataTable {
    entries: BTreeSet<ByPath>,
    generation: u64,
}

impl PartialEq for MetadataTable {
    fn eq(&self, other: &Self) -> bool {
        self.generation == other.generation && self.entries().eq(other.entries())
    }
}

impl Eq for MetadataTable {}

impl MetadataTable {
    /// An empty table (the first refresh hashes everything).
    pub fn new() -> Self {
        Self::default()
    }

    /// Brings the table up to date with `source`. A listing failure leaves the table unchanged.
    pub async fn refresh<S: FileSource + ?Sized>(
        &mut self,
        source: &S,
        mode: RefreshMode,
    ) -> Result<RefreshReport, FileSourceError> {
        let listed = source.list().await?;
        Ok(self.refresh_listed(source, listed, mode).await)
    }

    /// [`refresh`](Self::refresh) from a listing of `source` taken just before (without
    /// holding the table: the master's checks read it meanwhile).
    pub async fn refresh_listed<S: FileSource + ?Sized>(
        &mut self,
        source: &S,
        listed: Vec<FileStat>,
        mode: RefreshMode,
    ) -> RefreshReport {
        let mut next = Packed::<BTreeSet<ByPath>>::default();
        let mut to_hash = Vec::new();
        for stat in listed {
            let unchanged = self.entries.get(stat.path.as_str()).is_some_and(|entry| {
                mode == RefreshMode::Incremental
                    && entry.0.size == stat.size
                    && entry.0.mtime == stat.mtime
            });
            if unchanged {
                let entry = self.entries.take(stat.path.as_str()).expect("just found");
                next.insert(entry);
            } else {
                to_hash.push(stat.path);
            }
        }
        let mut report = RefreshReport {
            hashed: to_hash.len(),
            ..RefreshReport::default()
        };
        let mut entry_changed = false;
        while !to_hash.is_empty() {
            let batch: Vec<SyncPath> = to_hash.drain(..to_hash.len().min(HASH_BATCH)).collect();
            let results = source.hash(&batch).await;
            for (path, result) in batch.into_iter().zip(results) {
                let previous = self.entries.take(path.as_str()).map(|entry| entry.0);
                match result {
                    Ok(hashed) => {
                        if previous.as_ref().is_none_or(|p| p.hash != hashed.hash) {
                            report.changed += 1;
                        }
                        let entry = TableEntry {
                            path,
                            size: hashed.size,
                            mtime: hashed.mtime,
                            hash: hashed.hash,
                        };
                        entry_changed |= previous.as_ref() != Some(&entry);
                        next.insert(ByPath(entry));
                    }
                    Err(FileSourceError::NotFound { .. }) => report.removed += 1,
                    Err(error) => {
                        report
                            .unreadable
                            .push((path.as_str().to_owned(), error.to_string()));
                        if let Some(entry) = previous {
                            next.insert(ByPath(entry));
                        }
                    }
                }
            }
        }
        // What is left was not listed.
        report.removed += self.entries.len();
        entry_changed |= report.removed > 0;
        if entry_changed {
            self.generation += 1;
        }
        self.entries = next.into_inner();
        report.files = self.entries.len();
        report
    }

    /// Takes in what an apply wrote and removed, as a refresh would find it right after, so the
    /// next refresh need not hash those files again (it still stats them: a file changed since
    /// shows another size or modification time and is hashed).
    pub fn record_applied(&mut self, applied: AppliedFiles) {
        let mut changed = false;
        for path in applied.removed {
            changed |= self.entries.remove(path.as_str());
        }
        for (path, written) in applied.written {
            let entry = TableEntry {
                path,
                size: written.size,
                mtime: written.mtime,
                hash: written.hash,
            };
            changed |= self.get(entry.path.as_str()) != Some(&entry);
            self.entries.replace(ByPath(entry));
        }
        if changed {
            self.generation += 1;
        }
    }

    /// Counts the refreshes (and recorded applies) that changed an entry (added, removed, or
    /// another size, mtime or hash): two equal generations of one table have the same entries.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table has no file.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry of a relative path.
    pub fn get(&self, relpath: &str) -> Option<&TableEntry> {
        self.entries.get(relpath).map(|entry| &entry.0)
    }

    /// The table as the wire's `{path: metadata}` (the failover manifest and tests; a
    /// comparison reads the table where it is).
    pub fn to_file_table(&self) -> FileTable {
        self.entries()
            .map(|entry| (entry.path.as_str().to_owned(), Self::metadata_of(entry)))
            .collect()
    }

    /// The wire metadata of one entry.
    pub fn metadata_of(entry: &TableEntry) -> FileMetadata {
        FileMetadata {
            mod_time: entry.mtime.as_f64(),
            cluster_item_key: entry.path.item_key().to_owned(),
            merged: false,
            merge_type: None,
            merge_name: None,
            hash: entry.hash,
        }
    }

    /// The entries, sorted by path.
    pub fn entries(&self) -> impl Iterator<Item = &TableEntry> {
        self.entries.iter().map(|entry| &entry.0)
    }
}
