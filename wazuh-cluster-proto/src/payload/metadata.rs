//! File metadata of the integrity sync: the worker's `{path: meta}` table, the master's
//! `{"missing": .., "shared": .., "extra": ..}` answer and the BLAKE2b-512 hash they compare.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::blake2b::Blake2bHex;
use super::relpath::{RelPathError, validate_relpath};

/// Why metadata was refused.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    /// The JSON does not have the expected shape (this includes a bad `hash`).
    #[error("file metadata JSON is malformed: {0}")]
    Json(#[from] serde_json::Error),
    /// A key of the table is not a valid relative path.
    #[error("file metadata key: {0}")]
    Path(#[from] RelPathError),
}

/// One file's entry in a metadata table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileMetadata {
    /// Modification time (seconds since the epoch, Python `os.path.getmtime`).
    pub mod_time: f64,
    /// The `cluster.json` item the file belongs to, e.g. `etc/shared/`.
    pub cluster_item_key: String,
    /// True for legacy merged files.
    pub merged: bool,
    /// Merge type of a legacy merged file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge_type: Option<String>,
    /// Merge name of a legacy merged file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge_name: Option<String>,
    /// BLAKE2b-512 of the content.
    pub hash: Blake2bHex,
}

/// A `{relative path: metadata}` table: what a worker sends, and each part of the master's answer.
pub type FileTable = BTreeMap<String, FileMetadata>;

/// Decodes a `{path: meta}` table, refusing invalid relative paths as keys.
pub fn decode_file_table(value: serde_json::Value) -> Result<FileTable, MetadataError> {
    let table: FileTable = serde_json::from_value(value)?;
    check_table_paths(&table)?;
    Ok(table)
}

/// Refuses a table (parsed by any means) whose keys are not all valid relative paths.
pub fn check_table_paths(table: &FileTable) -> Result<(), RelPathError> {
    table.keys().try_for_each(|path| validate_relpath(path))
}

/// The master's metadata for a sync container: what the worker lacks, what differs, what it
/// has in excess (with the worker's own metadata).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncPlan {
    /// Files only the master has.
    pub missing: FileTable,
    /// Files both have with different hashes (master's metadata).
    pub shared: FileTable,
    /// Files only the worker has (worker's metadata); the worker deletes them.
    pub extra: FileTable,
}

impl SyncPlan {
    /// Decodes the master's metadata, refusing invalid relative paths.
    pub fn decode(value: serde_json::Value) -> Result<Self, MetadataError> {
        let plan: Self = serde_json::from_value(value)?;
        plan.check_paths()?;
        Ok(plan)
    }

    /// Refuses a plan (parsed by any means) holding a path that is not a valid relative path.
    pub fn check_paths(&self) -> Result<(), RelPathError> {
        [&self.missing, &self.shared, &self.extra]
            .into_iter()
            .try_for_each(check_table_paths)
    }

    /// True when nothing differs (the master then sends `syn_m_c_ok`).
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.shared.is_empty() && self.extra.is_empty()
    }

    /// Compares the master's table with a worker's, as Wazuh's `compare_files` does.
    pub fn compare(master: &FileTable, worker: &FileTable) -> Self {
        let mut plan = Self::default();
        for (path, meta) in master {
            match worker.get(path) {
                None => {
                    plan.missing.insert(path.clone(), meta.clone());
                }
                Some(theirs) if theirs.hash != meta.hash => {
                    plan.shared.insert(path.clone(), meta.clone());
                }
                Some(_) => {}
            }
        }
        for (path, meta) in worker {
            if !master.contains_key(path) {
                plan.extra.insert(path.clone(), meta.clone());
            }
        }
        plan
    }
}

/// The paths of the master's sync plan without their metadata: what a worker needs to apply it,
/// at a fraction of the plan's memory. Parsed from the same JSON as [`SyncPlan`], with the same
/// checks (every entry's metadata is parsed and checked, then dropped); each list is sorted and
/// holds each path once.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncPlanPaths {
    /// Files only the master has.
    #[serde(deserialize_with = "table_paths")]
    pub missing: Vec<String>,
    /// Files both have with different hashes.
    #[serde(deserialize_with = "table_paths")]
    pub shared: Vec<String>,
    /// Files only the worker has; the worker deletes them.
    #[serde(deserialize_with = "table_paths")]
    pub extra: Vec<String>,
}

impl SyncPlanPaths {
    /// Decodes the master's metadata, refusing invalid relative paths.
    pub fn decode(value: serde_json::Value) -> Result<Self, MetadataError> {
        let paths: Self = serde_json::from_value(value)?;
        paths.check_paths()?;
        Ok(paths)
    }

    /// Refuses paths (parsed by any means) that are not valid relative paths.
    pub fn check_paths(&self) -> Result<(), RelPathError> {
        [&self.missing, &self.shared, &self.extra]
            .into_iter()
            .flatten()
            .try_for_each(|path| validate_relpath(path))
    }

    /// Whether `path` is listed as missing or shared (to be written).
    pub fn writes(&self, path: &str) -> bool {
        let listed = |list: &Vec<String>| list.binary_search_by(|p| p.as_str().cmp(path)).is_ok();
        listed(&self.missing) || listed(&self.shared)
    }
}

/// The keys of a `{path: metadata}` table, each metadata checked then dropped; sorted, unique.
fn table_paths<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    struct Paths;
    impl<'de> Visitor<'de> for Paths {
        type Value = Vec<String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map of relative paths to file metadata")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut paths = Vec::new();
            while let Some((path, _)) = map.next_entry::<String, FileMetadata>()? {
                paths.push(path);
            }
            paths.sort_unstable();
            paths.dedup();
            Ok(paths)
        }
    }
    deserializer.deserialize_map(Paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(data: &[u8]) -> FileMetadata {
        FileMetadata {
            mod_time: 1.5,
            cluster_item_key: "etc/shared/".into(),
            merged: false,
            merge_type: None,
            merge_name: None,
            hash: Blake2bHex::of(data),
        }
    }

    #[test]
    fn compare_splits_missing_shared_extra() {
        let master = FileTable::from([("a".into(), meta(b"1")), ("b".into(), meta(b"2"))]);
        let worker = FileTable::from([("b".into(), meta(b"x")), ("c".into(), meta(b"3"))]);
        let plan = SyncPlan::compare(&master, &worker);
        assert_eq!(plan.missing.keys().collect::<Vec<_>>(), ["a"]);
        assert_eq!(plan.shared.keys().collect::<Vec<_>>(), ["b"]);
        assert_eq!(plan.extra.keys().collect::<Vec<_>>(), ["c"]);
        let value = serde_json::to_value(&plan).unwrap();
        assert_eq!(SyncPlan::decode(value).unwrap(), plan);
    }

    #[test]
    fn refuses_bad_hash_and_paths() {
        let mut value = serde_json::to_value(FileTable::from([("a".into(), meta(b""))])).unwrap();
        value["a"]["hash"] = "abc".into();
        assert!(matches!(
            decode_file_table(value),
            Err(MetadataError::Json(_))
        ));
        let value = serde_json::to_value(FileTable::from([("../a".into(), meta(b""))])).unwrap();
        assert!(matches!(
            decode_file_table(value),
            Err(MetadataError::Path(_))
        ));
    }

    #[test]
    fn plan_paths_parse_what_the_plan_parses() {
        let m = serde_json::to_value(meta(b"x")).unwrap();
        let value = serde_json::json!({
            "missing": {"etc/shared/b": m, "etc/shared/a": m},
            "shared": {},
            "extra": {"etc/shared/c": m},
        });
        let plan = SyncPlan::decode(value.clone()).unwrap();
        let paths = SyncPlanPaths::decode(value).unwrap();
        assert_eq!(
            paths.missing,
            plan.missing.keys().cloned().collect::<Vec<_>>()
        );
        assert_eq!(paths.extra, ["etc/shared/c"]);
        assert!(paths.writes("etc/shared/a") && !paths.writes("etc/shared/c"));
        let bad_hash =
            serde_json::json!({"missing": {"a": {"hash": "x"}}, "shared": {}, "extra": {}});
        assert!(SyncPlanPaths::decode(bad_hash).is_err());
        let unknown = serde_json::json!({"missing": {}, "shared": {}, "extra": {}, "more": {}});
        assert!(SyncPlanPaths::decode(unknown).is_err());
        let escaping = serde_json::json!({"missing": {}, "shared": {}, "extra": {"../x": m}});
        assert!(matches!(
            SyncPlanPaths::decode(escaping),
            Err(MetadataError::Path(_))
        ));
    }
}
