//! Who owns the synchronized files a node writes.
//!
//! Wazuh's workers give every file they receive to `wazuh:wazuh`. This daemon runs as any user
//! that owns the home; when that user is root and a `wazuh` user exists, files get that user and
//! its primary group, as Wazuh's do; otherwise they keep the process's own user.

use std::fs::File;
use std::os::unix::fs::fchown;

/// The user and group given to every file written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileOwner {
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

/// The user Wazuh's files belong to.
const WAZUH_USER: &str = "wazuh";

impl FileOwner {
    /// `wazuh:wazuh` when this process runs as root and the system has a `wazuh` user; `None`
    /// (files keep the process's user) otherwise.
    pub fn wazuh_if_root() -> Option<FileOwner> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        if effective_uid(&status)? != 0 {
            return None;
        }
        let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
        user_entry(&passwd, WAZUH_USER)
    }

    /// Gives `file` to this owner.
    pub(crate) fn apply(&self, file: &File) -> std::io::Result<()> {
        fchown(file, Some(self.uid), Some(self.gid))
    }
}

/// The effective user id in the text of `/proc/self/status` (`Uid: real effective saved fs`).
fn effective_uid(status: &str) -> Option<u32> {
    let line = status.lines().find(|line| line.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// The uid and primary gid of `user` in the text of `/etc/passwd` (`name:x:uid:gid:...`).
fn user_entry(passwd: &str, user: &str) -> Option<FileOwner> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        if fields.next()? != user {
            return None;
        }
        let uid = fields.nth(1)?.parse().ok()?;
        let gid = fields.next()?.parse().ok()?;
        Some(FileOwner { uid, gid })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_effective_uid() {
        let status = "Name:\tx\nUid:\t1000\t0\t0\t0\nGid:\t5\t5\t5\t5\n";
        assert_eq!(effective_uid(status), Some(0));
        assert_eq!(effective_uid("Name: x\n"), None);
    }

    #[test]
    fn finds_the_wazuh_user_and_its_group() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n\
                      wazuhx:x:7:7::/:/bin/false\n\
                      wazuh:x:999:998:Wazuh:/var/ossec:/sbin/nologin\n";
        assert_eq!(
            user_entry(passwd, "wazuh"),
            Some(FileOwner { uid: 999, gid: 998 })
        );
        assert_eq!(user_entry("root:x:0:0::/:/bin/sh\n", "wazuh"), None);
        assert_eq!(user_entry("wazuh:x:notanumber:1::/:\n", "wazuh"), None);
    }
}
