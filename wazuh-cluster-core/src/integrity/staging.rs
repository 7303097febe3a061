//! Staging a container's files while it is still being received ([`ContainerStager`]): each
//! file entry is inflated and written under a temporary name beside its target as soon as the
//! bytes after it arrive ([`FileSource::stage_batch`]), so that once the container is complete
//! and its metadata (which comes last) is read, the apply only renames what the metadata lists
//! ([`ContainerStager::apply`]). Nothing is visible before the container is whole and valid: a malformed
//! container, or one that never completes, has its staged files discarded.

use wazuh_cluster_proto::payload::{
    ContainerError, ContainerLimits, ContainerScanner, Inflater, SyncPlanPaths,
};

use super::apply::{AppliedFiles, ApplyError, ApplyReport, Content, Contents, apply_plan};
use crate::files::{FileSource, StagedFile, SyncPath};
use crate::transfer::{ReceivedFile, SpoolFile, SpoolReader};

/// Bytes read from the file at once while scanning.
const SCAN_BLOCK: usize = 256 << 10;
/// At most this many files are staged together.
const STAGE_FILES: usize = 1024;
/// At most this many content bytes are staged together (a larger file still goes alone).
const STAGE_BYTES: usize = 8 << 20;

/// A file entry of the container: its staged copy, or why it has none.
#[derive(Debug)]
enum Entry {
    Staged(StagedFile),
    Failed { path: String, reason: String },
}

impl Entry {
    fn path(&self) -> &str {
        match self {
            Entry::Staged(staged) => staged.path.as_str(),
            Entry::Failed { path, .. } => path,
        }
    }
}

/// Scans a container as it arrives and stages its files on `source`.
#[derive(Debug)]
pub struct ContainerStager<'a, S: ?Sized> {
    source: &'a S,
    scanner: ContainerScanner,
    inflater: Inflater,
    /// Bytes of the file scanned so far.
    scanned: u64,
    /// Where the next bytes are read to before they are scanned.
    block: Vec<u8>,
    /// File entries of the scanner already taken.
    taken: usize,
    batch: Vec<(SyncPath, Vec<u8>)>,
    batch_bytes: usize,
    entries: Vec<Entry>,
}

impl<'a, S: FileSource + ?Sized> ContainerStager<'a, S> {
    /// A stager writing to `source`, refusing a container beyond `limits`.
    pub fn new(source: &'a S, limits: &ContainerLimits) -> Self {
        Self {
            source,
            scanner: ContainerScanner::new(limits),
            inflater: Inflater::new(limits),
            scanned: 0,
            block: vec![0u8; SCAN_BLOCK],
            taken: 0,
            batch: Vec::new(),
            batch_bytes: 0,
            entries: Vec::new(),
        }
    }

    /// Bytes scanned so far.
    pub fn scanned(&self) -> u64 {
        self.scanned
    }

    /// Scans what `file` holds beyond what was scanned and stages the file entries completed
    /// (a batch at a time). A malformed container is refused at once; a file that cannot be
    /// inflated, confined or staged fails alone.
    pub async fn advance(&mut self, file: &dyn SpoolFile) -> Result<(), ContainerError> {
        loop {
            let left = file.len().saturating_sub(self.scanned);
            if left == 0 {
                return Ok(());
            }
            let len = usize::try_from(left).map_or(SCAN_BLOCK, |l| l.min(SCAN_BLOCK));
            file.read_at(self.scanned, &mut self.block[..len])
                .map_err(ContainerError::Read)?;
            self.scanner.feed(&self.block[..len])?;
            self.scanned += len as u64;
            self.take_entries(file).await;
        }
    }

    async fn take_entries(&mut self, file: &dyn SpoolFile) {
        while let Some(entry) = self.scanner.files().get(self.taken).cloned() {
            self.taken += 1;
            let body = SpoolReader::range(file, entry.offset, entry.len);
            let content = self
                .inflater
                .inflate(&entry, body)
                .map_err(|e| format!("refused the master's content: {e}"))
                .and_then(|content| {
                    let path = self
                        .source
                        .items()
                        .confine(&entry.path)
                        .map_err(|refused| refused.to_string())?;
                    Ok((path, content))
                });
            match content {
                Ok((path, content)) => {
                    self.batch_bytes += content.len();
                    self.batch.push((path, content));
                    if self.batch.len() >= STAGE_FILES || self.batch_bytes >= STAGE_BYTES {
                        self.stage().await;
                    }
                }
                Err(reason) => self.entries.push(Entry::Failed {
                    path: entry.path,
                    reason,
                }),
            }
        }
    }

    async fn stage(&mut self) {
        let batch = std::mem::take(&mut self.batch);
        self.batch_bytes = 0;
        let paths: Vec<String> = batch.iter().map(|(p, _)| p.as_str().to_owned()).collect();
        let results = self.source.stage_batch(batch).await;
        for (path, result) in paths.into_iter().zip(results) {
            self.entries.push(match result {
                Ok(staged) => Entry::Staged(staged),
                Err(error) => Entry::Failed {
                    path,
                    reason: error.to_string(),
                },
            });
        }
    }

    /// The container is complete in `file`: scans and stages its end, checks it whole
    /// (duplicates, metadata last) and parses the metadata as the plan. On an error the staged
    /// files are still here: [`abandon`](Self::abandon) them.
    pub async fn finish(&mut self, file: &ReceivedFile) -> Result<SyncPlanPaths, ContainerError> {
        self.advance(file.data()).await?;
        self.stage().await;
        let index = self.scanner.finish()?;
        let metadata = index.metadata();
        let body = SpoolReader::range(file.data(), metadata.offset, metadata.len);
        let plan: SyncPlanPaths = self.inflater.parse(metadata, body)?;
        Ok(plan)
    }

    /// Removes every staged file: the container will not be applied.
    pub async fn abandon(mut self) {
        let staged = std::mem::take(&mut self.entries)
            .into_iter()
            .filter_map(|entry| match entry {
                Entry::Staged(staged) => Some(staged),
                Entry::Failed { .. } => None,
            })
            .collect::<Vec<_>>();
        if !staged.is_empty() {
            self.source.discard_staged(staged).await;
        }
    }

    /// Applies `plan` with the staged files (after a successful [`finish`](Self::finish)):
    /// renames those listed over their targets, discards the others, removes `extra`, then makes
    /// it all durable, as [`apply_received`](super::apply_received) does with written files.
    pub async fn apply(
        self,
        plan: SyncPlanPaths,
        mut record: impl FnMut(AppliedFiles) + Send,
    ) -> Result<ApplyReport, ApplyError> {
        let mut entries = self.entries;
        entries.sort_by(|a, b| a.path().cmp(b.path()));
        let staged = StagedEntries {
            left: entries.len(),
            taken: vec![false; entries.len()],
            entries,
        };
        apply_plan(self.source, plan, staged, &mut record).await
    }
}

/// The staged entries found by path (sorted by path), each taken once.
struct StagedEntries {
    entries: Vec<Entry>,
    taken: Vec<bool>,
    left: usize,
}

impl Contents for StagedEntries {
    fn take(&mut self, path: &str) -> Option<Result<Content, String>> {
        let at = self
            .entries
            .binary_search_by(|entry| entry.path().cmp(path))
            .ok()?;
        if std::mem::replace(&mut self.taken[at], true) {
            return None;
        }
        self.left -= 1;
        Some(match &self.entries[at] {
            Entry::Staged(staged) => Ok(Content::Staged(staged.clone())),
            Entry::Failed { reason, .. } => Err(reason.clone()),
        })
    }

    fn left(&self) -> usize {
        self.left
    }

    fn rest(&mut self) -> Vec<StagedFile> {
        self.entries
            .iter()
            .zip(&self.taken)
            .filter_map(|(entry, taken)| match entry {
                Entry::Staged(staged) if !taken => Some(staged.clone()),
                _ => None,
            })
            .collect()
    }
}
