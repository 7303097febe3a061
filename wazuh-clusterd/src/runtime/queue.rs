//! `DIR/queue/cluster`: emptied at start except the control socket, as Wazuh's clusterd does
//! (leftovers of an interrupted run, such as partial received files, are never reused).

use std::path::Path;

use super::NodeError;
use crate::control::SOCKET_RELATIVE_PATH;

/// Creates `DIR/queue/cluster` and removes everything in it but the control socket.
pub(crate) fn clean(home: &Path) -> Result<(), NodeError> {
    let socket = home.join(SOCKET_RELATIVE_PATH);
    let folder = socket.parent().unwrap_or(home).to_path_buf();
    let failed = |source| NodeError::QueueFolder {
        path: folder.clone(),
        source,
    };
    std::fs::create_dir_all(&folder).map_err(failed)?;
    for entry in std::fs::read_dir(&folder).map_err(failed)? {
        let path = entry.map_err(failed)?.path();
        if path == socket {
            continue;
        }
        let removed = if path.is_dir() && !path.is_symlink() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.map_err(failed)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_socket() {
        let home = tempfile::tempdir().unwrap();
        let folder = home.path().join("queue/cluster");
        std::fs::create_dir_all(folder.join("w1/sub")).unwrap();
        std::fs::write(folder.join("partial.tmp"), b"x").unwrap();
        std::fs::write(folder.join("c-internal.sock"), b"").unwrap();
        clean(home.path()).unwrap();
        let left: Vec<_> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["c-internal.sock"]);
    }
}
