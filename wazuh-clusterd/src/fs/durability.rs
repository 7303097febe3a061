//! Making batched writes durable at once, and removing what a killed batch left behind.
//!
//! A batch renames its files into place without flushing them (`Durability::Later` in the ops module);
//! [`sync_filesystems`] then flushes every filesystem holding an item with one `syncfs(2)` each,
//! which covers the files' data and the folders' entries together: two system calls where the
//! per-file way needs two fsyncs per file. A process killed mid-batch leaves each file old or
//! new (the rename is atomic) and possibly some temporary files, which
//! [`remove_leftover_temps`] deletes before the node serves again.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use wazuh_cluster_core::files::ClusterItems;
use wazuh_cluster_core::files::FileSourceError;

use super::temp;

/// Flushes the filesystem of the home and of every item's folder (each filesystem once).
pub(crate) fn sync_filesystems(home: &Path, items: &ClusterItems) -> Result<(), FileSourceError> {
    let folders = std::iter::once(home.to_path_buf())
        .chain(items.items().iter().map(|item| home.join(&item.key)));
    let mut devices = BTreeSet::new();
    for folder in folders {
        let shown = folder.display().to_string();
        let dir = match File::open(&folder) {
            Ok(dir) => dir,
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(source) => return Err(io("open for syncfs", &shown, source)),
        };
        let device = dir
            .metadata()
            .map_err(|source| io("stat for syncfs", &shown, source))?
            .dev();
        if devices.insert(device) {
            rustix::fs::syncfs(&dir)
                .map_err(|errno| io("flush (syncfs) the filesystem of", &shown, errno.into()))?;
        }
    }
    Ok(())
}

/// Removes the temporary files of interrupted writes ([`temp::is_ours`]) from every item's
/// folder (and its subfolders for recursive items; links are not followed); returns how many.
pub(crate) fn remove_leftover_temps(
    home: &Path,
    items: &ClusterItems,
) -> Result<usize, FileSourceError> {
    let mut removed = 0;
    for item in items.items() {
        removed += clean(&home.join(&item.key), item.recursive)?;
    }
    Ok(removed)
}

fn clean(dir: &Path, recursive: bool) -> Result<usize, FileSourceError> {
    let shown = dir.display().to_string();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(0),
        Err(source) => return Err(io("list for leftover temporary files", &shown, source)),
    };
    let mut removed = 0;
    for entry in entries {
        let entry =
            entry.map_err(|source| io("list for leftover temporary files", &shown, source))?;
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() && recursive {
            removed += clean(&entry.path(), true)?;
        } else if file_type.is_file() && entry.file_name().to_str().is_some_and(temp::is_ours) {
            match fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(source) => {
                    let path = entry.path().display().to_string();
                    return Err(io("remove the leftover temporary file", &path, source));
                }
            }
        }
    }
    Ok(removed)
}

fn io(operation: &'static str, path: &str, source: std::io::Error) -> FileSourceError {
    FileSourceError::Io {
        operation,
        path: path.to_owned(),
        source,
    }
}
