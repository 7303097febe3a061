//! [`MetadataTable`]: the incremental table of a node's synchronized files.
//!
//! A refresh lists every file (a stat each) and hashes only files that are new or whose size or
//! modification time changed; a [`RefreshMode::Full`] refresh hashes everything (run it on a
//! schedule (`FullRehashSchedule` decides when), to catch a change
//! that kept size and mtime). So a check where nothing changed reads no content.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::sync::Arc;

use wazuh_cluster_proto::payload::{Blake2bHex, FileMetadata, FileTable, MetadataRef};

use super::apply::AppliedFiles;
use super::packed::Packed;
use super::sorted_join::{Joined, outer_join};
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

impl TableEntry {
    /// The entry's metadata as the wire carries it (a node's own files are never merged).
    pub fn metadata(&self) -> MetadataRef<'_> {
        MetadataRef {
            mod_time: self.mtime.as_f64(),
            cluster_item_key: self.path.item_key(),
            merged: false,
            merge_type: None,
            merge_name: None,
            hash: &self.hash,
        }
    }
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
/// key without a second copy of it. Shared: a sync plan holds the entries it sends, not a
/// copy of them.
#[derive(Debug, Clone)]
struct ByPath(Arc<TableEntry>);

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
    ///
    /// The table is updated where it is: a refresh that finds a few files changed touches
    /// their entries only (rebuilding it held two tables of 50,000 files at once, and the
    /// master's RSS peaked at its refresh after a 1 % change). The first refresh of an empty
    /// table lays it out in full nodes.
    pub async fn refresh_listed<S: FileSource + ?Sized>(
        &mut self,
        source: &S,
        mut listed: Vec<FileStat>,
        mode: RefreshMode,
    ) -> RefreshReport {
        listed.sort_unstable_by(|a, b| a.path.as_str().cmp(b.path.as_str()));
        listed.dedup_by(|a, b| a.path.as_str() == b.path.as_str());
        let (to_hash, gone) = self.stale(listed, mode);
        let mut report = RefreshReport {
            hashed: to_hash.len(),
            removed: gone.len(),
            ..RefreshReport::default()
        };
        let mut entry_changed = !gone.is_empty();
        for path in gone {
            self.entries.remove(path.as_str());
        }
        let first = self.entries.is_empty();
        let mut fresh = Packed::<BTreeSet<ByPath>>::default();
        let mut to_hash = to_hash.into_iter().peekable();
        while to_hash.peek().is_some() {
            let batch: Vec<SyncPath> = to_hash.by_ref().take(HASH_BATCH).collect();
            let results = source.hash(&batch).await;
            for (path, result) in batch.into_iter().zip(results) {
                match result {
                    Ok(hashed) => {
                        let entry = TableEntry {
                            path,
                            size: hashed.size,
                            mtime: hashed.mtime,
                            hash: hashed.hash,
                        };
                        let previous = self.get(entry.path.as_str());
                        if previous.is_none_or(|p| p.hash != entry.hash) {
                            report.changed += 1;
                        }
                        entry_changed |= previous != Some(&entry);
                        if first {
                            fresh.insert(ByPath(Arc::new(entry)));
                        } else {
                            self.entries.replace(ByPath(Arc::new(entry)));
                        }
                    }
                    Err(FileSourceError::NotFound { .. }) => {
                        self.entries.remove(path.as_str());
                        report.removed += 1;
                        entry_changed = true;
                    }
                    // A known file keeps its entry; a new one stays out until it can be read.
                    Err(error) => report
                        .unreadable
                        .push((path.as_str().to_owned(), error.to_string())),
                }
            }
        }
        if first {
            self.entries = fresh.into_inner();
        }
        if entry_changed {
            self.generation += 1;
        }
        report.files = self.entries.len();
        report
    }

    /// Walks `listed` (sorted by path, without repeats) beside the table: the files to hash
    /// (new, or another size or modification time, or every file for a full refresh) and the
    /// paths of the entries no longer listed.
    fn stale(&self, listed: Vec<FileStat>, mode: RefreshMode) -> (Vec<SyncPath>, Vec<String>) {
        let mut hash = vec![false; listed.len()];
        let mut gone = Vec::new();
        let entries = self.entries().map(|entry| (entry.path.as_str(), entry));
        let stats = listed
            .iter()
            .enumerate()
            .map(|(i, stat)| (stat.path.as_str(), (i, stat)));
        for (path, side) in outer_join(entries, stats) {
            match side {
                Joined::Left(_) => gone.push(path.to_owned()),
                Joined::Right((i, _)) => hash[i] = true,
                Joined::Both(entry, (i, stat)) => {
                    hash[i] = mode == RefreshMode::Full
                        || entry.size != stat.size
                        || entry.mtime != stat.mtime;
                }
            }
        }
        let to_hash = listed
            .into_iter()
            .zip(hash)
            .filter_map(|(stat, hash)| hash.then_some(stat.path))
            .collect();
        (to_hash, gone)
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
            self.entries.replace(ByPath(Arc::new(entry)));
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
        self.entries.get(relpath).map(|entry| &*entry.0)
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
        entry.metadata().into()
    }

    /// The entries, sorted by path.
    pub fn entries(&self) -> impl Iterator<Item = &TableEntry> {
        self.entries.iter().map(|entry| &*entry.0)
    }

    /// The entries as shared handles (a clone is a reference count), sorted by path.
    pub fn shared_entries(&self) -> impl Iterator<Item = &Arc<TableEntry>> {
        self.entries.iter().map(|entry| &entry.0)
    }
}
