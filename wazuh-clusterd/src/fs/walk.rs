//! Listing the synchronized files: a walk of each item's folder that stats files, skips
//! symbolic links (and items whose folder is one) and fails as a whole on any other error but a
//! file vanishing mid-walk.

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use wazuh_cluster_core::files::{ClusterItem, ClusterItems};
use wazuh_cluster_core::files::{FileSourceError, FileStat, ModTime};

use super::resolve::resolve_dir;

/// The modification time of a stat.
pub(crate) fn mod_time(meta: &fs::Metadata) -> ModTime {
    ModTime::from_unix(meta.mtime(), u32::try_from(meta.mtime_nsec()).unwrap_or(0))
}

/// Every synchronized file under `home`.
pub(crate) fn list(home: &Path, items: &ClusterItems) -> Result<Vec<FileStat>, FileSourceError> {
    let mut out = Vec::new();
    for item in items.items() {
        let key = item.key.trim_end_matches('/');
        let components: Vec<&str> = key.split('/').collect();
        let root = match resolve_dir(home, &item.key, &item.key, &components, false) {
            Ok(Some(root)) => root,
            Ok(None) => continue,
            // An item folder that is a link is left out, the other items still synchronize.
            Err(FileSourceError::SymlinkEscape { path }) => {
                tracing::error!(
                    subtag = "Integrity check",
                    "Skipping the item {path}: it or a folder above it is a symbolic link, which \
                     the cluster never follows; replace it with a real folder."
                );
                continue;
            }
            Err(e) => return Err(e),
        };
        walk(&root.dir, &item.key, item, items, &mut out)?;
    }
    Ok(out)
}

fn walk(
    dir: &Path,
    prefix: &str,
    item: &ClusterItem,
    items: &ClusterItems,
    out: &mut Vec<FileStat>,
) -> Result<(), FileSourceError> {
    let io = |e: std::io::Error| FileSourceError::Io {
        operation: "list",
        path: prefix.to_owned(),
        source: e,
    };
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io)?;
        let Ok(name) = entry.file_name().into_string() else {
            tracing::warn!(
                subtag = "Integrity check",
                "Skipping a file name that is not UTF-8 in {prefix:?}"
            );
            continue;
        };
        let file_type = match entry.file_type() {
            Ok(t) => t,
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(io(e)),
        };
        let relpath = format!("{prefix}{name}");
        if file_type.is_dir() {
            if item.recursive {
                walk(&entry.path(), &format!("{relpath}/"), item, items, out)?;
            }
        } else if file_type.is_file() {
            let Ok(path) = items.confine(&relpath) else {
                continue;
            };
            if path.item_key() != item.key {
                continue;
            }
            let meta = match entry.metadata() {
                Ok(meta) => meta,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(io(e)),
            };
            out.push(FileStat {
                path,
                size: meta.len(),
                mtime: mod_time(&meta),
            });
        }
    }
    Ok(())
}
