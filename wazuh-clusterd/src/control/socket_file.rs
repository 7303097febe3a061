//! The control socket file appears with its final mode and group, never with the umask's.
//!
//! Binding creates the file with `0777 & !umask`, and a `chmod` after `bind` leaves a window
//! in which a local user may connect; changing the umask would change it for every thread of
//! the process. So the socket is bound in a fresh private folder (mode 0700) beside its final
//! place, given its mode and group there, and renamed into place: nobody can reach it before
//! it is final.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use tokio::net::UnixListener;

/// The group Wazuh's sockets belong to.
const WAZUH_GROUP: &str = "wazuh";

/// The id of the group `wazuh`, if the system has one.
pub fn wazuh_group() -> Option<u32> {
    group_id(&std::fs::read_to_string("/etc/group").ok()?, WAZUH_GROUP)
}

/// The id of `group` in the text of `/etc/group` (`name:x:gid:members`).
fn group_id(groups: &str, group: &str) -> Option<u32> {
    groups.lines().find_map(|line| {
        let mut fields = line.split(':');
        if fields.next()? != group {
            return None;
        }
        fields.nth(1)?.parse().ok()
    })
}

/// Binds a listening socket at `path` (whose folder exists; a file already there is replaced)
/// with `mode` and, when given and allowed, the group `gid`, both set before the socket is
/// reachable.
pub fn bind_final(path: &Path, mode: u32, gid: Option<u32>) -> io::Result<UnixListener> {
    let folder = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or_default();
    let private = tempfile::Builder::new()
        .prefix(".socket-")
        .tempdir_in(folder)?;
    std::fs::set_permissions(private.path(), std::fs::Permissions::from_mode(0o700))?;
    let staged = private.path().join(name);
    let listener = UnixListener::bind(&staged)?;
    std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(mode))?;
    if let Some(gid) = gid {
        match std::os::unix::fs::chown(&staged, None, Some(gid)) {
            // Not root and not a member of the group: the socket keeps this process's group.
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => tracing::warn!(
                tag = "Local Server",
                subtag = "Main",
                "Cannot give {} to group {gid}: {e}; it keeps this process's group.",
                path.display()
            ),
            other => other?,
        }
    }
    std::fs::rename(&staged, path)?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;

    #[test]
    fn finds_the_group() {
        let groups = "root:x:0:\nwazuhx:x:5:\nwazuh:x:998:wazuh\n";
        assert_eq!(group_id(groups, "wazuh"), Some(998));
        assert_eq!(group_id("root:x:0:\n", "wazuh"), None);
    }

    #[tokio::test]
    async fn the_socket_has_its_mode_and_group_and_no_staging_folder_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-internal.sock");
        std::fs::write(&path, b"stale").unwrap();
        // Our own primary group: changing to it needs no privilege.
        let gid = std::fs::metadata(dir.path()).unwrap().gid();
        let _listener = bind_final(&path, 0o660, Some(gid)).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o7777, 0o660);
        assert_eq!(meta.gid(), gid);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["c-internal.sock"]);
        std::os::unix::net::UnixStream::connect(&path).unwrap();
    }
}
