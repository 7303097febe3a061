//! [`ContainerPlan`]: what a comparison found, holding the master's files as the master keeps
//! them (a shared table entry each) instead of a copy of their metadata.
//!
//! The plan lives from the comparison to the end of the sync, seconds at 50,000 files: its
//! copy of every missing file's path and metadata was about 10 MB of the master's peak. Its
//! entries are handles on the table's entries, taken when compared: a refresh that replaces
//! an entry meanwhile leaves the plan's one as it was compared.

use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, Serializer};
use wazuh_cluster_proto::payload::{Blake2bHex, FileMetadata, FileTable, MetadataRef, SyncPlan};

use super::table::TableEntry;

/// One file of the master's side of a plan (`missing` or `shared`).
pub trait PlannedFile {
    /// Its relative path.
    fn path(&self) -> &str;

    /// The hash the master compared.
    fn hash(&self) -> &Blake2bHex;

    /// Its metadata as the container's `files_metadata.json` carries it.
    fn metadata(&self) -> MetadataRef<'_>;
}

impl PlannedFile for Arc<TableEntry> {
    fn path(&self) -> &str {
        self.path.as_str()
    }

    fn hash(&self) -> &Blake2bHex {
        &self.hash
    }

    fn metadata(&self) -> MetadataRef<'_> {
        TableEntry::metadata(self)
    }
}

/// A wire table's entry (tests and benches compare wire tables).
impl PlannedFile for (String, FileMetadata) {
    fn path(&self) -> &str {
        &self.0
    }

    fn hash(&self) -> &Blake2bHex {
        &self.1.hash
    }

    fn metadata(&self) -> MetadataRef<'_> {
        MetadataRef::from(&self.1)
    }
}

/// The master's answer to a worker's table: `missing` and `shared` (the master's files, each
/// sorted by path) and `extra` (the worker's metadata of what it must remove).
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerPlan<E> {
    /// Files only the master has, in path order.
    pub missing: Vec<E>,
    /// Files both have with different content, in path order.
    pub shared: Vec<E>,
    /// Files only the worker has (its metadata).
    pub extra: FileTable,
}

impl<E> Default for ContainerPlan<E> {
    fn default() -> Self {
        ContainerPlan {
            missing: Vec::new(),
            shared: Vec::new(),
            extra: FileTable::new(),
        }
    }
}

impl<E> ContainerPlan<E> {
    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.shared.is_empty() && self.extra.is_empty()
    }
}

impl<E: PlannedFile> ContainerPlan<E> {
    /// The plan as the wire's [`SyncPlan`] (a copy of every entry's metadata).
    pub fn to_sync_plan(&self) -> SyncPlan {
        let table = |files: &[E]| {
            files
                .iter()
                .map(|file| (file.path().to_owned(), file.metadata().into()))
                .collect()
        };
        SyncPlan {
            missing: table(&self.missing),
            shared: table(&self.shared),
            extra: self.extra.clone(),
        }
    }

    /// Leaves out of `missing` and `shared` every path of `paths` (sorted).
    pub fn remove_sorted(&mut self, paths: &[&str]) {
        if paths.is_empty() {
            return;
        }
        let kept = |file: &E| paths.binary_search(&file.path()).is_err();
        self.missing.retain(kept);
        self.shared.retain(kept);
    }

    /// Every path the plan names: `missing`, `shared`, then `extra`.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.missing
            .iter()
            .chain(&self.shared)
            .map(PlannedFile::path)
            .chain(self.extra.keys().map(String::as_str))
    }
}

/// The plan as the container's `files_metadata.json`: the same text as [`SyncPlan`]'s
/// [`PlanJson`](wazuh_cluster_proto::payload::PlanJson), `{"extra": .., "missing": ..,
/// "shared": ..}`, written from the entries where they are.
impl<E: PlannedFile> Serialize for ContainerPlan<E> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry(
            "extra",
            &wazuh_cluster_proto::payload::TableJson(&self.extra),
        )?;
        map.serialize_entry("missing", &PartJson(&self.missing))?;
        map.serialize_entry("shared", &PartJson(&self.shared))?;
        map.end()
    }
}

/// One part of a plan as a `{path: metadata}` object.
struct PartJson<'a, E>(&'a [E]);

impl<E: PlannedFile> Serialize for PartJson<'_, E> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|file| (file.path(), file.metadata())))
    }
}

#[cfg(test)]
mod tests {
    use wazuh_cluster_proto::payload::PlanJson;

    use super::*;

    fn meta(data: &[u8], merge: Option<(&str, &str)>) -> FileMetadata {
        FileMetadata {
            mod_time: 1_700_000_000.25,
            cluster_item_key: "etc/shared/".into(),
            merged: merge.is_some(),
            merge_type: merge.map(|(kind, _)| kind.into()),
            merge_name: merge.map(|(_, name)| name.into()),
            hash: Blake2bHex::of(data),
        }
    }

    fn plan() -> ContainerPlan<(String, FileMetadata)> {
        ContainerPlan {
            missing: vec![
                ("etc/shared/a".into(), meta(b"1", None)),
                ("etc/shared/b/é.conf".into(), meta(b"2", None)),
            ],
            shared: vec![(
                "etc/shared/merged.mg".into(),
                meta(b"3", Some(("agent-groups", "merged.mg"))),
            )],
            extra: FileTable::from([("etc/shared/old".into(), meta(b"", None))]),
        }
    }

    #[test]
    fn writes_the_text_of_the_wire_plan() {
        let plan = plan();
        let wire = plan.to_sync_plan();
        assert_eq!(wire.missing.len(), 2);
        assert_eq!(wire.shared["etc/shared/merged.mg"], plan.shared[0].1);
        assert_eq!(
            serde_json::to_string(&plan).unwrap(),
            serde_json::to_string(&PlanJson(&wire)).unwrap()
        );
        assert_eq!(
            serde_json::to_string(&ContainerPlan::<(String, FileMetadata)>::default()).unwrap(),
            r#"{"extra":{},"missing":{},"shared":{}}"#
        );
    }

    #[test]
    fn removes_the_paths_given_and_names_the_rest() {
        let mut plan = plan();
        plan.remove_sorted(&["etc/shared/a", "etc/shared/merged.mg", "etc/shared/zz"]);
        assert_eq!(
            plan.paths().collect::<Vec<_>>(),
            ["etc/shared/b/é.conf", "etc/shared/old"]
        );
    }
}
