//! [`SortedTable`]: a `{path: metadata}` table held sorted in blocks of entries, what the
//! master decodes a worker's integrity metadata into.
//!
//! A [`FileTable`] (a `BTreeMap`) filled entry by entry, in the path order the worker writes,
//! leaves every B-tree node about half empty: a worker's 50,000 files took 14 MB of nodes on
//! the master at each check (heaptrack). One vector takes what the entries weigh, but grown
//! entry by entry it is copied at each doubling, the old and the new buffer held together
//! (17 MB for 50,000 entries of 9 MB, then 20 MB to shrink it to its length). The table is
//! filled in blocks of 4,096 entries instead: what it holds is the entries and at most one
//! block's spare room, and nothing is copied when the worker wrote its table in path order
//! (our workers do). A table in any other order is sorted once, in one vector.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

use super::metadata::{FileMetadata, FileTable, MetadataError};
use super::relpath::{RelPathError, validate_relpath};

/// Entries per block (704 KB of them).
const BLOCK: usize = 4096;

/// One path and its metadata.
type Entry = (String, FileMetadata);

/// A `{path: metadata}` table sorted by path, each path once.
#[derive(Debug, Clone, Default)]
pub struct SortedTable {
    /// Non-empty blocks; every path of a block is before every path of the next one.
    blocks: Vec<Vec<Entry>>,
    len: usize,
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
        self.iter().try_for_each(|(path, _)| validate_relpath(path))
    }

    /// Every entry in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &FileMetadata)> {
        self.blocks
            .iter()
            .flatten()
            .map(|(path, meta)| (path.as_str(), meta))
    }

    /// The metadata of `path`, if listed.
    pub fn get(&self, path: &str) -> Option<&FileMetadata> {
        let before = |block: &Vec<Entry>| block.last().is_some_and(|(p, _)| p.as_str() < path);
        let block = self.blocks.get(self.blocks.partition_point(before))?;
        block
            .binary_search_by(|(p, _)| p.as_str().cmp(path))
            .ok()
            .map(|i| &block[i].1)
    }

    /// How many files the table lists.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the table lists no file.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Equal when they list the same entries, however they are laid out in blocks.
impl PartialEq for SortedTable {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

/// A [`SortedTable`] filled entry by entry, in blocks, noting whether the paths came in
/// strictly increasing order.
#[derive(Debug)]
struct Filling {
    blocks: Vec<Vec<Entry>>,
    len: usize,
    in_order: bool,
}

impl Default for Filling {
    fn default() -> Self {
        Self {
            blocks: Vec::new(),
            len: 0,
            in_order: true,
        }
    }
}

impl Filling {
    fn push(&mut self, entry: Entry) {
        match self.blocks.last_mut() {
            Some(block) if block.len() < BLOCK => {
                self.in_order &= block.last().is_some_and(|(last, _)| *last < entry.0);
                block.push(entry);
            }
            last => {
                self.in_order &= last
                    .and_then(|block| block.last())
                    .is_none_or(|(last, _)| *last < entry.0);
                let mut block = Vec::with_capacity(BLOCK);
                block.push(entry);
                self.blocks.push(block);
            }
        }
        self.len += 1;
    }

    /// The table. Paths not in strictly increasing order are sorted; of a path listed more
    /// than once the last entry stays, as in a map that each entry overwrites (serde's reading
    /// of a JSON object).
    fn finish(mut self) -> SortedTable {
        if self.in_order {
            if let Some(last) = self.blocks.last_mut() {
                last.shrink_to_fit();
            }
            return SortedTable {
                blocks: self.blocks,
                len: self.len,
            };
        }
        let mut entries = Vec::with_capacity(self.len);
        for block in self.blocks {
            entries.extend(block);
        }
        // Stable: entries of the same path keep their order. `dedup_by` keeps the earlier of
        // two equal neighbours; swapping first leaves it with the later one's metadata.
        entries.sort_by(|(a, _), (b, _)| a.cmp(b));
        entries.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                std::mem::swap(later, kept);
            }
            same
        });
        entries.shrink_to_fit();
        SortedTable {
            len: entries.len(),
            blocks: vec![entries],
        }
    }
}

impl From<FileTable> for SortedTable {
    fn from(table: FileTable) -> Self {
        table.into_iter().collect()
    }
}

impl FromIterator<Entry> for SortedTable {
    fn from_iter<I: IntoIterator<Item = Entry>>(iter: I) -> Self {
        let mut filling = Filling::default();
        iter.into_iter().for_each(|entry| filling.push(entry));
        filling.finish()
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
                let mut filling = Filling::default();
                while let Some(entry) = map.next_entry::<String, FileMetadata>()? {
                    filling.push(entry);
                }
                Ok(filling.finish())
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

    #[test]
    fn a_table_over_several_blocks_is_found_and_walked_in_order_whatever_its_order() {
        let meta = |i: usize| FileMetadata {
            mod_time: i as f64,
            cluster_item_key: "etc/shared/".into(),
            merged: false,
            merge_type: None,
            merge_name: None,
            hash: Blake2bHex::of(&i.to_le_bytes()),
        };
        let n = 2 * BLOCK + 17;
        let path = |i: usize| format!("etc/shared/g/{i:06}");
        let map: FileTable = (0..n).map(|i| (path(i), meta(i))).collect();
        let in_order: SortedTable = (0..n).map(|i| (path(i), meta(i))).collect();
        let reversed: SortedTable = (0..n).rev().map(|i| (path(i), meta(i))).collect();
        assert_eq!(in_order.blocks.len(), 3, "filled block by block");
        assert_eq!(reversed.blocks.len(), 1, "sorted once, in one vector");
        for table in [&in_order, &reversed] {
            assert_eq!(table.len(), n);
            assert!(table.iter().eq(map.iter().map(|(p, m)| (p.as_str(), m))));
            for i in [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK, n - 1] {
                assert_eq!(table.get(&path(i)), Some(&meta(i)), "{i}");
            }
            assert_eq!(table.get("etc/shared/g/000000x"), None);
            assert_eq!(table.get("a"), None);
            assert_eq!(table.get("z"), None);
        }
        assert_eq!(in_order, reversed, "the same entries, however laid out");
    }
}
