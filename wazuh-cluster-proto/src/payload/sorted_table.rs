//! [`SortedTable`]: a `{path: metadata}` table held as one sorted vector, what the master
//! decodes a worker's integrity metadata into.
//!
//! A [`FileTable`] (a `BTreeMap`) filled entry by entry, in the path order the worker writes,
//! leaves every B-tree node about half empty: a worker's 50,000 files took 14 MB of nodes on
//! the master at each check (heaptrack). The same entries in one vector take what they weigh,
//! are walked in the same order, and are found by binary search.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

use super::metadata::{FileMetadata, FileTable, MetadataError};
use super::relpath::{RelPathError, validate_relpath};

/// A `{path: metadata}` table sorted by path, each path once.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SortedTable {
    entries: Vec<(String, FileMetadata)>,
}

impl SortedTable {
    /// Decodes a worker's `{path: metadata}` table, refusing invalid relative paths.
    pub fn decode(value: serde_json::Value) -> Result<Self, MetadataError> {
        let table: Self = serde_json::from_value(value)?;
        table.check_paths()?;
        Ok(table)
    }

    /// Refuses a table (parsed by any means) holding a path that is not a valid relative path.
    pub fn check_paths(&self) -> Result<(), RelPathError> {
        self.entries
            .iter()
            .try_for_each(|(path, _)| validate_relpath(path))
    }

    /// Every entry in path order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &FileMetadata)> {
        self.entries
            .iter()
            .map(|(path, meta)| (path.as_str(), meta))
    }

    /// The metadata of `path`, if listed.
    pub fn get(&self, path: &str) -> Option<&FileMetadata> {
        self.entries
            .binary_search_by(|(p, _)| p.as_str().cmp(path))
            .ok()
            .map(|i| &self.entries[i].1)
    }

    /// How many files the table lists.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table lists no file.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Sorts `entries` by path; of a path listed more than once the last entry stays, as in a
    /// map that each entry overwrites (serde's reading of a JSON object).
    fn from_unsorted(mut entries: Vec<(String, FileMetadata)>) -> Self {
        // Our workers write their table in path order: no sort (its scratch space would be
        // half the table again). Otherwise stable: entries of the same path keep their order.
        // `dedup_by` keeps the earlier of two equal neighbours; swapping first leaves it with
        // the later one's metadata.
        if !entries.is_sorted_by(|(a, _), (b, _)| a <= b) {
            entries.sort_by(|(a, _), (b, _)| a.cmp(b));
        }
        entries.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                std::mem::swap(later, kept);
            }
            same
        });
        entries.shrink_to_fit();
        Self { entries }
    }
}

impl From<FileTable> for SortedTable {
    fn from(table: FileTable) -> Self {
        Self {
            entries: table.into_iter().collect(),
        }
    }
}

impl FromIterator<(String, FileMetadata)> for SortedTable {
    fn from_iter<I: IntoIterator<Item = (String, FileMetadata)>>(iter: I) -> Self {
        Self::from_unsorted(iter.into_iter().collect())
    }
}

impl<'de> Deserialize<'de> for SortedTable {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = SortedTable;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of relative paths to file metadata")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
                while let Some(entry) = map.next_entry::<String, FileMetadata>()? {
                    entries.push(entry);
                }
                Ok(SortedTable::from_unsorted(entries))
            }
        }
        deserializer.deserialize_map(Entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::blake2b::Blake2bHex;

    fn meta(data: &[u8]) -> serde_json::Value {
        serde_json::json!({
            "mod_time": 1.5, "cluster_item_key": "etc/shared/", "merged": false,
            "hash": Blake2bHex::of(data).to_string(),
        })
    }

    #[test]
    fn decodes_the_same_entries_as_a_map_in_path_order() {
        let value = serde_json::json!({
            "etc/shared/b": meta(b"b"), "etc/shared/a": meta(b"a"), "etc/client.keys": meta(b"k"),
        });
        let sorted = SortedTable::decode(value.clone()).unwrap();
        let map: FileTable = serde_json::from_value(value).unwrap();
        assert_eq!(
            sorted.iter().collect::<Vec<_>>(),
            map.iter().map(|(p, m)| (p.as_str(), m)).collect::<Vec<_>>()
        );
        assert_eq!(sorted.len(), 3);
        assert_eq!(sorted.get("etc/shared/a"), map.get("etc/shared/a"));
        assert_eq!(sorted.get("etc/shared/c"), None);
        assert_eq!(SortedTable::from(map), sorted);
    }

    #[test]
    fn a_repeated_path_keeps_its_last_entry_as_a_map_does() {
        let text = format!(
            r#"{{"a": {}, "b": {}, "a": {}}}"#,
            meta(b"first"),
            meta(b"b"),
            meta(b"last")
        );
        let sorted: SortedTable = serde_json::from_str(&text).unwrap();
        let map: FileTable = serde_json::from_str(&text).unwrap();
        assert_eq!(sorted.len(), 2);
        assert_eq!(sorted.get("a").unwrap().hash, Blake2bHex::of(b"last"));
        assert_eq!(sorted, SortedTable::from(map));
    }

    #[test]
    fn refuses_what_a_map_refuses() {
        let bad_path = serde_json::json!({ "../etc/passwd": meta(b"x") });
        assert!(matches!(
            SortedTable::decode(bad_path),
            Err(MetadataError::Path(_))
        ));
        let bad_hash = serde_json::json!({ "a": { "mod_time": 1.0, "cluster_item_key": "k",
            "merged": false, "hash": "zz" } });
        assert!(matches!(
            SortedTable::decode(bad_hash),
            Err(MetadataError::Json(_))
        ));
        assert!(SortedTable::decode(serde_json::json!([])).is_err());
    }
}
