//! Staged writes, confined (see [`super::resolve`]): a file written under a temporary name
//! beside its target ([`temp::staged_name`], excluded from listings and removed at start-up like
//! every temporary file of ours), later renamed over the target or removed.

use std::fs;
use std::path::{Path, PathBuf};

use wazuh_cluster_core::files::{FileSourceError, SyncPath};

use super::ops::{Durability, write_temp};
use super::owner::FileOwner;
use super::resolve::{io_error, resolve_file};
use super::temp;

/// Writes `contents` under the temporary name of `token` beside `path` (folders created),
/// with `owner` and `mode`, not flushed; the target is untouched. Returns the written file's
/// metadata (what a listing shows once it is renamed).
pub(crate) fn stage(
    home: &Path,
    path: &SyncPath,
    token: u64,
    mode: u32,
    owner: Option<FileOwner>,
    contents: &[u8],
) -> Result<fs::Metadata, FileSourceError> {
    let shown = path.as_str();
    let (staged, target) = locate(home, path, token)?;
    if fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir()) {
        return Err(FileSourceError::WrongKind {
            path: shown.to_owned(),
        });
    }
    write_temp(&staged, mode, owner, contents, Durability::Later).map_err(|e| {
        let _ = fs::remove_file(&staged);
        io_error("write", shown, e)
    })
}

/// Renames the staged file of `token` over `path`; on failure the staged file is removed. The
/// folder was resolved (confined) when the file was staged: the rename names both files through
/// the same folder, so a folder replaced since (by a link elsewhere) holds no staged file and
/// the rename fails.
pub(crate) fn commit(home: &Path, path: &SyncPath, token: u64) -> Result<(), FileSourceError> {
    let (staged, target) = unresolved(home, path, token);
    fs::rename(&staged, &target).map_err(|e| {
        let _ = fs::remove_file(&staged);
        io_error("rename", path.as_str(), e)
    })
}

/// Removes the staged file of `token` beside `path` (through the folder as staged, see
/// [`commit`]).
pub(crate) fn discard(home: &Path, path: &SyncPath, token: u64) -> Result<(), FileSourceError> {
    let (staged, _) = unresolved(home, path, token);
    fs::remove_file(&staged).map_err(|e| io_error("remove the staged copy of", path.as_str(), e))
}

/// The staged file of `token` and the target, named through `home` as given.
fn unresolved(home: &Path, path: &SyncPath, token: u64) -> (PathBuf, PathBuf) {
    let target = home.join(path.as_str());
    let staged = target.with_file_name(temp::staged_name(path.file_name(), token));
    (staged, target)
}

/// The staged file of `token` and the target, in `path`'s confined folder (created if missing).
fn locate(home: &Path, path: &SyncPath, token: u64) -> Result<(PathBuf, PathBuf), FileSourceError> {
    let (confined, target) =
        resolve_file(home, path, true)?.ok_or_else(|| FileSourceError::NotFound {
            path: path.as_str().to_owned(),
        })?;
    Ok((
        confined
            .dir
            .join(temp::staged_name(path.file_name(), token)),
        target,
    ))
}
