//! The integrity-sync container (called "zip" by Wazuh, but not a ZIP archive):
//!
//! ```text
//! for each file:  <relpath utf8> "|//@@//|" zlib(content, level 1) "|@@//@@|"
//! finally:        "files_metadata.json" "|//@@//|" zlib(json metadata)      (no trailing separator)
//! ```
//!
//! Wazuh's decoder splits the stream on [`FILE_SEP`] without any escaping, so a compressed body
//! that happens to contain those 8 bytes cannot be parsed by a Python peer. The encoder (in
//! `container_encoder.rs`) therefore skips such a file (reported as `SeparatorInBody`; it syncs
//! in a later round once its content changes) and refuses metadata whose compressed form contains it.
//! Relative paths cannot contain either separator: both hold `//`, an empty path component.

use super::relpath::RelPathError;

/// Separates a path from its compressed content.
pub const PATH_SEP: &[u8] = b"|//@@//|";
/// Ends an entry (absent after the last one).
pub const FILE_SEP: &[u8] = b"|@@//@@|";
/// Name of the last entry, holding the metadata JSON.
pub const METADATA_NAME: &str = "files_metadata.json";
/// The longest entry path a reader accepts, in bytes (its separator must come within it).
pub const MAX_ENTRY_PATH: usize = 4096;
/// zlib level Wazuh uses (`compress_level`).
pub const COMPRESS_LEVEL: u32 = 2;

/// Why a container could not be built or read.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// An entry's path is not a valid relative path.
    #[error("container entry {index}: {source}")]
    Path {
        /// Position of the entry (0-based).
        index: usize,
        /// What is wrong with the path.
        source: RelPathError,
    },
    /// An entry's path is not UTF-8.
    #[error("container entry {index}: path is not valid UTF-8")]
    PathNotUtf8 {
        /// Position of the entry.
        index: usize,
    },
    /// A file entry uses the metadata's reserved name.
    #[error("container entry {index}: the name {METADATA_NAME:?} is reserved for the last entry")]
    ReservedPath {
        /// Position of the entry.
        index: usize,
    },
    /// `files_metadata.json` appears before the end (or is followed by a separator).
    #[error("container entry {index} is {METADATA_NAME:?} but is not the last entry")]
    MetadataNotLast {
        /// Position of the entry.
        index: usize,
    },
    /// An entry has no path separator.
    #[error("container entry {index} has no \"|//@@//|\" after its path")]
    MissingPathSeparator {
        /// Position of the entry.
        index: usize,
    },
    /// An entry's path separator is not within the first [`MAX_ENTRY_PATH`] bytes.
    #[error("container entry {index} has no \"|//@@//|\" within its first {max} bytes")]
    PathTooLong {
        /// Position of the entry.
        index: usize,
        /// The longest path accepted.
        max: usize,
    },
    /// The container's bytes could not be read (from the spool they were received into).
    #[error("the received container could not be read: {0}")]
    Read(std::io::Error),
    /// The same path appears twice.
    #[error("container entry {index}: path {path:?} appears twice")]
    DuplicatePath {
        /// Position of the second occurrence.
        index: usize,
        /// The path.
        path: String,
    },
    /// An encoder told to take paths in order was given one not after the previous one.
    #[error(
        "container entry {index}: path {path:?} does not come after {previous:?}; this encoder \
         takes paths in strictly increasing byte order"
    )]
    PathOutOfOrder {
        /// Position of the entry.
        index: usize,
        /// The path.
        path: String,
        /// The path added before it.
        previous: String,
    },
    /// The last entry is not `files_metadata.json`.
    #[error("container's last entry is {found:?}; expected {METADATA_NAME:?}")]
    MissingMetadata {
        /// The last entry's name (lossily decoded).
        found: String,
    },
    /// More entries than the limit.
    #[error("container has more than {max} entries")]
    TooManyEntries {
        /// The limit.
        max: usize,
    },
    /// Decompressing would exceed the total limit (a zlib bomb, or a limit set too low).
    #[error("container entry {path:?} inflates past the total limit of {max} bytes; refused")]
    DecompressedTooLarge {
        /// The entry being inflated.
        path: String,
        /// The limit.
        max: u64,
    },
    /// A body is not a valid zlib stream.
    #[error("container entry {path:?} is not valid zlib data: {reason}")]
    Corrupt {
        /// The entry.
        path: String,
        /// What zlib reported.
        reason: String,
    },
    /// Bytes follow the end of a body's zlib stream.
    #[error("container entry {path:?} has {extra} bytes after its zlib stream")]
    TrailingData {
        /// The entry.
        path: String,
        /// How many bytes.
        extra: usize,
    },
    /// The metadata is not JSON.
    #[error("container metadata is not valid JSON: {0}")]
    MetadataJson(#[from] serde_json::Error),
    /// The compressed metadata contains [`FILE_SEP`], which a Python peer would split on.
    #[error(
        "compressed metadata contains the separator \"|@@//@@|\"; a Wazuh peer could not parse it"
    )]
    SeparatorInMetadata,
}

/// Bounds for reading a container (`decode_container`, `ContainerIndex`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContainerLimits {
    /// Total bytes all entries may inflate to, metadata included.
    pub max_decompressed: u64,
    /// Most entries, metadata included.
    pub max_entries: usize,
}

impl Default for ContainerLimits {
    /// 2 GiB inflated (twice Wazuh's `max_zip_size`) and 1,000,000 entries.
    fn default() -> Self {
        Self {
            max_decompressed: 2 << 30,
            max_entries: 1_000_000,
        }
    }
}

/// One file of a decoded container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerFile {
    /// Validated relative path.
    pub path: String,
    /// Inflated content.
    pub content: Vec<u8>,
}

/// A decoded container: its files in order and the metadata JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedContainer {
    /// The files, in container order.
    pub files: Vec<ContainerFile>,
    /// The parsed `files_metadata.json`.
    pub metadata: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::decode_container;

    fn zlib(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn decoder_refuses_duplicates_and_trailing_separator() {
        let mut bytes = Vec::new();
        for _ in 0..2 {
            bytes.extend(b"a|//@@//|");
            bytes.extend(zlib(b"x"));
            bytes.extend(FILE_SEP);
        }
        let mut meta = b"files_metadata.json|//@@//|".to_vec();
        meta.extend(zlib(b"{}"));
        bytes.extend(&meta);
        assert!(matches!(
            decode_container(&bytes, &ContainerLimits::default()),
            Err(ContainerError::DuplicatePath { index: 1, .. })
        ));
        meta.extend(FILE_SEP);
        assert!(matches!(
            decode_container(&meta, &ContainerLimits::default()),
            Err(ContainerError::MetadataNotLast { index: 0 })
        ));
    }
}
