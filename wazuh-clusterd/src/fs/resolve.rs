//! Confined resolution of a relative path under the Wazuh home: every existing component is
//! checked before anything below it is looked at or created. The item's folder and the folders
//! above it must not be symbolic links; below the item's folder a link must resolve inside it.

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use wazuh_cluster_core::files::{FileSourceError, SyncPath};

/// Mode of folders created for synchronized files (Wazuh's `mkdir_with_mode(.., 0o770)`).
const DIR_MODE: u32 = 0o770;

pub(crate) fn io_error(
    operation: &'static str,
    path: &str,
    source: std::io::Error,
) -> FileSourceError {
    if source.kind() == ErrorKind::NotFound {
        FileSourceError::NotFound {
            path: path.to_owned(),
        }
    } else {
        FileSourceError::Io {
            operation,
            path: path.to_owned(),
            source,
        }
    }
}

/// A confined folder: its canonical path and the canonical folder of the item (its bound).
pub(crate) struct ConfinedDir {
    pub(crate) dir: PathBuf,
    pub(crate) item_root: PathBuf,
}

/// Resolves the folder `components` (relative to `home`, which is canonical) in the item
/// `item_key`, creating missing folders when `create`; `shown` names the path in errors.
/// `Ok(None)` when a folder is missing and not created.
pub(crate) fn resolve_dir(
    home: &Path,
    item_key: &str,
    shown: &str,
    components: &[&str],
    create: bool,
) -> Result<Option<ConfinedDir>, FileSourceError> {
    let item_depth = item_key.trim_end_matches('/').split('/').count();
    let mut current = home.to_path_buf();
    let mut item_root: Option<PathBuf> = None;
    for (depth, component) in components.iter().enumerate() {
        let candidate = current.join(component);
        match fs::symlink_metadata(&candidate) {
            Err(e) if e.kind() == ErrorKind::NotFound => {
                if !create {
                    return Ok(None);
                }
                match fs::DirBuilder::new().mode(DIR_MODE).create(&candidate) {
                    Ok(()) => {}
                    Err(e) if e.kind() == ErrorKind::AlreadyExists && candidate.is_dir() => {}
                    Err(e) => return Err(io_error("create the folder of", shown, e)),
                }
                current = candidate;
            }
            Err(e) => return Err(io_error("inspect the folder of", shown, e)),
            // The item's folder and the folders above it are never links (`etc/shared` ->
            // `var/db` would let a sync write the database).
            Ok(meta) if meta.file_type().is_symlink() && depth < item_depth => {
                return Err(FileSourceError::SymlinkEscape {
                    path: shown.to_owned(),
                });
            }
            Ok(meta) => {
                let (resolved, is_dir) = if meta.file_type().is_symlink() {
                    let resolved = fs::canonicalize(&candidate).map_err(|_| {
                        FileSourceError::SymlinkEscape {
                            path: shown.to_owned(),
                        }
                    })?;
                    let is_dir = resolved.is_dir();
                    (resolved, is_dir)
                } else {
                    // Not a link: its own metadata says what it is (no second lookup).
                    (candidate, meta.is_dir())
                };
                let bound = item_root.as_deref().unwrap_or(home);
                if !resolved.starts_with(bound) {
                    return Err(FileSourceError::SymlinkEscape {
                        path: shown.to_owned(),
                    });
                }
                if !is_dir {
                    return Err(FileSourceError::WrongKind {
                        path: shown.to_owned(),
                    });
                }
                current = resolved;
            }
        }
        if depth + 1 == item_depth {
            item_root = Some(current.clone());
        }
    }
    let item_root = item_root.unwrap_or_else(|| current.clone());
    Ok(Some(ConfinedDir {
        dir: current,
        item_root,
    }))
}

/// The components of the folder holding `path`.
pub(crate) fn parent_components(path: &SyncPath) -> Vec<&str> {
    let mut components: Vec<&str> = path.as_str().split('/').collect();
    components.pop();
    components
}

/// The confined location of `path`'s file itself: `Ok(None)` if its folder is missing (and
/// not created). The file may or may not exist.
pub(crate) fn resolve_file(
    home: &Path,
    path: &SyncPath,
    create_dirs: bool,
) -> Result<Option<(ConfinedDir, PathBuf)>, FileSourceError> {
    let Some(confined) = resolve_dir(
        home,
        path.item_key(),
        path.as_str(),
        &parent_components(path),
        create_dirs,
    )?
    else {
        return Ok(None);
    };
    let file = confined.dir.join(path.file_name());
    Ok(Some((confined, file)))
}

/// Resolves `path` for reading: it must be a regular file, or a link to one inside the item.
pub(crate) fn resolve_readable(home: &Path, path: &SyncPath) -> Result<PathBuf, FileSourceError> {
    let shown = path.as_str();
    let (confined, file) =
        resolve_file(home, path, false)?.ok_or_else(|| FileSourceError::NotFound {
            path: shown.to_owned(),
        })?;
    let meta = fs::symlink_metadata(&file).map_err(|e| io_error("inspect", shown, e))?;
    let target = if meta.file_type().is_symlink() {
        let target = fs::canonicalize(&file).map_err(|_| FileSourceError::SymlinkEscape {
            path: shown.to_owned(),
        })?;
        if !target.starts_with(&confined.item_root) {
            return Err(FileSourceError::SymlinkEscape {
                path: shown.to_owned(),
            });
        }
        target
    } else {
        file
    };
    if !target.is_file() {
        return Err(FileSourceError::WrongKind {
            path: shown.to_owned(),
        });
    }
    Ok(target)
}
