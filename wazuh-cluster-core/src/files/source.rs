//! The [`FileSource`] trait: the synchronized files as the integrity sync sees them.

use async_trait::async_trait;

use super::ClusterItems;
use super::{FileSourceError, FileStat, HashedFile, StagedFile, SyncPath};

/// The synchronized files of one node (the Wazuh home on a real node, a map in tests).
///
/// Obligations of every implementation (checked by the `conformance` suite, feature `testing`):
/// - **Confinement.** Paths are [`SyncPath`]s, so absolute paths, `..` and paths outside every
///   item cannot even be named. A path whose item is not in [`items`](Self::items) is refused
///   with [`FileSourceError::UnknownItem`]. A symbolic link on the way (a parent folder, or the
///   file itself when reading or hashing) that resolves outside the item's folder is refused with
///   [`FileSourceError::SymlinkEscape`]. A refusal touches nothing.
/// - **Listing** returns every regular file that [`ClusterItems::item_for`] attributes to an
///   item, once, with its size and modification time, and reads no content. Symbolic links
///   are not listed. A missing item folder lists nothing. Any other error fails the whole
///   listing: a partial listing must never pass for the truth (it would delete files on workers).
/// - **Writes are atomic**: the new content is written to a temporary file in the same folder
///   (with a name the items exclude, so it is never listed), given the item's permissions,
///   flushed, then renamed over the target. Readers see the old or the new content, never a
///   mix; on failure the old file is intact and no temporary file remains. Missing parent
///   folders are created. [`write`](Self::write) is durable when it returns.
/// - **Batches are atomic per file and durable at [`sync`](Self::sync).** Each file of a
///   [`write_batch`](Self::write_batch) is replaced as `write` replaces it (temporary file, then
///   rename), but need not be flushed to stable storage before `sync`. After `sync` returns,
///   every write, batch and removal that returned before it is durable. If the process dies
///   before (a crash, SIGKILL), each file is the old or the new one, never a mix (the rename is
///   atomic); temporary files it leaves are excluded from listings and the implementation
///   removes them before it serves again. A power loss before `sync` may leave a new file empty
///   on some filesystems: the next integrity check sees a different hash and repairs it.
/// - **Staging splits a batch write in two.** [`stage_batch`](Self::stage_batch) writes each
///   file as `write_batch` writes it but stops before the rename: the target is untouched and
///   the staged file, under a temporary name, is never listed.
///   [`commit_staged`](Self::commit_staged) renames each over its target (atomic each, durable
///   at `sync`); [`discard_staged`](Self::discard_staged) removes them. Staged files left by a
///   dead process are removed as other temporary files are.
/// - **Remove** deletes one file; a missing file is not an error (it answers `false`).
/// - **Prune** removes the folders above a file, deepest first up to but excluding the item's
///   folder, while they hold nothing but excluded files; a folder with anything else stops it.
#[async_trait]
pub trait FileSource: Send + Sync {
    /// The items this source serves.
    fn items(&self) -> &ClusterItems;

    /// Every synchronized file with its size and modification time (no content read).
    async fn list(&self) -> Result<Vec<FileStat>, FileSourceError>;

    /// The BLAKE2b-512 of each file, in the order given; a file may fail alone (for example
    /// [`FileSourceError::NotFound`] if it vanished since the listing). May run in parallel.
    async fn hash(&self, paths: &[SyncPath]) -> Vec<Result<HashedFile, FileSourceError>>;

    /// The whole content of a file, refused with [`FileSourceError::TooLarge`] beyond `max_len`
    /// bytes (checked before reading everything).
    async fn read(&self, path: &SyncPath, max_len: u64) -> Result<Vec<u8>, FileSourceError>;

    /// The whole content of each file, as [`read`](Self::read) answers it, in the order given (a
    /// file may fail alone). May run in parallel; the default reads one file after the other.
    async fn read_batch(
        &self,
        paths: &[SyncPath],
        max_len: u64,
    ) -> Vec<Result<Vec<u8>, FileSourceError>> {
        let mut contents = Vec::with_capacity(paths.len());
        for path in paths {
            contents.push(self.read(path, max_len).await);
        }
        contents
    }

    /// Replaces (or creates) a file atomically with the item's permissions.
    async fn write(&self, path: &SyncPath, contents: Vec<u8>) -> Result<(), FileSourceError>;

    /// Replaces (or creates) each file atomically with the item's permissions, durable only
    /// once [`sync`](Self::sync) returns; one result per file, in the order given (a file may
    /// fail alone): the written file's size, modification time and hash, as
    /// [`hash`](Self::hash) would give them right after (so the caller need not read it back).
    /// May run in parallel; the files should be distinct.
    async fn write_batch(
        &self,
        files: Vec<(SyncPath, Vec<u8>)>,
    ) -> Vec<Result<HashedFile, FileSourceError>>;

    /// Writes each file under a temporary name beside its target (created folders included),
    /// with the item's permissions, without replacing the target; one result per file, in the
    /// order given (a file may fail alone). May run in parallel; the files should be distinct.
    async fn stage_batch(
        &self,
        files: Vec<(SyncPath, Vec<u8>)>,
    ) -> Vec<Result<StagedFile, FileSourceError>>;

    /// Renames each staged file over its target (atomically each, durable once
    /// [`sync`](Self::sync) returns); one result per file, in the order given: the file as a
    /// listing and [`hash`](Self::hash) would show it right after. A failed file's staged copy
    /// is removed.
    async fn commit_staged(
        &self,
        files: Vec<StagedFile>,
    ) -> Vec<Result<HashedFile, FileSourceError>>;

    /// Removes staged files that will not be committed (failures are only logged: what is
    /// left is removed as other temporary files are).
    async fn discard_staged(&self, files: Vec<StagedFile>);

    /// Makes durable every write, batch and removal that returned before this call.
    async fn sync(&self) -> Result<(), FileSourceError>;

    /// Removes a file; `Ok(false)` if it did not exist.
    async fn remove(&self, path: &SyncPath) -> Result<bool, FileSourceError>;

    /// Removes the folders above `path` that hold nothing but excluded files, deepest first,
    /// never the item's own folder; returns how many were removed.
    async fn prune_empty_dirs(&self, path: &SyncPath) -> Result<usize, FileSourceError>;
}
