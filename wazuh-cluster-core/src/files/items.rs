//! The synchronized items: Wazuh's `cluster.json` `files` section as typed configuration.
//!
//! An item is a folder relative to the Wazuh home (its key, such as `etc/shared/`), which files
//! of it travel, whether sub-folders count, the permissions a worker gives the files, and what to
//! do with folders that become empty. [`ClusterItems::wazuh_default`] is Wazuh 4.x's table.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{ConfinementError, SyncPath};

/// Which files of an item's folder are synchronized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileSelection {
    /// Every file (Wazuh's `["all"]`).
    All,
    /// Only files with one of these base names (such as `client.keys` or `merged.mg`).
    Named(Vec<String>),
}

impl FileSelection {
    /// Whether a file with this base name is selected.
    pub fn selects(&self, name: &str) -> bool {
        match self {
            FileSelection::All => true,
            FileSelection::Named(names) => names.iter().any(|n| n == name),
        }
    }
}

/// One synchronized item: a folder under the Wazuh home and the rules for its files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterItem {
    /// The folder relative to the Wazuh home, with a trailing slash (`etc/shared/`). It is also
    /// the `cluster_item_key` of the files' metadata.
    pub key: String,
    /// Which files of the folder travel.
    pub files: FileSelection,
    /// Whether files in sub-folders count.
    pub recursive: bool,
    /// Unix permissions a written file gets (0o640 for `client.keys`, 0o660 for the rest).
    pub permissions: u32,
    /// Whether a worker removes sub-folders left empty after removing extra files.
    pub remove_subdirs_if_empty: bool,
    /// Whether files a worker has and the master lacks are kept (never listed as extra).
    pub extra_valid: bool,
}

impl ClusterItem {
    /// Whether the relative path (already free of `..`, `.` and empty components) is one of
    /// this item's files, before exclusions.
    fn accepts(&self, relpath: &str) -> bool {
        let Some(rest) = relpath.strip_prefix(self.key.as_str()) else {
            return false;
        };
        let (dirs, name) = match rest.rsplit_once('/') {
            Some((dirs, name)) => (Some(dirs), name),
            None => (None, rest),
        };
        if name.is_empty() || (dirs.is_some() && !self.recursive) {
            return false;
        }
        self.files.selects(name)
    }
}

/// Files never synchronized wherever they are: by base name, or by ending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exclusions {
    /// Excluded base names (Wazuh: `ar.conf`, `ossec.conf`).
    pub names: Vec<String>,
    /// Excluded endings, matched on the base name (Wazuh: `~`, `.tmp`, `.lock`, `.swp`).
    pub suffixes: Vec<String>,
}

impl Exclusions {
    /// Wazuh 4.x's exclusions.
    pub fn wazuh_default() -> Self {
        Exclusions {
            names: vec!["ar.conf".into(), "ossec.conf".into()],
            suffixes: vec!["~".into(), ".tmp".into(), ".lock".into(), ".swp".into()],
        }
    }

    /// Whether a file with this base name is excluded.
    pub fn excludes(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
            || self.suffixes.iter().any(|s| name.ends_with(s.as_str()))
    }
}

/// A cluster item configuration was rejected.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ItemsError {
    /// A key is not a relative folder path ending in `/` without `.`/`..`/empty components.
    #[error(
        "cluster item key {key:?} is not a relative folder: write it like \"etc/shared/\" (relative, \
         ending in '/', without '.', '..' or empty components)"
    )]
    InvalidKey {
        /// The rejected key.
        key: String,
    },
    /// Two items share a key.
    #[error("cluster item key {key:?} appears twice: give each folder one item")]
    DuplicateKey {
        /// The repeated key.
        key: String,
    },
    /// Permissions have bits beyond 0o777.
    #[error("cluster item {key:?} has permissions {permissions:#o}: use at most 0o777")]
    InvalidPermissions {
        /// The item.
        key: String,
        /// The rejected value.
        permissions: u32,
    },
}

/// The set of synchronized items plus the exclusions: which relative paths are synchronized,
/// under which item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterItems {
    items: Vec<ClusterItem>,
    exclusions: Exclusions,
}

impl Default for ClusterItems {
    fn default() -> Self {
        Self::wazuh_default()
    }
}

impl ClusterItems {
    /// Validates and builds a configuration.
    pub fn new(items: Vec<ClusterItem>, exclusions: Exclusions) -> Result<Self, ItemsError> {
        for (i, item) in items.iter().enumerate() {
            let body = item.key.strip_suffix('/').unwrap_or("");
            let valid = !body.is_empty()
                && !body.starts_with('/')
                && !body.contains('\\')
                && !body.contains('\0')
                && body
                    .split('/')
                    .all(|c| !c.is_empty() && c != "." && c != "..");
            if !valid {
                return Err(ItemsError::InvalidKey {
                    key: item.key.clone(),
                });
            }
            if items[..i].iter().any(|other| other.key == item.key) {
                return Err(ItemsError::DuplicateKey {
                    key: item.key.clone(),
                });
            }
            if item.permissions > 0o777 {
                return Err(ItemsError::InvalidPermissions {
                    key: item.key.clone(),
                    permissions: item.permissions,
                });
            }
        }
        Ok(ClusterItems { items, exclusions })
    }

    /// Wazuh 4.x's `cluster.json` `files` table (see the module documentation).
    pub fn wazuh_default() -> Self {
        let all = |key: &str, remove_subdirs_if_empty: bool| ClusterItem {
            key: key.into(),
            files: FileSelection::All,
            recursive: true,
            permissions: 0o660,
            remove_subdirs_if_empty,
            extra_valid: false,
        };
        let items = vec![
            ClusterItem {
                key: "etc/".into(),
                files: FileSelection::Named(vec!["client.keys".into()]),
                recursive: false,
                permissions: 0o640,
                remove_subdirs_if_empty: false,
                extra_valid: false,
            },
            all("etc/shared/", true),
            ClusterItem {
                key: "var/multigroups/".into(),
                files: FileSelection::Named(vec!["merged.mg".into()]),
                recursive: true,
                permissions: 0o660,
                remove_subdirs_if_empty: true,
                extra_valid: false,
            },
            all("etc/rules/", false),
            all("etc/decoders/", false),
            all("etc/lists/", false),
        ];
        Self::new(items, Exclusions::wazuh_default()).expect("Wazuh's default items are valid")
    }

    /// The items, in configuration order.
    pub fn items(&self) -> &[ClusterItem] {
        &self.items
    }

    /// The exclusions.
    pub fn exclusions(&self) -> &Exclusions {
        &self.exclusions
    }

    /// The item with this key (`cluster_item_key`).
    pub fn get(&self, key: &str) -> Option<&ClusterItem> {
        self.items.iter().find(|item| item.key == key)
    }

    /// The item a normalized relative path (no `..`, `.` or empty components) belongs to, if
    /// any: the item with the longest key that accepts it, unless its base name is excluded.
    pub fn item_for(&self, relpath: &str) -> Option<&ClusterItem> {
        let name = relpath.rsplit('/').next().unwrap_or(relpath);
        if self.exclusions.excludes(name) {
            return None;
        }
        self.items
            .iter()
            .filter(|item| item.accepts(relpath))
            .max_by_key(|item| item.key.len())
    }

    /// Checks a relative path received from anywhere (a peer, a listing) and returns it as a
    /// [`SyncPath`] tied to its item. Absolute paths, `..`, `.`, empty components, backslashes,
    /// NUL, excluded names and paths outside every item are refused.
    pub fn confine(&self, raw: &str) -> Result<SyncPath, ConfinementError> {
        SyncPath::confine(raw, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_items_attribute_paths_like_wazuh() {
        let items = ClusterItems::wazuh_default();
        let key = |p: &str| items.item_for(p).map(|i| i.key.as_str());
        assert_eq!(key("etc/client.keys"), Some("etc/"));
        assert_eq!(key("etc/ossec.conf"), None);
        assert_eq!(key("etc/internal_options.conf"), None);
        assert_eq!(key("etc/sub/client.keys"), None, "etc/ is not recursive");
        assert_eq!(key("etc/shared/default/agent.conf"), Some("etc/shared/"));
        assert_eq!(key("etc/shared/default/merged.mg"), Some("etc/shared/"));
        assert_eq!(key("etc/shared/ar.conf"), None);
        assert_eq!(key("etc/shared/default/agent.conf.swp"), None);
        assert_eq!(key("etc/shared/default/agent.conf~"), None);
        assert_eq!(key("etc/shared/x.lock"), None);
        assert_eq!(key("etc/shared/x.tmp"), None);
        assert_eq!(
            key("var/multigroups/abc/merged.mg"),
            Some("var/multigroups/")
        );
        assert_eq!(key("var/multigroups/abc/agent.conf"), None);
        assert_eq!(key("etc/rules/local_rules.xml"), Some("etc/rules/"));
        assert_eq!(key("etc/decoders/a/b.xml"), Some("etc/decoders/"));
        assert_eq!(key("etc/lists/audit-keys"), Some("etc/lists/"));
        assert_eq!(key("etc/shared/"), None);
        assert_eq!(key("var/db/global.db"), None);
    }

    #[test]
    fn default_items_have_wazuh_permissions_and_flags() {
        let items = ClusterItems::wazuh_default();
        assert_eq!(items.items().len(), 6);
        assert_eq!(items.get("etc/").unwrap().permissions, 0o640);
        for key in [
            "etc/shared/",
            "var/multigroups/",
            "etc/rules/",
            "etc/decoders/",
            "etc/lists/",
        ] {
            let item = items.get(key).unwrap();
            assert_eq!(item.permissions, 0o660, "{key}");
            assert!(item.recursive, "{key}");
            assert!(!item.extra_valid, "{key}");
            assert_eq!(
                item.remove_subdirs_if_empty,
                key == "etc/shared/" || key == "var/multigroups/"
            );
        }
    }

    #[test]
    fn invalid_configurations_are_refused() {
        let item = |key: &str, permissions| ClusterItem {
            key: key.into(),
            files: FileSelection::All,
            recursive: true,
            permissions,
            remove_subdirs_if_empty: false,
            extra_valid: false,
        };
        for key in [
            "",
            "/",
            "/etc/",
            "etc",
            "../etc/",
            "etc/../x/",
            "etc//x/",
            "./etc/",
        ] {
            assert_eq!(
                ClusterItems::new(vec![item(key, 0o660)], Exclusions::wazuh_default()),
                Err(ItemsError::InvalidKey { key: key.into() })
            );
        }
        assert_eq!(
            ClusterItems::new(
                vec![item("a/", 0o660), item("a/", 0o640)],
                Exclusions::wazuh_default()
            ),
            Err(ItemsError::DuplicateKey { key: "a/".into() })
        );
        assert!(matches!(
            ClusterItems::new(vec![item("a/", 0o4777)], Exclusions::wazuh_default()),
            Err(ItemsError::InvalidPermissions { .. })
        ));
    }

    #[test]
    fn the_longest_accepting_key_wins() {
        let item = |key: &str| ClusterItem {
            key: key.into(),
            files: FileSelection::All,
            recursive: true,
            permissions: 0o660,
            remove_subdirs_if_empty: false,
            extra_valid: false,
        };
        let items =
            ClusterItems::new(vec![item("a/"), item("a/b/")], Exclusions::wazuh_default()).unwrap();
        assert_eq!(items.item_for("a/b/c").unwrap().key, "a/b/");
        assert_eq!(items.item_for("a/c").unwrap().key, "a/");
    }
}
