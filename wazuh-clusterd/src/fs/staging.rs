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
    let (staged, target) = locate(home, path, token, true)?;
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

/// Renames the staged file of `token` over `path`; on failure the staged file is removed.
pub(crate) fn commit(home: &Path, path: &SyncPath, token: u64) -> Result<(), FileSourceError> {
    let shown = path.as_str();
    let (staged, target) = locate(home, path, token, false)?;
    let result = if fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir()) {
        Err(FileSourceError::WrongKind {
            path: shown.to_owned(),
        })
    } else {
        fs::rename(&staged, &target).map_err(|e| io_error("rename", shown, e))
    };
    if result.is_err() {
        let _ = fs::remove_file(&staged);
    }
    result
}

/// Removes the staged file of `token` beside `path`.
pub(crate) fn discard(home: &Path, path: &SyncPath, token: u64) -> Result<(), FileSourceError> {
    let (staged, _) = locate(home, path, token, false)?;
    fs::remove_file(&staged).map_err(|e| io_error("remove the staged copy of", path.as_str(), e))
}

/// The staged file of `token` and the target, in `path`'s confined folder.
fn locate(
    home: &Path,
    path: &SyncPath,
    token: u64,
    create_dirs: bool,
) -> Result<(PathBuf, PathBuf), FileSourceError> {
    let (confined, target) =
        resolve_file(home, path, create_dirs)?.ok_or_else(|| FileSourceError::NotFound {
            path: path.as_str().to_owned(),
        })?;
    Ok((
        confined
            .dir
            .join(temp::staged_name(path.file_name(), token)),
        target,
    ))
}
