//! The synchronized files of a node: Wazuh's `cluster.json` items on disk under the home, their
//! folders created at start so that both the integrity table and the watcher see them.

use std::path::Path;
use std::sync::Arc;

use wazuh_cluster_core::files::ClusterItems;
use wazuh_cluster_core::files::FileSource;

use super::NodeError;
use crate::fs::DiskFileSource;

/// Creates every item's folder under `home` (mode 0770 for new ones, as Wazuh's) and serves
/// the items from disk.
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
    Ok(Arc::new(source))
}

fn create_folder(folder: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o770)
        .create(folder)
}
