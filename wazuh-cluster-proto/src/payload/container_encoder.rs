//! Building a sync container (layout in [`super::container`]) piece by piece, as Wazuh's
//! `compress_files` does, under a size limit.
//!
//! [`ContainerStream`] hands out the container in pieces of a fixed length while it is built, so
//! the sender never holds the whole container: each file is compressed into the unsent tail and
//! every full piece can be sent at once; [`ContainerEncoder`] is the same encoder collecting the
//! whole container in memory. Both write the same bytes whatever the piece length.

use std::collections::HashSet;
use std::io::BufWriter;

use flate2::Compression;
use flate2::write::ZlibEncoder;
use serde::Serialize;

use super::body_compressor::BodyCompressor;
use super::container::{COMPRESS_LEVEL, ContainerError, FILE_SEP, METADATA_NAME, PATH_SEP};
use super::piece_cutter::{PieceCutter, contains};
use super::python_json::PythonFormatter;
use super::relpath::validate_relpath;

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

/// What [`ContainerStream::add_file`] did with a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddOutcome {
    /// The file is in the container.
    Added,
    /// The file was left out (also recorded in the finished container's `skipped`).
    Skipped(SkipReason),
}

/// Builds a container under a size limit and hands it out in pieces of `piece_len` bytes.
///
/// Call [`add_file`](Self::add_file) for each file and take the full pieces with
/// [`next_piece`](Self::next_piece) in between; [`finish`](Self::finish) appends the metadata
/// and returns the last pieces. What is held is the unsent tail: less than one piece plus the
/// last file's compressed body, and at the end the compressed metadata.
#[derive(Debug)]
pub struct ContainerStream {
    limit: u64,
    compressed: u64,
    exceeded: bool,
    piece_len: usize,
    /// Unsent bytes start at `taken`.
    pending: Vec<u8>,
    taken: usize,
    /// Files added or skipped so far.
    entries: usize,
    paths: SeenPaths,
    skipped: Vec<Skipped>,
}

/// What the encoder remembers of the paths given, to refuse a repeated one.
#[derive(Debug)]
enum SeenPaths {
    /// Every path in the container (paths in any order).
    All(HashSet<String>),
    /// The last path given: paths come in strictly increasing order, so a repeat is a path not
    /// after the last one (one path held, not every path: 2.8 MB at 50,000 files).
    Last(String),
}

impl SeenPaths {
    /// Records `path` (entry `index`), refusing a repeat (or, in order, a path not after the
    /// last one).
    fn take(&mut self, index: usize, path: &str) -> Result<(), ContainerError> {
        let repeated = || ContainerError::DuplicatePath {
            index,
            path: path.to_owned(),
        };
        match self {
            SeenPaths::All(paths) => match paths.insert(path.to_owned()) {
                true => Ok(()),
                false => Err(repeated()),
            },
            SeenPaths::Last(last) if path == last.as_str() => Err(repeated()),
            SeenPaths::Last(last) if index > 0 && path < last.as_str() => {
                Err(ContainerError::PathOutOfOrder {
                    index,
                    path: path.to_owned(),
                    previous: last.clone(),
                })
            }
            SeenPaths::Last(last) => {
                path.clone_into(last);
                Ok(())
            }
        }
    }
}

/// The end of a streamed container: its last pieces and the files left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEnd {
    /// The pieces not taken yet, in order: all of `piece_len` bytes but the last.
    pub pieces: Vec<Vec<u8>>,
    /// Files left out; the caller removes them from the metadata it passes to `finish`, as Wazuh does.
    pub skipped: Vec<Skipped>,
}

/// Bytes of metadata JSON handed to zlib at once.
const JSON_BLOCK: usize = 64 * 1024;

/// A file's body in a container: `content` compressed by zlib at Wazuh's level (what
/// [`ContainerStream::add_file`] writes; give it to [`ContainerStream::add_compressed`]). For
/// many files, one [`BodyCompressor`] compresses them all.
pub fn compress_body(content: &[u8]) -> Vec<u8> {
    BodyCompressor::new().compress(content)
}

impl ContainerStream {
    /// An empty container; `limit` bounds each file's raw size and the total compressed size;
    /// pieces are `piece_len` bytes long (at least 1).
    pub fn new(limit: u64, piece_len: usize) -> Self {
        Self::with_paths(limit, piece_len, SeenPaths::All(HashSet::new()))
    }

    /// [`new`](Self::new) for paths given in strictly increasing byte order (how a sorted
    /// plan lists them): a path not after the previous one is refused
    /// ([`ContainerError::PathOutOfOrder`], or [`ContainerError::DuplicatePath`] for the same
    /// path), and the encoder holds one path instead of every path.
    pub fn in_path_order(limit: u64, piece_len: usize) -> Self {
        Self::with_paths(limit, piece_len, SeenPaths::Last(String::new()))
    }

    fn with_paths(limit: u64, piece_len: usize, paths: SeenPaths) -> Self {
        Self {
            limit,
            compressed: 0,
            exceeded: false,
            piece_len: piece_len.max(1),
            pending: Vec::new(),
            taken: 0,
            entries: 0,
            paths,
            skipped: Vec::new(),
        }
    }

    /// Adds one file, or leaves it out and says why. Invalid or repeated paths are errors.
    pub fn add_file(&mut self, path: &str, content: &[u8]) -> Result<AddOutcome, ContainerError> {
        self.add_with(path, content.len() as u64, |out| {
            BodyCompressor::new().compress_into(content, out);
        })
    }

    /// Adds one file already compressed by [`compress_body`] (`raw_len` bytes before), or leaves
    /// it out and says why, as [`add_file`](Self::add_file) would for the same content: the
    /// sender compresses a file once for every worker that needs it.
    pub fn add_compressed(
        &mut self,
        path: &str,
        raw_len: u64,
        body: &[u8],
    ) -> Result<AddOutcome, ContainerError> {
        self.add_with(path, raw_len, |out| out.extend_from_slice(body))
    }

    fn add_with(
        &mut self,
        path: &str,
        raw_len: u64,
        write_body: impl FnOnce(&mut Vec<u8>),
    ) -> Result<AddOutcome, ContainerError> {
        let index = self.entries;
        validate_relpath(path).map_err(|source| ContainerError::Path { index, source })?;
        if path == METADATA_NAME {
            return Err(ContainerError::ReservedPath { index });
        }
        self.paths.take(index, path)?;
        self.entries += 1;
        let outcome = self.try_add(path, raw_len, write_body);
        if let AddOutcome::Skipped(reason) = &outcome {
            if let SeenPaths::All(paths) = &mut self.paths {
                paths.remove(path);
            }
            self.skipped.push(Skipped {
                path: path.to_owned(),
                reason: reason.clone(),
            });
        }
        Ok(outcome)
    }

    fn try_add(
        &mut self,
        path: &str,
        size: u64,
        write_body: impl FnOnce(&mut Vec<u8>),
    ) -> AddOutcome {
        if size > self.limit {
            return AddOutcome::Skipped(SkipReason::TooLarge {
                size,
                limit: self.limit,
            });
        }
        if self.exceeded {
            return AddOutcome::Skipped(SkipReason::LimitReached);
        }
        let entry = self.pending.len();
        self.pending.extend_from_slice(path.as_bytes());
        self.pending.extend_from_slice(PATH_SEP);
        let body = self.pending.len();
        write_body(&mut self.pending);
        let body_len = (self.pending.len() - body) as u64;
        let skip = if self.compressed + body_len > self.limit {
            self.exceeded = true;
            Some(SkipReason::LimitReached)
        } else if contains(&self.pending[body..], FILE_SEP) {
            Some(SkipReason::SeparatorInBody)
        } else {
            None
        };
        if let Some(reason) = skip {
            self.pending.truncate(entry);
            return AddOutcome::Skipped(reason);
        }
        self.compressed += body_len;
        self.pending.extend_from_slice(FILE_SEP);
        AddOutcome::Added
    }

    /// The next full piece, if `piece_len` unsent bytes are ready.
    pub fn next_piece(&mut self) -> Option<Vec<u8>> {
        if self.pending.len() - self.taken < self.piece_len {
            return None;
        }
        let piece = self.pending[self.taken..self.taken + self.piece_len].to_vec();
        self.taken += self.piece_len;
        // Moving the tail down once half is taken keeps the copying linear.
        if self.taken * 2 >= self.pending.len() {
            self.pending.drain(..self.taken);
            self.taken = 0;
        }
        Some(piece)
    }

    /// Appends the metadata entry (`metadata` as Python's `json.dumps` writes it, serialized
    /// straight into zlib) and returns the pieces left. The metadata's compressed form must not
    /// contain [`FILE_SEP`] (then nothing of it was handed out).
    pub fn finish<M: Serialize + ?Sized>(
        mut self,
        metadata: &M,
    ) -> Result<StreamEnd, ContainerError> {
        self.pending.extend_from_slice(METADATA_NAME.as_bytes());
        self.pending.extend_from_slice(PATH_SEP);
        self.pending.drain(..self.taken);
        let head = std::mem::take(&mut self.pending);
        let mut zlib = ZlibEncoder::new(
            PieceCutter::new(head, self.piece_len),
            Compression::new(COMPRESS_LEVEL),
        );
        // The serializer writes token by token; zlib is fed in blocks (one deflate call per
        // token would cost more than the compression itself).
        let mut text = BufWriter::with_capacity(JSON_BLOCK, &mut zlib);
        let mut serializer = serde_json::Serializer::with_formatter(&mut text, PythonFormatter);
        metadata.serialize(&mut serializer)?;
        // `into_inner` writes what is buffered without flushing zlib (a flush would put a sync
        // marker in the stream and change its bytes).
        text.into_inner()
            .map_err(|e| serde_json::Error::io(e.into_error()))?;
        let cutter = zlib.finish().map_err(serde_json::Error::io)?;
        if cutter.saw_separator() {
            return Err(ContainerError::SeparatorInMetadata);
        }
        Ok(StreamEnd {
            pieces: cutter.into_pieces(),
            skipped: self.skipped,
        })
    }
}

/// A finished container held whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedContainer {
    /// The container bytes.
    pub bytes: Vec<u8>,
    /// Files left out; the caller removes them from the metadata it passes to `finish`, as Wazuh does.
    pub skipped: Vec<Skipped>,
}

/// Builds a whole container in memory: a [`ContainerStream`] whose pieces are never cut.
#[derive(Debug)]
pub struct ContainerEncoder {
    stream: ContainerStream,
}

impl ContainerEncoder {
    /// An empty container; `limit` bounds each file's raw size and the total compressed size.
    pub fn new(limit: u64) -> Self {
        Self {
            stream: ContainerStream::new(limit, usize::MAX),
        }
    }

    /// Adds one file, or leaves it out and says why (see [`ContainerStream::add_file`]).
    pub fn add_file(&mut self, path: &str, content: &[u8]) -> Result<AddOutcome, ContainerError> {
        self.stream.add_file(path, content)
    }

    /// Appends the metadata entry (as Python's `json.dumps` writes it) and returns the container.
    pub fn finish<M: Serialize + ?Sized>(
        self,
        metadata: &M,
    ) -> Result<EncodedContainer, ContainerError> {
        let end = self.stream.finish(metadata)?;
        Ok(EncodedContainer {
            bytes: end.pieces.concat(),
            skipped: end.skipped,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::{ContainerLimits, decode_container};

    fn zlib(data: &[u8]) -> Vec<u8> {
        compress_body(data)
    }

    #[test]
    fn a_precompressed_body_makes_the_same_container_and_the_same_skips() {
        // Bytes of a linear congruential generator: zlib cannot shrink them.
        let noise: Vec<u8> = (0u32..90)
            .scan(7u32, |x, _| {
                *x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                Some((*x >> 16) as u8)
            })
            .collect();
        let files: [(&str, &[u8]); 4] = [
            ("etc/shared/a", b"first"),
            ("etc/shared/big", &[1u8; 300]),
            ("etc/shared/noise", &noise),
            ("etc/shared/c", b"after the limit"),
        ];
        let mut raw = ContainerStream::new(100, 7);
        let mut compressed = ContainerStream::new(100, 7);
        for (path, content) in files {
            let body = compress_body(content);
            assert_eq!(
                raw.add_file(path, content).unwrap(),
                compressed
                    .add_compressed(path, content.len() as u64, &body)
                    .unwrap(),
                "{path}"
            );
        }
        let (mut raw_pieces, mut compressed_pieces) = (Vec::new(), Vec::new());
        while let Some(piece) = raw.next_piece() {
            raw_pieces.push(piece);
        }
        while let Some(piece) = compressed.next_piece() {
            compressed_pieces.push(piece);
        }
        let (raw_end, compressed_end) = (raw.finish(&()).unwrap(), compressed.finish(&()).unwrap());
        assert_eq!(raw_end.skipped, compressed_end.skipped);
        assert_eq!(
            raw_end.skipped.len(),
            3,
            "one too large, two over the limit: {:?}",
            raw_end.skipped
        );
        raw_pieces.extend(raw_end.pieces);
        compressed_pieces.extend(compressed_end.pieces);
        assert_eq!(raw_pieces, compressed_pieces);
    }

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
        let mut expected = b"a|//@@//|".to_vec();
        expected.extend(zlib(b"aaaa"));
        expected.extend(b"|@@//@@|files_metadata.json|//@@//|");
        expected.extend(zlib(b"{}"));
        assert_eq!(out.bytes, expected, "a skipped file leaves no byte behind");
    }

    #[test]
    fn in_path_order_writes_the_same_and_refuses_a_path_not_after_the_last() {
        let files: [(&str, &[u8]); 3] = [("a", b"x"), ("b/c", &[7u8; 300]), ("b/d", b"")];
        let mut any = ContainerStream::new(1 << 20, 10);
        let mut ordered = ContainerStream::in_path_order(1 << 20, 10);
        for (path, content) in files {
            assert_eq!(any.add_file(path, content).unwrap(), AddOutcome::Added);
            assert_eq!(ordered.add_file(path, content).unwrap(), AddOutcome::Added);
        }
        assert!(matches!(
            ordered.add_file("b/d", b"again"),
            Err(ContainerError::DuplicatePath { index: 3, .. })
        ));
        assert!(matches!(
            ordered.add_file("b/a", b"late"),
            Err(ContainerError::PathOutOfOrder { index: 3, ref previous, .. }) if previous == "b/d"
        ));
        let metadata = serde_json::json!({});
        assert_eq!(
            ordered.finish(&metadata).unwrap(),
            any.finish(&metadata).unwrap()
        );
    }

    #[test]
    fn pieces_are_cut_as_soon_as_they_are_full() {
        let files: [(&str, &[u8]); 3] = [("a", b"x"), ("b/c", &[7u8; 300]), ("d", b"")];
        let mut whole = ContainerEncoder::new(1 << 20);
        let mut stream = ContainerStream::new(1 << 20, 10);
        assert_eq!(stream.next_piece(), None);
        let mut pieces = Vec::new();
        for (path, content) in files {
            whole.add_file(path, content).unwrap();
            stream.add_file(path, content).unwrap();
            let before = pieces.len();
            pieces.extend(std::iter::from_fn(|| stream.next_piece()));
            assert!(pieces.len() > before, "{path}: a full piece is ready");
        }
        assert!(pieces.iter().all(|p| p.len() == 10));
        let end = stream.finish(&serde_json::json!({"x": 1})).unwrap();
        let last = end.pieces.len() - 1;
        assert!(
            end.pieces
                .iter()
                .enumerate()
                .all(|(i, p)| p.len() == 10 || (i == last && !p.is_empty() && p.len() < 10))
        );
        pieces.extend(end.pieces);
        let whole = whole.finish(&serde_json::json!({"x": 1})).unwrap();
        assert_eq!(pieces.concat(), whole.bytes);
    }
}
