//! The master's sync container: the content of `shared` and `missing` under the current
//! [`ZipLimit`](super::zip_limit::ZipLimit), and the metadata the worker applies.
//!
//! Files that do not fit (too large alone, the limit reached, unreadable, or whose compressed
//! body holds Wazuh's separator) are left out of the container **and** of the metadata, so the
//! worker neither expects them nor deletes anything because of them; the next comparison finds
//! them again. `extra` travels whole: it does not depend on what fitted.

use thiserror::Error;
use wazuh_cluster_proto::payload::{
    AddOutcome, ContainerEncoder, ContainerError, SkipReason, SyncPlan,
};

use crate::files::{FileSource, FileSourceError};

/// The container could not be built.
#[derive(Debug, Error)]
pub enum SyncContainerError {
    /// The encoder refused a path or the metadata.
    #[error("cannot build the sync container: {0}")]
    Container(#[from] ContainerError),
    /// The plan could not be turned into JSON.
    #[error("cannot serialize the sync metadata: {0}")]
    Metadata(#[from] serde_json::Error),
}

/// Why a file of the plan was left for a later round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deferral {
    /// The encoder left it out (too large alone, limit reached, separator in its body).
    Skipped(SkipReason),
    /// It could not be read (it vanished, or an I/O error); the text says why.
    Unreadable(String),
}

/// A file of the plan that is not in this container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeferredFile {
    /// Its relative path.
    pub path: String,
    /// Why.
    pub reason: Deferral,
}

/// A built container and what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncContainer {
    /// The bytes to send (`relpath|//@@//|zlib|@@//@@|...files_metadata.json|//@@//|zlib(json)`).
    pub bytes: Vec<u8>,
    /// The metadata inside: the plan minus the deferred files.
    pub plan: SyncPlan,
    /// Files of `missing`/`shared` that wait for a later round.
    pub deferred: Vec<DeferredFile>,
    /// Raw (uncompressed) bytes of the files inside.
    pub raw_bytes: u64,
}

impl SyncContainer {
    /// Whether any file had to wait (Wazuh logs "Maximum zip size exceeded" for the limit case).
    pub fn is_partial(&self) -> bool {
        !self.deferred.is_empty()
    }
}

/// Files read together (through [`FileSource::read_batch`]) while building a container.
const READ_BATCH: usize = 256;

/// Reads `shared` then `missing` from `source` in batches and packs them under `limit` bytes.
/// Once the limit is reached the remaining files are deferred without being read (beyond the
/// batch being packed).
pub async fn build_sync_container<S: FileSource + ?Sized>(
    source: &S,
    plan: &SyncPlan,
    limit: u64,
) -> Result<SyncContainer, SyncContainerError> {
    let mut encoder = ContainerEncoder::new(limit);
    let mut kept = SyncPlan {
        extra: plan.extra.clone(),
        ..SyncPlan::default()
    };
    let mut deferred = Vec::new();
    let mut raw_bytes = 0;
    let mut full = false;
    let wanted: Vec<_> = plan
        .shared
        .iter()
        .map(|e| (true, e))
        .chain(plan.missing.iter().map(|e| (false, e)))
        .collect();
    for batch in wanted.chunks(READ_BATCH) {
        let contents = if full {
            Vec::new()
        } else {
            read_batch(
                source,
                batch.iter().map(|(_, (path, _))| path.as_str()),
                limit,
            )
            .await
        };
        let mut contents = contents.into_iter();
        for &(is_shared, (path, meta)) in batch {
            let mut defer = |reason| {
                deferred.push(DeferredFile {
                    path: path.clone(),
                    reason,
                })
            };
            let content = contents.next();
            if full {
                defer(Deferral::Skipped(SkipReason::LimitReached));
                continue;
            }
            let content = match content.expect("one read per file of the batch") {
                Ok(content) => content,
                Err(FileSourceError::TooLarge { size, limit, .. }) => {
                    defer(Deferral::Skipped(SkipReason::TooLarge { size, limit }));
                    continue;
                }
                Err(error) => {
                    defer(Deferral::Unreadable(error.to_string()));
                    continue;
                }
            };
            match encoder.add_file(path, &content)? {
                AddOutcome::Added => {
                    raw_bytes += content.len() as u64;
                    let part = if is_shared {
                        &mut kept.shared
                    } else {
                        &mut kept.missing
                    };
                    part.insert(path.clone(), meta.clone());
                }
                AddOutcome::Skipped(reason) => {
                    full = reason == SkipReason::LimitReached;
                    defer(Deferral::Skipped(reason));
                }
            }
        }
    }
    let metadata = serde_json::to_value(&kept)?;
    let encoded = encoder.finish(&metadata)?;
    Ok(SyncContainer {
        bytes: encoded.bytes,
        plan: kept,
        deferred,
        raw_bytes,
    })
}

/// Reads each path (refused ones answer their refusal), one result per path in order.
async fn read_batch<'a, S: FileSource + ?Sized>(
    source: &S,
    paths: impl Iterator<Item = &'a str>,
    limit: u64,
) -> Vec<Result<Vec<u8>, FileSourceError>> {
    let confined: Vec<_> = paths.map(|p| source.items().confine(p)).collect();
    let readable: Vec<_> = confined
        .iter()
        .filter_map(|c| c.as_ref().ok())
        .cloned()
        .collect();
    let mut read = source.read_batch(&readable, limit).await.into_iter();
    confined
        .into_iter()
        .map(|c| match c {
            Ok(path) => read.next().unwrap_or_else(|| {
                Err(FileSourceError::Io {
                    operation: "read (the source answered fewer files than asked)",
                    path: path.as_str().to_owned(),
                    source: std::io::Error::other("missing answer from read_batch"),
                })
            }),
            Err(refused) => Err(FileSourceError::from(refused)),
        })
        .collect()
}
