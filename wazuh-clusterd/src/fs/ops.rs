//! Reading, atomic writing, removing and pruning, all confined (see [`super::resolve`]).

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use wazuh_cluster_core::files::ClusterItems;
use wazuh_cluster_core::files::{FileSourceError, SyncPath};

use super::owner::FileOwner;
use super::resolve::{io_error, resolve_dir, resolve_file, resolve_readable};
use super::temp;

/// Reads a whole file, refusing more than `max_len` bytes before reading them.
pub(crate) fn read(home: &Path, path: &SyncPath, max_len: u64) -> Result<Vec<u8>, FileSourceError> {
    let shown = path.as_str();
    let target = resolve_readable(home, path)?;
    let file = File::open(&target).map_err(|e| io_error("open", shown, e))?;
    let size = file
        .metadata()
        .map_err(|e| io_error("stat", shown, e))?
        .len();
    if size > max_len {
        return Err(FileSourceError::TooLarge {
            path: shown.to_owned(),
            size,
            limit: max_len,
        });
    }
    let mut content = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // One byte more than allowed shows a file that grew since the stat.
    file.take(max_len + 1)
        .read_to_end(&mut content)
        .map_err(|e| io_error("read", shown, e))?;
    if content.len() as u64 > max_len {
        return Err(FileSourceError::TooLarge {
            path: shown.to_owned(),
            size: content.len() as u64,
            limit: max_len,
        });
    }
    Ok(content)
}

/// Whether a write is flushed to stable storage before it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// The file and then its folder are fsynced before returning.
    Now,
    /// Nothing is flushed: the caller makes it durable later (see [`super::durability`]).
    Later,
}

/// Writes `contents` to a temporary file next to the target ([`temp::name`], excluded from
/// listings), gives it to `owner` if any, sets `mode`, renames it over the target; with
/// [`Durability::Now`] the file is fsynced before the rename and its folder after. Returns the
/// written file's metadata, taken before the rename (what a listing shows until it changes).
pub(crate) fn write_atomic(
    home: &Path,
    path: &SyncPath,
    mode: u32,
    owner: Option<FileOwner>,
    contents: &[u8],
    durability: Durability,
) -> Result<fs::Metadata, FileSourceError> {
    let shown = path.as_str();
    let (confined, target) =
        resolve_file(home, path, true)?.ok_or_else(|| FileSourceError::NotFound {
            path: shown.to_owned(),
        })?;
    if fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir()) {
        return Err(FileSourceError::WrongKind {
            path: shown.to_owned(),
        });
    }
    let temp = confined.dir.join(temp::name(path.file_name()));
    let result = write_temp(&temp, mode, owner, contents, durability).and_then(|written| {
        fs::rename(&temp, &target)?;
        if durability == Durability::Now {
            File::open(&confined.dir)?.sync_all()?;
        }
        Ok(written)
    });
    result.map_err(|e| {
        let _ = fs::remove_file(&temp);
        io_error("write", shown, e)
    })
}

/// Creates `temp` (it must not exist) with `contents`, `owner` and `mode`; flushed with
/// [`Durability::Now`]. Returns its metadata.
pub(crate) fn write_temp(
    temp: &PathBuf,
    mode: u32,
    owner: Option<FileOwner>,
    contents: &[u8],
    durability: Durability,
) -> std::io::Result<fs::Metadata> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(temp)?;
    file.write_all(contents)?;
    if let Some(owner) = owner {
        owner.apply(&file)?;
    }
    file.set_permissions(Permissions::from_mode(mode))?;
    if durability == Durability::Now {
        file.sync_all()?;
    }
    file.metadata()
}

/// Removes a file (or a link, never its target); `false` if absent.
pub(crate) fn remove(home: &Path, path: &SyncPath) -> Result<bool, FileSourceError> {
    let shown = path.as_str();
    let Some((_, target)) = resolve_file(home, path, false)? else {
        return Ok(false);
    };
    match fs::symlink_metadata(&target) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io_error("inspect", shown, e)),
        Ok(meta) if meta.is_dir() => {
            return Err(FileSourceError::WrongKind {
                path: shown.to_owned(),
            });
        }
        Ok(_) => {}
    }
    match fs::remove_file(&target) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_error("remove", shown, e)),
    }
}

/// Removes the folders above `path` holding only excluded files, deepest first, up to but
/// excluding the item's folder.
pub(crate) fn prune(
    home: &Path,
    items: &ClusterItems,
    path: &SyncPath,
) -> Result<usize, FileSourceError> {
    let shown = path.as_str();
    // Refuse the whole path first if any existing folder on it escapes.
    resolve_file(home, path, false)?;
    let mut pruned = 0;
    for dir in path.dirs_below_item() {
        let components: Vec<&str> = dir.split('/').collect();
        let Some(confined) = resolve_dir(home, path.item_key(), shown, &components, false)? else {
            continue;
        };
        let mut excluded_files = Vec::new();
        let entries =
            fs::read_dir(&confined.dir).map_err(|e| io_error("list the folder of", shown, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io_error("list the folder of", shown, e))?;
            let is_file = entry.file_type().is_ok_and(|t| t.is_file());
            let excluded = entry
                .file_name()
                .to_str()
                .is_some_and(|name| items.exclusions().excludes(name));
            if !(is_file && excluded) {
                return Ok(pruned);
            }
            excluded_files.push(entry.path());
        }
        for file in excluded_files {
            fs::remove_file(&file)
                .map_err(|e| io_error("remove an excluded file above", shown, e))?;
        }
        fs::remove_dir(&confined.dir).map_err(|e| io_error("remove the folder of", shown, e))?;
        pruned += 1;
    }
    Ok(pruned)
}
