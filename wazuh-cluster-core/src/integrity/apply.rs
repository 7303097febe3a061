//! The worker's apply of a sync container from the master.
//!
//! `shared` and `missing` files are written atomically in batches (through
//! [`FileSource::write_batch`]), each on its own: a failure is logged and counted, and the others
//! still apply. Everything is made durable once at the end ([`FileSource::sync`]), not file by
//! file: a crash before leaves each file old or new, and the next integrity round repairs it. `extra` files are
//! removed, and only those listed in this same container's metadata. Folders left empty are
//! pruned for items with `remove_subdirs_if_empty`. Paths outside the items are refused and
//! logged; nothing is written for them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use thiserror::Error;
use wazuh_cluster_proto::payload::{DecodedContainer, MetadataError, SyncPlanPaths};

use super::received::ReceivedContainer;
use crate::files::{FileSource, FileSourceError, HashedFile, StagedFile, SyncPath};

/// The container cannot be applied at all, or what was applied cannot be made durable.
#[derive(Debug, Error)]
pub enum ApplyError {
    /// `files_metadata.json` is not a `{"missing", "shared", "extra"}` plan; nothing was written.
    #[error("the master's files_metadata.json is not a valid sync plan: {0}")]
    Metadata(#[from] MetadataError),
    /// The files were written but flushing them to stable storage failed: a power loss could
    /// still undo them (the next integrity round would then send them again).
    #[error("the synchronized files were written but could not be made durable: {0}")]
    Durability(FileSourceError),
}

/// At most this many files go to [`FileSource::write_batch`] at once.
const BATCH_FILES: usize = 1024;
/// At most this many content bytes go to [`FileSource::write_batch`] at once (a single larger
/// file still goes alone).
const BATCH_BYTES: usize = 8 << 20;

/// Failures by kind, as Wazuh counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyErrors {
    /// `shared` files that could not be written.
    pub overwriting: usize,
    /// `missing` files that could not be written.
    pub creating: usize,
    /// `extra` files that could not be removed.
    pub removing: usize,
}

impl ApplyErrors {
    /// Total failures.
    pub fn total(&self) -> usize {
        self.overwriting + self.creating + self.removing
    }
}

impl fmt::Display for ApplyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Found errors: {} overwriting, {} creating and {} removing",
            self.overwriting, self.creating, self.removing
        )
    }
}

/// What an apply did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// `missing` files written.
    pub created: usize,
    /// `shared` files written.
    pub overwritten: usize,
    /// `extra` files removed (already absent ones are not counted).
    pub removed: usize,
    /// Folders pruned.
    pub pruned_dirs: usize,
    /// Failures by kind (refused paths included).
    pub errors: ApplyErrors,
    /// Every failed or refused path with the reason.
    pub failures: Vec<(String, String)>,
    /// Files in the container that the metadata does not list (ignored).
    pub unlisted: usize,
}

/// What part of an apply changed, file by file (each batch of writes, then the removals), so
/// that the worker's table can follow without reading the files back.
#[derive(Debug, Default)]
pub struct AppliedFiles {
    /// Files written, with their size, modification time and hash right after the write.
    pub written: Vec<(SyncPath, HashedFile)>,
    /// Files removed (or found already absent).
    pub removed: Vec<SyncPath>,
}

#[derive(Clone, Copy)]
enum Kind {
    Overwrite,
    Create,
    Remove,
}

impl ApplyReport {
    fn fail(&mut self, kind: Kind, path: &str, reason: String) {
        match kind {
            Kind::Overwrite => self.errors.overwriting += 1,
            Kind::Create => self.errors.creating += 1,
            Kind::Remove => self.errors.removing += 1,
        }
        tracing::error!(
            subtag = "Integrity sync",
            path,
            "Error processing file {path:?}: {reason}"
        );
        self.failures.push((path.to_owned(), reason));
    }
}

/// Applies a decoded container received from the master.
pub async fn apply_sync<S: FileSource + ?Sized>(
    source: &S,
    container: DecodedContainer,
) -> Result<ApplyReport, ApplyError> {
    let plan = SyncPlanPaths::decode(container.metadata)?;
    let contents: BTreeMap<String, Vec<u8>> = container
        .files
        .into_iter()
        .map(|file| (file.path, file.content))
        .collect();
    apply_plan(source, plan, contents, &mut |_| {}).await
}

/// Applies `plan` (the paths of `container`'s metadata, already parsed) with the files of a container
/// received into a spool file, inflating them batch by batch by offset as they are written: the
/// tree is never held whole. A body that does not inflate fails its file alone. `record` is told
/// what changed, file by file, as it is done.
pub async fn apply_received<S: FileSource + ?Sized>(
    source: &S,
    plan: SyncPlanPaths,
    container: ReceivedContainer,
    mut record: impl FnMut(AppliedFiles) + Send,
) -> Result<ApplyReport, ApplyError> {
    let mut by_path: Vec<usize> = (0..container.len()).collect();
    by_path.sort_unstable_by(|&a, &b| container.path(a).cmp(container.path(b)));
    let contents = Received {
        taken: vec![false; container.len()],
        left: container.len(),
        by_path,
        container,
    };
    apply_plan(source, plan, contents, &mut record).await
}

/// A file's content as an apply takes it.
pub(super) enum Content {
    /// Bytes to write.
    Bytes(Vec<u8>),
    /// A copy already staged beside the target (confined), to rename over it.
    Staged(StagedFile),
}

/// Where an apply takes each file's content from.
pub(super) trait Contents {
    /// The content of `path`, no longer offered afterwards; `None` if the container lacks it.
    fn take(&mut self, path: &str) -> Option<Result<Content, String>>;
    /// How many files were never taken.
    fn left(&self) -> usize;
    /// The staged copies never taken, to discard.
    fn rest(&mut self) -> Vec<StagedFile> {
        Vec::new()
    }
}

impl Contents for BTreeMap<String, Vec<u8>> {
    fn take(&mut self, path: &str) -> Option<Result<Content, String>> {
        self.remove(path).map(|bytes| Ok(Content::Bytes(bytes)))
    }

    fn left(&self) -> usize {
        self.len()
    }
}

/// The files of a [`ReceivedContainer`], found by path (its entries sorted by path).
struct Received {
    container: ReceivedContainer,
    by_path: Vec<usize>,
    taken: Vec<bool>,
    left: usize,
}

impl Contents for Received {
    fn take(&mut self, path: &str) -> Option<Result<Content, String>> {
        let container = &self.container;
        let at = self
            .by_path
            .binary_search_by(|&i| container.path(i).cmp(path))
            .ok()?;
        let index = self.by_path[at];
        if std::mem::replace(&mut self.taken[index], true) {
            return None;
        }
        self.left -= 1;
        Some(
            self.container
                .inflate(index)
                .map(Content::Bytes)
                .map_err(|e| format!("refused the master's content: {e}")),
        )
    }

    fn left(&self) -> usize {
        self.left
    }
}

pub(super) async fn apply_plan<S: FileSource + ?Sized>(
    source: &S,
    plan: SyncPlanPaths,
    mut contents: impl Contents,
    record: &mut (dyn FnMut(AppliedFiles) + Send),
) -> Result<ApplyReport, ApplyError> {
    let mut report = ApplyReport::default();
    let mut removed = Vec::new();
    let writes = plan
        .shared
        .iter()
        .map(|p| (Kind::Overwrite, p))
        .chain(plan.missing.iter().map(|p| (Kind::Create, p)));
    let mut batch = Batch::default();
    for (kind, path) in writes {
        let content = match contents.take(path) {
            Some(Ok(content)) => content,
            Some(Err(corrupt)) => {
                report.fail(kind, path, corrupt);
                continue;
            }
            None => {
                report.fail(
                    kind,
                    path,
                    "listed in the metadata but absent from the container".into(),
                );
                continue;
            }
        };
        match content {
            Content::Staged(staged) => batch.push_staged(kind, staged),
            Content::Bytes(bytes) => match source.items().confine(path) {
                Ok(sync_path) => batch.push(kind, sync_path, bytes),
                Err(refused) => report.fail(kind, path, refused.to_string()),
            },
        }
        if batch.is_full() {
            batch.write(source, &mut report, record).await;
        }
    }
    batch.write(source, &mut report, record).await;
    report.unlisted = contents.left();
    let rest = contents.rest();
    if !rest.is_empty() {
        source.discard_staged(rest).await;
    }
    if report.unlisted > 0 {
        tracing::warn!(
            subtag = "Integrity sync",
            count = report.unlisted,
            "Ignoring files the metadata does not list"
        );
    }
    let mut to_prune: BTreeMap<String, SyncPath> = BTreeMap::new();
    for path in &plan.extra {
        if plan.writes(path) {
            report.fail(
                Kind::Remove,
                path,
                "listed both as extra and as missing or shared".into(),
            );
            continue;
        }
        let sync_path = match source.items().confine(path) {
            Ok(sync_path) => sync_path,
            Err(refused) => {
                report.fail(Kind::Remove, path, refused.to_string());
                continue;
            }
        };
        match source.remove(&sync_path).await {
            Ok(gone) => {
                report.removed += usize::from(gone);
                removed.push(sync_path.clone());
            }
            Err(error) => {
                report.fail(Kind::Remove, path, error.to_string());
                continue;
            }
        }
        let prunes = source
            .items()
            .get(sync_path.item_key())
            .is_some_and(|item| item.remove_subdirs_if_empty);
        if let Some((parent, _)) = path.rsplit_once('/').filter(|_| prunes) {
            to_prune.entry(parent.to_owned()).or_insert(sync_path);
        }
    }
    let mut pruned_dirs = BTreeSet::new();
    for (dir, path) in to_prune.iter().rev() {
        if pruned_dirs.contains(dir) {
            continue;
        }
        match source.prune_empty_dirs(path).await {
            Ok(count) => {
                report.pruned_dirs += count;
                pruned_dirs.extend(path.dirs_below_item().take(count).map(str::to_owned));
            }
            Err(error) => {
                tracing::warn!(
                    subtag = "Integrity sync",
                    dir,
                    "Could not remove empty folder {dir:?}: {error}"
                );
            }
        }
    }
    record(AppliedFiles {
        written: Vec::new(),
        removed,
    });
    source.sync().await.map_err(ApplyError::Durability)?;
    Ok(report)
}

/// Files waiting to be written (or their staged copies renamed) together.
#[derive(Default)]
struct Batch {
    kinds: Vec<Kind>,
    files: Vec<(SyncPath, Vec<u8>)>,
    bytes: usize,
    staged_kinds: Vec<Kind>,
    staged: Vec<StagedFile>,
}

impl Batch {
    fn push(&mut self, kind: Kind, path: SyncPath, content: Vec<u8>) {
        self.bytes += content.len();
        self.kinds.push(kind);
        self.files.push((path, content));
    }

    fn push_staged(&mut self, kind: Kind, staged: StagedFile) {
        self.staged_kinds.push(kind);
        self.staged.push(staged);
    }

    fn is_full(&self) -> bool {
        self.files.len() + self.staged.len() >= BATCH_FILES || self.bytes >= BATCH_BYTES
    }

    /// Writes the batch (if any), counts each file's outcome, records what was written, and
    /// empties it.
    async fn write<S: FileSource + ?Sized>(
        &mut self,
        source: &S,
        report: &mut ApplyReport,
        record: &mut (dyn FnMut(AppliedFiles) + Send),
    ) {
        if self.files.is_empty() && self.staged.is_empty() {
            return;
        }
        let files = std::mem::take(&mut self.files);
        let mut paths: Vec<SyncPath> = files.iter().map(|(p, _)| p.clone()).collect();
        let mut results = source.write_batch(files).await;
        let staged = std::mem::take(&mut self.staged);
        paths.extend(staged.iter().map(|s| s.path.clone()));
        results.extend(source.commit_staged(staged).await);
        self.kinds.append(&mut self.staged_kinds);
        let mut applied = AppliedFiles::default();
        for ((kind, path), result) in self.kinds.drain(..).zip(paths).zip(results) {
            match result {
                Ok(written) => {
                    match kind {
                        Kind::Overwrite => report.overwritten += 1,
                        _ => report.created += 1,
                    }
                    applied.written.push((path, written));
                }
                Err(reason) => report.fail(kind, path.as_str(), reason.to_string()),
            }
        }
        record(applied);
        self.bytes = 0;
    }
}
