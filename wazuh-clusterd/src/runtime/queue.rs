//! `DIR/queue/cluster`: emptied at start except the control socket, as Wazuh's clusterd does
//! (leftovers of an interrupted run, such as partial received files, are never reused).

use std::path::Path;

use super::NodeError;
use crate::control::SOCKET_RELATIVE_PATH;
use crate::home_path;

/// Creates `DIR/queue/cluster` and removes everything in it but the control socket. A
/// symbolic link at `queue` or `queue/cluster` is refused (its target is never emptied), and
/// links inside are removed, never followed.
pub(crate) fn clean(home: &Path) -> Result<(), NodeError> {
    let socket = home.join(SOCKET_RELATIVE_PATH);
    let relative = Path::new(SOCKET_RELATIVE_PATH)
        .parent()
        .unwrap_or(Path::new(""));
    let failed = |source| NodeError::QueueFolder {
        path: home.join(relative),
        source,
    };
    let folder = home_path::real_dir(home, relative).map_err(failed)?;
    for entry in std::fs::read_dir(&folder).map_err(failed)? {
        let entry = entry.map_err(failed)?;
        let path = entry.path();
        if path == socket {
            continue;
        }
        let removed = if entry.file_type().map_err(failed)?.is_dir() {
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

    #[test]
    fn a_linked_queue_folder_is_refused_and_its_target_kept() {
        let home = tempfile::tempdir().unwrap();
        let elsewhere = home.path().join("etc");
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::fs::write(elsewhere.join("client.keys"), b"k").unwrap();
        std::fs::create_dir_all(home.path().join("queue")).unwrap();
        std::os::unix::fs::symlink(&elsewhere, home.path().join("queue/cluster")).unwrap();
        let error = clean(home.path()).unwrap_err();
        assert!(error.to_string().contains("symbolic link"), "{error}");
        assert_eq!(std::fs::read(elsewhere.join("client.keys")).unwrap(), b"k");
    }
}
