//! [`TableEntriesJson`]: a node's [`MetadataTable`] serialized as the wire's
//! `files_metadata.json`, straight from its entries.

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::table::{MetadataTable, TableEntry};

/// The table as the `{path: metadata}` object a worker sends, byte for byte what
/// [`TableJson`](wazuh_cluster_proto::payload::TableJson) gives for
/// [`MetadataTable::to_file_table`], without building that copy of every path and hash.
#[derive(Debug, Clone, Copy)]
pub struct TableEntriesJson<'a>(pub &'a MetadataTable);

/// One entry's metadata, keys sorted as [`TableJson`](wazuh_cluster_proto::payload::TableJson)
/// writes them (a table entry is never merged).
struct EntryJson<'a>(&'a TableEntry);

impl Serialize for TableEntriesJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(
            self.0
                .entries()
                .map(|entry| (entry.path.as_str(), EntryJson(entry))),
        )
    }
}

impl Serialize for EntryJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let entry = self.0;
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("cluster_item_key", entry.path.item_key())?;
        map.serialize_entry("hash", &entry.hash)?;
        map.serialize_entry("merged", &false)?;
        map.serialize_entry("mod_time", &entry.mtime.as_f64())?;
        map.end()
    }
}
