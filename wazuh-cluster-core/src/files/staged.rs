//! [`StagedFile`]: a file written under a temporary name next to its target by
//! [`FileSource::stage_batch`](super::FileSource::stage_batch), waiting to be renamed over the
//! target or discarded.

use super::{HashedFile, SyncPath};

/// A file staged beside its target, not visible under its own name yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedFile {
    /// The target.
    pub path: SyncPath,
    /// What tells the source's temporary file apart from any other staged for the same target.
    pub token: u64,
    /// The staged content's size, modification time and hash, as written.
    pub file: HashedFile,
}
