//! The synchronized files of a node: Wazuh's `cluster.json` items on disk under the home, their
//! folders created at start so that both the integrity table and the watcher see them.

use std::path::Path;
use std::sync::Arc;

use wazuh_cluster_core::files::ClusterItems;
use wazuh_cluster_core::files::FileSource;

use super::NodeError;
use crate::fs::DiskFileSource;

/// Creates every item's folder under `home` (mode 0770 for new ones, as Wazuh's), removes the
/// temporary files of writes a crash interrupted, and serves the items from disk.
pub(super) fn disk_files(home: &Path) -> Result<Arc<dyn FileSource>, NodeError> {
    let items = ClusterItems::wazuh_default();
    for item in items.items() {
        let folder = home.join(item.key.trim_end_matches('/'));
        create_folder(&folder).map_err(|source| NodeError::SyncFolder {
            path: folder.clone(),
            source,
        })?;
    }
    let source = DiskFileSource::new(home, items).map_err(|source| NodeError::SyncFolder {
        path: home.to_path_buf(),
        source,
    })?;
    match source.remove_leftover_temps() {
        Ok(0) => {}
        Ok(count) => tracing::warn!(
            "Removed {count} temporary files left by writes interrupted in a previous run"
        ),
        Err(error) => tracing::warn!("Could not remove leftover temporary files: {error}"),
    }
    Ok(Arc::new(source))
}

fn create_folder(folder: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o770)
        .create(folder)
}
