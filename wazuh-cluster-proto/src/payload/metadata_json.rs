//! The container's `files_metadata.json` written straight from the typed tables, without a
//! `serde_json::Value` tree in between (at 50,000 files that tree cost more than 40 MB).
//!
//! The layout is the one the container has always carried: every object's keys in sorted
//! order (how a `serde_json::Value` map orders them; Wazuh's Python reads any order), an
//! optional merge field left out when absent. Serialize [`PlanJson`] or [`TableJson`] with the
//! container's encoder, which writes Python's `json.dumps` spacing and escapes; a plan kept in
//! another shape writes each file's metadata as a [`MetadataRef`].

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::blake2b::Blake2bHex;
use super::metadata::{FileMetadata, FileTable, SyncPlan};

/// A [`SyncPlan`] as the master's metadata: `{"extra": .., "missing": .., "shared": ..}`.
#[derive(Debug, Clone, Copy)]
pub struct PlanJson<'a>(pub &'a SyncPlan);

/// A [`FileTable`] as a `{path: metadata}` object (paths in order: the table is sorted).
#[derive(Debug, Clone, Copy)]
pub struct TableJson<'a>(pub &'a FileTable);

/// One file's metadata borrowed from wherever it is kept, written as a [`FileMetadata`] is
/// (keys sorted, an absent merge field left out).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetadataRef<'a> {
    /// Modification time (seconds since the epoch).
    pub mod_time: f64,
    /// The `cluster.json` item the file belongs to.
    pub cluster_item_key: &'a str,
    /// True for legacy merged files.
    pub merged: bool,
    /// Merge type of a legacy merged file.
    pub merge_type: Option<&'a str>,
    /// Merge name of a legacy merged file.
    pub merge_name: Option<&'a str>,
    /// BLAKE2b-512 of the content.
    pub hash: &'a Blake2bHex,
}

impl<'a> From<&'a FileMetadata> for MetadataRef<'a> {
    fn from(meta: &'a FileMetadata) -> Self {
        MetadataRef {
            mod_time: meta.mod_time,
            cluster_item_key: &meta.cluster_item_key,
            merged: meta.merged,
            merge_type: meta.merge_type.as_deref(),
            merge_name: meta.merge_name.as_deref(),
            hash: &meta.hash,
        }
    }
}

impl Serialize for PlanJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("extra", &TableJson(&self.0.extra))?;
        map.serialize_entry("missing", &TableJson(&self.0.missing))?;
        map.serialize_entry("shared", &TableJson(&self.0.shared))?;
        map.end()
    }
}

impl From<MetadataRef<'_>> for FileMetadata {
    fn from(meta: MetadataRef<'_>) -> Self {
        FileMetadata {
            mod_time: meta.mod_time,
            cluster_item_key: meta.cluster_item_key.to_owned(),
            merged: meta.merged,
            merge_type: meta.merge_type.map(str::to_owned),
            merge_name: meta.merge_name.map(str::to_owned),
            hash: *meta.hash,
        }
    }
}

impl Serialize for TableJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(
            self.0
                .iter()
                .map(|(path, meta)| (path, MetadataRef::from(meta))),
        )
    }
}

impl Serialize for MetadataRef<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let meta = self;
        let optional =
            usize::from(meta.merge_name.is_some()) + usize::from(meta.merge_type.is_some());
        let mut map = serializer.serialize_map(Some(4 + optional))?;
        map.serialize_entry("cluster_item_key", &meta.cluster_item_key)?;
        map.serialize_entry("hash", meta.hash)?;
        if let Some(name) = &meta.merge_name {
            map.serialize_entry("merge_name", name)?;
        }
        if let Some(kind) = &meta.merge_type {
            map.serialize_entry("merge_type", kind)?;
        }
        map.serialize_entry("merged", &meta.merged)?;
        map.serialize_entry("mod_time", &meta.mod_time)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::blake2b::Blake2bHex;
    use crate::payload::python_json::to_python_json;

    fn meta(data: &[u8], mod_time: f64, merge: Option<(&str, &str)>) -> FileMetadata {
        FileMetadata {
            mod_time,
            cluster_item_key: "etc/shared/".into(),
            merged: merge.is_some(),
            merge_type: merge.map(|(kind, _)| kind.into()),
            merge_name: merge.map(|(_, name)| name.into()),
            hash: Blake2bHex::of(data),
        }
    }

    #[test]
    fn same_text_as_through_a_value_tree() {
        let plan = SyncPlan {
            missing: FileTable::from([
                ("etc/shared/b/é 😀.conf".into(), meta(b"1", 1.5, None)),
                (
                    "etc/shared/a".into(),
                    meta(b"2", 1_700_000_000.123_456_7, None),
                ),
            ]),
            shared: FileTable::from([(
                "etc/shared/merged.mg".into(),
                meta(b"3", 0.0, Some(("agent-groups", "merged.mg"))),
            )]),
            extra: FileTable::from([("etc/shared/z\u{7f}\"\\".into(), meta(b"", 1e21, None))]),
        };
        for meta in plan.missing.values().chain(plan.shared.values()) {
            assert_eq!(&FileMetadata::from(MetadataRef::from(meta)), meta);
        }
        let through_value = to_python_json(&serde_json::to_value(&plan).unwrap());
        assert_eq!(to_python_json(&PlanJson(&plan)), through_value);
        let through_value = to_python_json(&serde_json::to_value(&plan.missing).unwrap());
        assert_eq!(to_python_json(&TableJson(&plan.missing)), through_value);
        assert_eq!(
            to_python_json(&PlanJson(&SyncPlan::default())),
            r#"{"extra": {}, "missing": {}, "shared": {}}"#
        );
    }
}
