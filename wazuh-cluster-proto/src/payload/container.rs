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
use std::io::{Read, Write};

use flate2::Compression;
use flate2::bufread::ZlibDecoder;
use flate2::write::ZlibEncoder;

use super::python_json::to_python_json;
use super::relpath::{RelPathError, validate_relpath};

/// Separates a path from its compressed content.
pub const PATH_SEP: &[u8] = b"|//@@//|";
/// Ends an entry (absent after the last one).
pub const FILE_SEP: &[u8] = b"|@@//@@|";
/// Name of the last entry, holding the metadata JSON.
pub const METADATA_NAME: &str = "files_metadata.json";
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

/// Bounds for [`decode_container`].
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

/// Reads a container strictly: valid unique relative paths, the metadata last, every body one
/// complete zlib stream, and at most `limits` inflated bytes and entries (checked while
/// inflating, so a zlib bomb costs at most the limit).
pub fn decode_container(
    bytes: &[u8],
    limits: &ContainerLimits,
) -> Result<DecodedContainer, ContainerError> {
    let mut view = ContainerView::new(bytes, limits)?;
    let mut files = Vec::with_capacity(view.len());
    for index in 0..view.len() {
        let content = view.inflate(index)?;
        files.push(ContainerFile {
            path: view.path(index).to_owned(),
            content,
        });
    }
    Ok(DecodedContainer {
        files,
        metadata: view.metadata,
    })
}

/// A container whose structure is checked (valid unique relative paths, the metadata last and
/// inflated, at most `max_entries`) while its files stay compressed in the received bytes:
/// each is inflated on demand ([`ContainerView::inflate`]), against one budget of inflated
/// bytes for the whole container. Holding the view costs the compressed size, not the tree.
#[derive(Debug)]
pub struct ContainerView<'a> {
    entries: Vec<(&'a str, &'a [u8])>,
    budget: u64,
    max_decompressed: u64,
    /// The parsed `files_metadata.json`.
    pub metadata: serde_json::Value,
}

impl<'a> ContainerView<'a> {
    /// Checks the structure of `bytes` and inflates the metadata; no file is inflated yet.
    pub fn new(bytes: &'a [u8], limits: &ContainerLimits) -> Result<Self, ContainerError> {
        let mut raw = Vec::new();
        let mut start = 0;
        while let Some(at) = find(bytes, FILE_SEP, start) {
            raw.push(&bytes[start..at]);
            start = at + FILE_SEP.len();
            if raw.len() >= limits.max_entries {
                return Err(ContainerError::TooManyEntries {
                    max: limits.max_entries,
                });
            }
        }
        let last = &bytes[start..];
        let mut paths = HashSet::new();
        let mut entries = Vec::with_capacity(raw.len());
        for (index, entry) in raw.into_iter().enumerate() {
            let (path, body) = split_entry(index, entry)?;
            validate_relpath(path).map_err(|source| ContainerError::Path { index, source })?;
            if path == METADATA_NAME {
                return Err(ContainerError::MetadataNotLast { index });
            }
            if !paths.insert(path) {
                return Err(ContainerError::DuplicatePath {
                    index,
                    path: path.to_owned(),
                });
            }
            entries.push((path, body));
        }
        let index = entries.len();
        let (name, body) =
            split_entry(index, last).map_err(|_| ContainerError::MissingMetadata {
                found: String::from_utf8_lossy(&last[..last.len().min(64)]).into_owned(),
            })?;
        if name != METADATA_NAME {
            return Err(ContainerError::MissingMetadata {
                found: name.to_owned(),
            });
        }
        let mut budget = limits.max_decompressed;
        let json = inflate(name, body, &mut budget, limits.max_decompressed)?;
        let metadata = serde_json::from_slice(&json)?;
        Ok(Self {
            entries,
            budget,
            max_decompressed: limits.max_decompressed,
            metadata,
        })
    }

    /// How many files (the metadata not counted).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the container holds no file.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The validated relative path of file `index` (panics beyond [`len`](Self::len)).
    pub fn path(&self, index: usize) -> &'a str {
        self.entries[index].0
    }

    /// Inflates file `index` (panics beyond [`len`](Self::len)): one complete zlib stream,
    /// within what is left of the container's budget, which it uses up.
    pub fn inflate(&mut self, index: usize) -> Result<Vec<u8>, ContainerError> {
        let (path, body) = self.entries[index];
        inflate(path, body, &mut self.budget, self.max_decompressed)
    }
}

fn split_entry(index: usize, entry: &[u8]) -> Result<(&str, &[u8]), ContainerError> {
    let at = find(entry, PATH_SEP, 0).ok_or(ContainerError::MissingPathSeparator { index })?;
    let path =
        std::str::from_utf8(&entry[..at]).map_err(|_| ContainerError::PathNotUtf8 { index })?;
    Ok((path, &entry[at + PATH_SEP.len()..]))
}

fn inflate(path: &str, body: &[u8], budget: &mut u64, max: u64) -> Result<Vec<u8>, ContainerError> {
    let mut decoder = ZlibDecoder::new(body);
    let mut out = Vec::new();
    (&mut decoder)
        .take(*budget + 1)
        .read_to_end(&mut out)
        .map_err(|e| ContainerError::Corrupt {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    let inflated = out.len() as u64;
    if inflated > *budget {
        return Err(ContainerError::DecompressedTooLarge {
            path: path.to_owned(),
            max,
        });
    }
    let consumed = usize::try_from(decoder.total_in()).unwrap_or(usize::MAX);
    if consumed < body.len() {
        return Err(ContainerError::TrailingData {
            path: path.to_owned(),
            extra: body.len() - consumed,
        });
    }
    *budget -= inflated;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

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
