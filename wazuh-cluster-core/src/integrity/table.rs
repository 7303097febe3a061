//! [`MetadataTable`]: the incremental table of a node's synchronized files.
//!
//! A refresh lists every file (a stat each) and hashes only files that are new or whose size or
//! modification time changed; a [`RefreshMode::Full`] refresh hashes everything (run it on a
//! schedule (`FullRehashSchedule` decides when), to catch a change
//! that kept size and mtime). So a check where nothing changed reads no content.

use std::collections::BTreeMap;

use wazuh_cluster_proto::payload::{Blake2bHex, FileMetadata, FileTable};

use super::apply::AppliedFiles;
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

/// The `{path: (size, mtime, hash)}` table of a node's synchronized files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataTable {
    entries: BTreeMap<String, TableEntry>,
    generation: u64,
}

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
        let mut next = BTreeMap::new();
        let mut to_hash = Vec::new();
        for stat in listed {
            match self.entries.remove(stat.path.as_str()) {
                Some(entry)
                    if mode == RefreshMode::Incremental
                        && entry.size == stat.size
                        && entry.mtime == stat.mtime =>
                {
                    next.insert(stat.path.as_str().to_owned(), entry);
                }
                previous => to_hash.push((stat.path, previous)),
            }
        }
        let mut report = RefreshReport {
            removed: self.entries.len(),
            hashed: to_hash.len(),
            ..RefreshReport::default()
        };
        let paths: Vec<SyncPath> = to_hash.iter().map(|(p, _)| p.clone()).collect();
        let results = source.hash(&paths).await;
        let mut entry_changed = false;
        for ((path, previous), result) in to_hash.into_iter().zip(results) {
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
                    next.insert(entry.path.as_str().to_owned(), entry);
                }
                Err(FileSourceError::NotFound { .. }) => report.removed += 1,
                Err(error) => {
                    report
                        .unreadable
                        .push((path.as_str().to_owned(), error.to_string()));
                    if let Some(entry) = previous {
                        next.insert(path.as_str().to_owned(), entry);
                    }
                }
            }
        }
        entry_changed |= report.removed > 0;
        if entry_changed {
            self.generation += 1;
        }
        self.entries = next;
        report.files = self.entries.len();
        report
    }

    /// Takes in what an apply wrote and removed, as a refresh would find it right after, so the
    /// next refresh need not hash those files again (it still stats them: a file changed since
    /// shows another size or modification time and is hashed).
    pub fn record_applied(&mut self, applied: AppliedFiles) {
        let mut changed = false;
        for path in applied.removed {
            changed |= self.entries.remove(path.as_str()).is_some();
        }
        for (path, written) in applied.written {
            let entry = TableEntry {
                path,
                size: written.size,
                mtime: written.mtime,
                hash: written.hash,
            };
            let key = entry.path.as_str().to_owned();
            changed |= self.entries.get(&key) != Some(&entry);
            self.entries.insert(key, entry);
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
        self.entries.get(relpath)
    }

    /// The table as the wire's `{path: metadata}` (the failover manifest and tests; a
    /// comparison reads the table where it is).
    pub fn to_file_table(&self) -> FileTable {
        self.entries
            .iter()
            .map(|(path, entry)| (path.clone(), Self::metadata_of(entry)))
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
            hash: entry.hash.clone(),
        }
    }

    /// The entries, sorted by path.
    pub fn entries(&self) -> impl Iterator<Item = &TableEntry> {
        self.entries.values()
    }
}
