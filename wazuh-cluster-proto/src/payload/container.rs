//! The integrity-sync container (called "zip" by Wazuh, but not a ZIP archive):
//!
//! ```text
//! for each file:  <relpath utf8> "|//@@//|" zlib(content, level 1) "|@@//@@|"
//! finally:        "files_metadata.json" "|//@@//|" zlib(json metadata)      (no trailing separator)
//! ```
//!
//! Wazuh's decoder splits the stream on [`FILE_SEP`] without any escaping, so a compressed body
//! that happens to contain those 8 bytes cannot be parsed by a Python peer. [`ContainerEncoder`]
//! therefore skips such a file (reported as [`SkipReason::SeparatorInBody`]; it syncs in a later
//! round once its content changes) and refuses metadata whose compressed form contains it.
//! Relative paths cannot contain either separator: both hold `//`, an empty path component.

use std::collections::HashSet;
use std::io::Write;

use flate2::Compression;
use flate2::write::ZlibEncoder;

use super::python_json::to_python_json;
use super::relpath::{RelPathError, validate_relpath};

/// Separates a path from its compressed content.
pub const PATH_SEP: &[u8] = b"|//@@//|";
/// Ends an entry (absent after the last one).
pub const FILE_SEP: &[u8] = b"|@@//@@|";
/// Name of the last entry, holding the metadata JSON.
pub const METADATA_NAME: &str = "files_metadata.json";
/// The longest entry path a reader accepts, in bytes (its separator must come within it).
pub const MAX_ENTRY_PATH: usize = 4096;
/// zlib level Wazuh uses (`compress_level`).
pub const COMPRESS_LEVEL: u32 = 1;

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

/// Why the encoder left a file out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// The file alone is larger than the limit (Wazuh: "File too large to be synced").
    TooLarge {
        /// The file's size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The container reached its limit (Wazuh: "Maximum zip size exceeded"); from then on every
    /// later file is left out too and syncs next round.
    LimitReached,
    /// The compressed body contains [`FILE_SEP`].
    SeparatorInBody,
}

/// A file the encoder left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The file's relative path.
    pub path: String,
    /// Why.
    pub reason: SkipReason,
}

/// What [`ContainerEncoder::add_file`] did with a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddOutcome {
    /// The file is in the container.
    Added,
    /// The file was left out (also recorded in [`EncodedContainer::skipped`]).
    Skipped(SkipReason),
}

/// A finished container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedContainer {
    /// The container bytes.
    pub bytes: Vec<u8>,
    /// Files left out; the caller removes them from the metadata it passes to `finish`, as Wazuh does.
    pub skipped: Vec<Skipped>,
}

/// Builds a container under a size limit, as Wazuh's `compress_files` does.
#[derive(Debug)]
pub struct ContainerEncoder {
    limit: u64,
    compressed: u64,
    exceeded: bool,
    bytes: Vec<u8>,
    paths: HashSet<String>,
    skipped: Vec<Skipped>,
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::new(COMPRESS_LEVEL));
    encoder
        .write_all(data)
        .and_then(|()| encoder.finish())
        .expect("compressing into a Vec cannot fail")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle, 0).is_some()
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|at| at + from)
}

impl ContainerEncoder {
    /// An empty container; `limit` bounds each file's raw size and the total compressed size.
    pub fn new(limit: u64) -> Self {
        Self {
            limit,
            compressed: 0,
            exceeded: false,
            bytes: Vec::new(),
            paths: HashSet::new(),
            skipped: Vec::new(),
        }
    }

    /// Adds one file, or leaves it out and says why. Invalid or repeated paths are errors.
    pub fn add_file(&mut self, path: &str, content: &[u8]) -> Result<AddOutcome, ContainerError> {
        let index = self.paths.len() + self.skipped.len();
        validate_relpath(path).map_err(|source| ContainerError::Path { index, source })?;
        if path == METADATA_NAME {
            return Err(ContainerError::ReservedPath { index });
        }
        if !self.paths.insert(path.to_owned()) {
            return Err(ContainerError::DuplicatePath {
                index,
                path: path.to_owned(),
            });
        }
        let outcome = self.try_add(path, content);
        if let AddOutcome::Skipped(reason) = &outcome {
            self.paths.remove(path);
            self.skipped.push(Skipped {
                path: path.to_owned(),
                reason: reason.clone(),
            });
        }
        Ok(outcome)
    }

    fn try_add(&mut self, path: &str, content: &[u8]) -> AddOutcome {
        let size = content.len() as u64;
        if size > self.limit {
            return AddOutcome::Skipped(SkipReason::TooLarge {
                size,
                limit: self.limit,
            });
        }
        if self.exceeded {
            return AddOutcome::Skipped(SkipReason::LimitReached);
        }
        let body = zlib(content);
        if self.compressed + body.len() as u64 > self.limit {
            self.exceeded = true;
            return AddOutcome::Skipped(SkipReason::LimitReached);
        }
        if contains(&body, FILE_SEP) {
            return AddOutcome::Skipped(SkipReason::SeparatorInBody);
        }
        self.compressed += body.len() as u64;
        self.bytes.extend_from_slice(path.as_bytes());
        self.bytes.extend_from_slice(PATH_SEP);
        self.bytes.extend_from_slice(&body);
        self.bytes.extend_from_slice(FILE_SEP);
        AddOutcome::Added
    }

    /// Appends the metadata entry (JSON as Python's `json.dumps` writes it) and returns the container.
    pub fn finish(
        mut self,
        metadata: &serde_json::Value,
    ) -> Result<EncodedContainer, ContainerError> {
        let body = zlib(to_python_json(metadata).as_bytes());
        if contains(&body, FILE_SEP) {
            return Err(ContainerError::SeparatorInMetadata);
        }
        self.bytes.extend_from_slice(METADATA_NAME.as_bytes());
        self.bytes.extend_from_slice(PATH_SEP);
        self.bytes.extend_from_slice(&body);
        Ok(EncodedContainer {
            bytes: self.bytes,
            skipped: self.skipped,
        })
    }
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

    #[test]
    fn layout_matches_wazuh() {
        let mut encoder = ContainerEncoder::new(1 << 20);
        assert_eq!(
            encoder.add_file("etc/client.keys", b"001 a any k").unwrap(),
            AddOutcome::Added
        );
        let out = encoder
            .finish(&serde_json::json!({"etc/client.keys": {}}))
            .unwrap();
        let mut expected = b"etc/client.keys|//@@//|".to_vec();
        expected.extend(zlib(b"001 a any k"));
        expected.extend(b"|@@//@@|files_metadata.json|//@@//|");
        expected.extend(zlib(br#"{"etc/client.keys": {}}"#));
        assert_eq!(out.bytes, expected);
        let decoded = decode_container(&out.bytes, &ContainerLimits::default()).unwrap();
        assert_eq!(decoded.files[0].content, b"001 a any k");
    }

    #[test]
    fn limits_skip_like_wazuh() {
        let mut encoder = ContainerEncoder::new(40);
        assert!(matches!(
            encoder.add_file("big", &[0u8; 41]).unwrap(),
            AddOutcome::Skipped(SkipReason::TooLarge {
                size: 41,
                limit: 40
            })
        ));
        assert_eq!(encoder.add_file("a", b"aaaa").unwrap(), AddOutcome::Added);
        let noisy: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(97)).collect();
        assert_eq!(
            encoder.add_file("b", &noisy).unwrap(),
            AddOutcome::Skipped(SkipReason::LimitReached)
        );
        assert_eq!(
            encoder.add_file("c", b"c").unwrap(),
            AddOutcome::Skipped(SkipReason::LimitReached)
        );
        let out = encoder.finish(&serde_json::json!({})).unwrap();
        let skipped: Vec<_> = out.skipped.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(skipped, ["big", "b", "c"]);
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
