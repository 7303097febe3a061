//! [`SyncPath`]: a relative path checked against the cluster items, the only kind of path a
//! [`FileSource`](super::FileSource) accepts.

use std::fmt;

use thiserror::Error;

use super::ClusterItems;

/// A path was refused because it could leave the synchronized items.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum ConfinementError {
    /// The path is empty.
    #[error("empty path refused: a synchronized file needs a path relative to the Wazuh home")]
    Empty,
    /// The path starts with `/`.
    #[error("absolute path {path:?} refused: synchronized paths are relative to the Wazuh home")]
    Absolute {
        /// The refused path.
        path: String,
    },
    /// The path has a `..`, `.` or empty component.
    #[error("path {path:?} refused: it has a '..', '.' or empty component")]
    NotNormal {
        /// The refused path.
        path: String,
    },
    /// The path has a backslash or a NUL byte.
    #[error("path {path:?} refused: it contains a backslash or NUL byte")]
    BadCharacter {
        /// The refused path.
        path: String,
    },
    /// The path is not a file of any synchronized item (or its name is excluded).
    #[error("path {path:?} refused: it is not a file of any synchronized cluster item")]
    OutsideItems {
        /// The refused path.
        path: String,
    },
}

/// A normalized relative path (`/`-separated, no `..`, `.` or empty components) that belongs to
/// a synchronized item. Built only by [`ClusterItems::confine`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SyncPath {
    path: String,
    /// The item's key is the path's first `item_len` bytes (an item accepts only paths that
    /// start with its key), so a path costs one string, not two.
    item_len: usize,
}

impl SyncPath {
    pub(crate) fn confine(raw: &str, items: &ClusterItems) -> Result<SyncPath, ConfinementError> {
        if raw.is_empty() {
            return Err(ConfinementError::Empty);
        }
        let path = || raw.to_owned();
        if raw.starts_with('/') {
            return Err(ConfinementError::Absolute { path: path() });
        }
        if raw.contains('\\') || raw.contains('\0') {
            return Err(ConfinementError::BadCharacter { path: path() });
        }
        if raw
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
        {
            return Err(ConfinementError::NotNormal { path: path() });
        }
        let item = items
            .item_for(raw)
            .ok_or_else(|| ConfinementError::OutsideItems { path: path() })?;
        Ok(SyncPath {
            path: path(),
            item_len: item.key.len(),
        })
    }

    /// The relative path, such as `etc/shared/default/agent.conf`.
    pub fn as_str(&self) -> &str {
        &self.path
    }

    /// The key of the item it belongs to, such as `etc/shared/`.
    pub fn item_key(&self) -> &str {
        &self.path[..self.item_len]
    }

    /// The base name (the last component).
    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    /// The folders between the item's folder (excluded) and the file, deepest first:
    /// for `etc/shared/g/sub/a` in `etc/shared/`, `etc/shared/g/sub` then `etc/shared/g`.
    pub fn dirs_below_item(&self) -> impl Iterator<Item = &str> {
        let root = self.item_key().trim_end_matches('/');
        let mut current = self.path.as_str();
        std::iter::from_fn(move || {
            let (parent, _) = current.rsplit_once('/')?;
            current = parent;
            (parent.len() > root.len()).then_some(parent)
        })
    }
}

impl fmt::Display for SyncPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confine_refuses_everything_that_could_escape() {
        let items = ClusterItems::wazuh_default();
        let refused = |raw: &str| items.confine(raw).unwrap_err();
        assert_eq!(refused(""), ConfinementError::Empty);
        assert!(matches!(
            refused("/etc/client.keys"),
            ConfinementError::Absolute { .. }
        ));
        assert!(matches!(
            refused("etc/shared/../client.keys"),
            ConfinementError::NotNormal { .. }
        ));
        assert!(matches!(
            refused("etc/shared/../../../tmp/x"),
            ConfinementError::NotNormal { .. }
        ));
        assert!(matches!(
            refused("etc/shared/./a"),
            ConfinementError::NotNormal { .. }
        ));
        assert!(matches!(
            refused("etc/shared//a"),
            ConfinementError::NotNormal { .. }
        ));
        assert!(matches!(
            refused("etc/shared/a/"),
            ConfinementError::NotNormal { .. }
        ));
        assert!(matches!(
            refused("etc/shared/..\\..\\x"),
            ConfinementError::BadCharacter { .. }
        ));
        assert!(matches!(
            refused("etc/shared/a\0b"),
            ConfinementError::BadCharacter { .. }
        ));
        assert!(matches!(
            refused("etc/ossec.conf"),
            ConfinementError::OutsideItems { .. }
        ));
        assert!(matches!(
            refused("etc/shared/ar.conf"),
            ConfinementError::OutsideItems { .. }
        ));
        assert!(matches!(
            refused("bin/wazuh-control"),
            ConfinementError::OutsideItems { .. }
        ));
    }

    #[test]
    fn confined_paths_know_their_item_and_folders() {
        let items = ClusterItems::wazuh_default();
        let p = items.confine("etc/shared/g/sub/agent.conf").unwrap();
        assert_eq!(p.item_key(), "etc/shared/");
        assert_eq!(p.file_name(), "agent.conf");
        assert_eq!(
            p.dirs_below_item().collect::<Vec<_>>(),
            ["etc/shared/g/sub", "etc/shared/g"]
        );
        let keys = items.confine("etc/client.keys").unwrap();
        assert_eq!(keys.dirs_below_item().count(), 0);
    }
}
