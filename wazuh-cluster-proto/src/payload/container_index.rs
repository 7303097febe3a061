//! Reading a container without holding it: [`ContainerIndex::scan`] reads the bytes once, front
//! to back, in blocks, and keeps each entry's path and the place (offset, length) of its
//! compressed body; an [`Inflater`] then inflates one body, or parses the metadata into a typed
//! value, from a reader over that place, against one budget of inflated bytes for the whole
//! container. Sans-IO: the caller gives any `Read` (a slice, the spool of a transfer).
//!
//! The checks are those of Wazuh's layout (see [`super::container`]): valid unique relative
//! paths, `files_metadata.json` last and only last, every body one complete zlib stream.

use std::io::{self, BufReader, Read};

use flate2::bufread::ZlibDecoder;
use serde::de::DeserializeOwned;

use super::container::{
    ContainerError, ContainerFile, ContainerLimits, DecodedContainer, FILE_SEP, MAX_ENTRY_PATH,
    METADATA_NAME, PATH_SEP,
};
use super::relpath::validate_relpath;
/// Bytes read at once while scanning.
const BLOCK: usize = 64 << 10;
/// Bytes of input buffered while inflating one entry.
const INFLATE_BUFFER: usize = 32 << 10;
/// Metadata bodies of at most this many compressed bytes are parsed from memory when their
/// text is under [`HELD_TEXT`]: serde_json parses a slice faster than a reader (a table of
/// 10,000 files, 1.2 MB compressed: 5 ms to inflate and 5.5 ms to parse from memory, against
/// 16.7 ms parsed while inflated). Larger ones (a table of 50,000 files is about 6 MB) are
/// parsed while inflated, so the node never holds their text.
const PARSE_IN_MEMORY: u64 = 2 << 20;
/// Inflated text held at most to be parsed from memory (a legitimate table of 2 MB compressed
/// is about 4-5 MB of text).
const HELD_TEXT: u64 = 6 << 20;

/// One entry of a container: its path and where its compressed body lies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedEntry {
    /// The validated relative path (for the metadata, [`METADATA_NAME`]).
    pub path: String,
    /// Offset of the compressed body from the start of the container.
    pub offset: u64,
    /// Length of the compressed body.
    pub len: u64,
}

/// Where each entry of a container lies; costs its paths, not its bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerIndex {
    files: Vec<IndexedEntry>,
    metadata: IndexedEntry,
}

impl ContainerIndex {
    /// Reads `reader` to its end and indexes the container it holds, refusing a malformed one
    /// (at most `limits.max_entries` entries, the metadata counted).
    pub fn scan(mut reader: impl Read, limits: &ContainerLimits) -> Result<Self, ContainerError> {
        let mut scanner = ContainerScanner::new(limits);
        let mut block = vec![0u8; BLOCK];
        loop {
            let read = match reader.read(&mut block) {
                Ok(0) => break,
                Ok(read) => read,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ContainerError::Read(e)),
            };
            scanner.feed(&block[..read])?;
        }
        scanner.finish()
    }

    /// The file entries, in container order (the metadata not included).
    pub fn files(&self) -> &[IndexedEntry] {
        &self.files
    }

    /// The metadata entry (the last one).
    pub fn metadata(&self) -> &IndexedEntry {
        &self.metadata
    }

    /// The bytes of `entry`'s body within the whole container `bytes`.
    pub fn body<'a>(bytes: &'a [u8], entry: &IndexedEntry) -> &'a [u8] {
        let start = usize::try_from(entry.offset).unwrap_or(usize::MAX);
        let len = usize::try_from(entry.len).unwrap_or(usize::MAX);
        &bytes[start..start + len]
    }
}

/// Reads a container strictly: valid unique relative paths, the metadata last, every body one
/// complete zlib stream, and at most `limits` inflated bytes and entries (checked while
/// inflating, so a zlib bomb costs at most the limit). Holds the whole tree: for tests and
/// small containers; a received container is read through a [`ContainerIndex`] instead.
pub fn decode_container(
    bytes: &[u8],
    limits: &ContainerLimits,
) -> Result<DecodedContainer, ContainerError> {
    let index = ContainerIndex::scan(bytes, limits)?;
    let mut inflater = Inflater::new(limits);
    let metadata = index.metadata();
    let metadata = inflater.parse(metadata, ContainerIndex::body(bytes, metadata))?;
    let files = index
        .files()
        .iter()
        .map(|entry| {
            Ok(ContainerFile {
                path: entry.path.clone(),
                content: inflater.inflate(entry, ContainerIndex::body(bytes, entry))?,
            })
        })
        .collect::<Result<_, ContainerError>>()?;
    Ok(DecodedContainer { files, metadata })
}

/// The entry being scanned: its path's bytes until their separator, then the path and where the
/// body starts.
#[derive(Debug)]
enum Entry {
    Head(Vec<u8>),
    Body { path: Vec<u8>, offset: u64 },
}

/// Indexes a container as its bytes arrive, in any blocks: each file entry is known (and its body
/// complete) as soon as the separator after it is fed, so a receiver can start on the files
/// before the metadata, which comes last, is there. [`ContainerIndex::scan`] is this fed from a
/// reader. The checks are the same; duplicate paths and the metadata are checked at
/// [`finish`](Self::finish), so nothing found before it may be treated as final.
#[derive(Debug)]
pub struct ContainerScanner {
    max_entries: usize,
    /// Bytes not yet assigned (the last few may start a separator).
    pending: Vec<u8>,
    /// Offset of `pending[0]`.
    pending_at: u64,
    /// Offset where the current entry starts.
    entry_at: u64,
    entry: Entry,
    files: Vec<IndexedEntry>,
}

impl ContainerScanner {
    /// A scanner refusing more than `limits.max_entries` entries (the metadata counted).
    pub fn new(limits: &ContainerLimits) -> Self {
        Self {
            max_entries: limits.max_entries,
            pending: Vec::with_capacity(BLOCK + FILE_SEP.len()),
            pending_at: 0,
            entry_at: 0,
            entry: Entry::Head(Vec::new()),
            files: Vec::new(),
        }
    }

    /// The next bytes of the container; refuses a malformed entry as soon as it is seen.
    pub fn feed(&mut self, block: &[u8]) -> Result<(), ContainerError> {
        let mut pending = std::mem::take(&mut self.pending);
        pending.extend_from_slice(block);
        let mut from = 0;
        while let Some(at) = find(&pending, FILE_SEP, from) {
            self.take_bytes(&pending[from..at])?;
            self.end_entry(self.pending_at + at as u64)?;
            from = at + FILE_SEP.len();
            self.entry_at = self.pending_at + from as u64;
        }
        // The last bytes may be the start of a separator: keep them for the next block.
        let keep = from.max(pending.len().saturating_sub(FILE_SEP.len() - 1));
        self.take_bytes(&pending[from..keep])?;
        pending.drain(..keep);
        self.pending_at += keep as u64;
        self.pending = pending;
        Ok(())
    }

    /// Bytes of the current entry, before any separator that ends it.
    fn take_bytes(&mut self, bytes: &[u8]) -> Result<(), ContainerError> {
        let Entry::Head(head) = &mut self.entry else {
            return Ok(());
        };
        let search_from = head.len().saturating_sub(PATH_SEP.len() - 1);
        // A path within the limit has its separator within this much: never hold more.
        let room = (MAX_ENTRY_PATH + PATH_SEP.len() + 1).saturating_sub(head.len());
        head.extend_from_slice(&bytes[..bytes.len().min(room)]);
        if let Some(at) = find(head, PATH_SEP, search_from) {
            let path = head[..at].to_vec();
            let offset = self.entry_at + (at + PATH_SEP.len()) as u64;
            self.entry = Entry::Body { path, offset };
        } else if head.len() > MAX_ENTRY_PATH + PATH_SEP.len() {
            return Err(ContainerError::PathTooLong {
                index: self.files.len(),
                max: MAX_ENTRY_PATH,
            });
        }
        Ok(())
    }

    /// A file entry ends at `end` (where its separator starts).
    fn end_entry(&mut self, end: u64) -> Result<(), ContainerError> {
        let index = self.files.len();
        if index + 1 >= self.max_entries {
            return Err(ContainerError::TooManyEntries {
                max: self.max_entries,
            });
        }
        let Entry::Body { path, offset } =
            std::mem::replace(&mut self.entry, Entry::Head(Vec::new()))
        else {
            return Err(ContainerError::MissingPathSeparator { index });
        };
        let path = String::from_utf8(path).map_err(|_| ContainerError::PathNotUtf8 { index })?;
        validate_relpath(&path).map_err(|source| ContainerError::Path { index, source })?;
        if path == METADATA_NAME {
            return Err(ContainerError::MetadataNotLast { index });
        }
        self.files.push(IndexedEntry {
            path,
            offset,
            len: end - offset,
        });
        Ok(())
    }

    /// The file entries complete so far, in container order (each body whole in what was fed).
    pub fn files(&self) -> &[IndexedEntry] {
        &self.files
    }

    /// Ends the container: the last entry must be the metadata, and no path may appear twice.
    /// The scanner is left empty (bytes fed afterwards start a new container).
    pub fn finish(&mut self) -> Result<ContainerIndex, ContainerError> {
        let pending = std::mem::take(&mut self.pending);
        self.take_bytes(&pending)?;
        let end = self.pending_at + pending.len() as u64;
        let files = std::mem::take(&mut self.files);
        let last = std::mem::replace(&mut self.entry, Entry::Head(Vec::new()));
        (self.pending_at, self.entry_at) = (0, 0);
        let metadata = match last {
            Entry::Body { path, offset } if path == METADATA_NAME.as_bytes() => IndexedEntry {
                path: METADATA_NAME.to_owned(),
                offset,
                len: end - offset,
            },
            Entry::Body { path, .. } => {
                return Err(ContainerError::MissingMetadata {
                    found: String::from_utf8_lossy(&path).into_owned(),
                });
            }
            Entry::Head(head) => {
                return Err(ContainerError::MissingMetadata {
                    found: String::from_utf8_lossy(&head[..head.len().min(64)]).into_owned(),
                });
            }
        };
        refuse_duplicates(&files)?;
        Ok(ContainerIndex { files, metadata })
    }
}

/// The first path that appears twice, reported at its second occurrence.
fn refuse_duplicates(files: &[IndexedEntry]) -> Result<(), ContainerError> {
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_unstable_by(|&a, &b| files[a].path.cmp(&files[b].path).then(a.cmp(&b)));
    let second = order
        .windows(2)
        .filter(|pair| files[pair[0]].path == files[pair[1]].path)
        .map(|pair| pair[1])
        .min();
    match second {
        Some(index) => Err(ContainerError::DuplicatePath {
            index,
            path: files[index].path.clone(),
        }),
        None => Ok(()),
    }
}

/// The first `needle` in `haystack` at or after `from`.
fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = needle[0];
    let mut at = from;
    while let Some(found) = haystack.get(at..)?.iter().position(|&b| b == first) {
        let start = at + found;
        match haystack.get(start..start + needle.len()) {
            Some(window) if window == needle => return Some(start),
            Some(_) => at = start + 1,
            None => return None,
        }
    }
    None
}

/// Inflates the entries of one container against one budget of inflated bytes (the container's
/// `max_decompressed`), so a zlib bomb costs at most that budget, whichever entry holds it.
#[derive(Debug, Clone)]
pub struct Inflater {
    budget: u64,
    max: u64,
}

impl Inflater {
    /// A budget of `limits.max_decompressed` bytes.
    pub fn new(limits: &ContainerLimits) -> Self {
        Self {
            budget: limits.max_decompressed,
            max: limits.max_decompressed,
        }
    }

    /// Inflates the body of `entry`, read from `body` (a reader positioned at its start): one
    /// complete zlib stream of exactly `entry.len` bytes, within what is left of the budget,
    /// which it uses up.
    pub fn inflate(
        &mut self,
        entry: &IndexedEntry,
        body: impl Read,
    ) -> Result<Vec<u8>, ContainerError> {
        let mut decoder = decoder(entry, body);
        let mut out = Vec::new();
        (&mut decoder)
            .take(self.budget + 1)
            .read_to_end(&mut out)
            .map_err(|e| corrupt(entry, &e))?;
        let inflated = out.len() as u64;
        self.spend(entry, inflated)?;
        trailing(entry, decoder.total_in())?;
        Ok(out)
    }

    /// Parses the body of `entry` (the metadata), read from `body`, as JSON into `T`. A body of
    /// at most 2 MiB compressed whose text is under 6 MiB is inflated whole and parsed from
    /// memory; any other is parsed while it is inflated (what was inflated first, at most 6 MiB,
    /// read again before the rest), so a large table never has its text held. No JSON tree is
    /// built either way.
    pub fn parse<T: DeserializeOwned>(
        &mut self,
        entry: &IndexedEntry,
        body: impl Read,
    ) -> Result<T, ContainerError> {
        let mut decoder = decoder(entry, body);
        let mut counted = Counted {
            inner: &mut decoder,
            count: 0,
            limit: self.budget,
        };
        let mut held = Vec::new();
        if entry.len <= PARSE_IN_MEMORY {
            let read = (&mut counted).take(HELD_TEXT).read_to_end(&mut held);
            if let Err(e) = read {
                return Err(if counted.count > self.budget {
                    self.too_large(entry)
                } else {
                    corrupt(entry, &e)
                });
            }
        }
        let whole = entry.len <= PARSE_IN_MEMORY && (held.len() as u64) < HELD_TEXT;
        let parsed = if whole {
            serde_json::from_slice::<T>(&held)
        } else {
            let mut json = serde_json::Deserializer::from_reader(BufReader::with_capacity(
                INFLATE_BUFFER,
                (&held[..]).chain(&mut counted),
            ));
            T::deserialize(&mut json).and_then(|value| json.end().map(|()| value))
        };
        drop(held);
        let inflated = counted.count;
        if inflated > self.budget {
            return Err(self.too_large(entry));
        }
        let value = parsed.map_err(|e| match e.io_error_kind() {
            Some(_) => corrupt(entry, &e),
            None => ContainerError::MetadataJson(e),
        })?;
        self.spend(entry, inflated)?;
        trailing(entry, decoder.total_in())?;
        Ok(value)
    }

    /// `entry` inflates beyond the budget.
    fn too_large(&self, entry: &IndexedEntry) -> ContainerError {
        ContainerError::DecompressedTooLarge {
            path: entry.path.clone(),
            max: self.max,
        }
    }

    fn spend(&mut self, entry: &IndexedEntry, inflated: u64) -> Result<(), ContainerError> {
        if inflated > self.budget {
            return Err(self.too_large(entry));
        }
        self.budget -= inflated;
        Ok(())
    }
}

fn decoder<R: Read>(entry: &IndexedEntry, body: R) -> ZlibDecoder<BufReader<io::Take<R>>> {
    let buffer = usize::try_from(entry.len)
        .unwrap_or(INFLATE_BUFFER)
        .clamp(1, INFLATE_BUFFER);
    ZlibDecoder::new(BufReader::with_capacity(buffer, body.take(entry.len)))
}

fn corrupt(entry: &IndexedEntry, error: &dyn std::fmt::Display) -> ContainerError {
    ContainerError::Corrupt {
        path: entry.path.clone(),
        reason: error.to_string(),
    }
}

/// Refuses bytes after the zlib stream (`consumed` of the body's `len`).
fn trailing(entry: &IndexedEntry, consumed: u64) -> Result<(), ContainerError> {
    if consumed < entry.len {
        return Err(ContainerError::TrailingData {
            path: entry.path.clone(),
            extra: usize::try_from(entry.len - consumed).unwrap_or(usize::MAX),
        });
    }
    Ok(())
}

/// Counts what a reader yields and stops with an error one byte past `limit`.
struct Counted<R> {
    inner: R,
    count: u64,
    limit: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.count > self.limit {
            return Err(io::Error::other("the inflated size is over the budget"));
        }
        let room = usize::try_from(self.limit - self.count + 1).unwrap_or(usize::MAX);
        let len = buf.len().min(room);
        let read = self.inner.read(&mut buf[..len])?;
        self.count += read as u64;
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::ContainerEncoder;

    /// A reader that yields `step` bytes at a time, so separators straddle reads.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let len = buf.len().min(self.step).min(self.bytes.len());
            buf[..len].copy_from_slice(&self.bytes[..len]);
            self.bytes = &self.bytes[len..];
            Ok(len)
        }
    }

    fn container() -> Vec<u8> {
        let mut encoder = ContainerEncoder::new(1 << 20);
        encoder.add_file("etc/shared/a", b"first file").unwrap();
        encoder.add_file("etc/shared/b", &[7u8; 100_000]).unwrap();
        encoder.add_file("etc/shared/c", b"").unwrap();
        encoder
            .finish(&serde_json::json!({"etc/shared/a": {"n": 1}}))
            .unwrap()
            .bytes
    }

    #[test]
    fn a_file_entry_is_known_once_the_separator_after_it_is_fed() {
        let bytes = container();
        let whole = ContainerIndex::scan(&bytes[..], &ContainerLimits::default()).unwrap();
        let mut scanner = ContainerScanner::new(&ContainerLimits::default());
        let mut known = Vec::new();
        for (at, byte) in bytes.iter().enumerate() {
            scanner.feed(std::slice::from_ref(byte)).unwrap();
            if scanner.files().len() > known.len() {
                let entry = scanner.files().last().unwrap().clone();
                // Known exactly when the whole separator after its body has been fed.
                assert_eq!(
                    entry.offset + entry.len + FILE_SEP.len() as u64,
                    at as u64 + 1
                );
                known.push(entry);
            }
        }
        assert_eq!(known, whole.files());
        assert_eq!(scanner.finish().unwrap(), whole);
    }

    #[test]
    fn the_index_is_the_same_whatever_the_reads() {
        let bytes = container();
        let whole = ContainerIndex::scan(&bytes[..], &ContainerLimits::default()).unwrap();
        for step in [1, 3, 7, 8, 9, 4096] {
            let trickled = ContainerIndex::scan(
                Trickle {
                    bytes: &bytes,
                    step,
                },
                &ContainerLimits::default(),
            )
            .unwrap();
            assert_eq!(trickled, whole, "step {step}");
        }
        let paths: Vec<_> = whole.files().iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["etc/shared/a", "etc/shared/b", "etc/shared/c"]);
        let mut inflater = Inflater::new(&ContainerLimits::default());
        let b = &whole.files()[1];
        assert_eq!(
            inflater
                .inflate(b, ContainerIndex::body(&bytes, b))
                .unwrap(),
            vec![7u8; 100_000]
        );
        let meta = whole.metadata();
        let parsed: std::collections::BTreeMap<String, serde_json::Value> = inflater
            .parse(meta, ContainerIndex::body(&bytes, meta))
            .unwrap();
        assert_eq!(parsed["etc/shared/a"]["n"], 1);
    }

    #[test]
    fn the_metadata_budget_is_checked_while_parsing() {
        let bytes = container();
        let index = ContainerIndex::scan(&bytes[..], &ContainerLimits::default()).unwrap();
        let meta = index.metadata();
        let mut inflater = Inflater::new(&ContainerLimits {
            max_decompressed: 10,
            max_entries: 8,
        });
        let parsed: Result<serde_json::Value, _> =
            inflater.parse(meta, ContainerIndex::body(&bytes, meta));
        assert!(matches!(
            parsed,
            Err(ContainerError::DecompressedTooLarge { max: 10, .. })
        ));
    }

    /// A container whose metadata is `{"k": text}`, and that metadata parsed back from it.
    fn metadata_round_trip(text: String) -> (serde_json::Value, serde_json::Value) {
        let metadata = serde_json::json!({ "k": text });
        let mut encoder = ContainerEncoder::new(64 << 20);
        encoder.add_file("etc/shared/a", b"first file").unwrap();
        let bytes = encoder.finish(&metadata).unwrap().bytes;
        let index = ContainerIndex::scan(&bytes[..], &ContainerLimits::default()).unwrap();
        let meta = index.metadata();
        let parsed = Inflater::new(&ContainerLimits::default())
            .parse(meta, ContainerIndex::body(&bytes, meta))
            .unwrap();
        (metadata, parsed)
    }

    #[test]
    fn metadata_parses_the_same_from_memory_or_while_inflated() {
        // Small compressed, small text: parsed from memory.
        let (sent, parsed) = metadata_round_trip("a".repeat(1000));
        assert_eq!(parsed, sent);
        // Small compressed, text over what is held: the held part is read again, then the rest.
        let (sent, parsed) = metadata_round_trip("a".repeat(HELD_TEXT as usize + 1000));
        assert_eq!(parsed, sent);
        // Over the compressed size parsed from memory (hex digits compress about 2:1).
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let noise: String = (0..PARSE_IN_MEMORY * 3)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                char::from_digit((state % 16) as u32, 16).unwrap()
            })
            .collect();
        let (sent, parsed) = metadata_round_trip(noise);
        assert_eq!(parsed, sent);
    }

    #[test]
    fn a_corrupt_metadata_stream_is_refused_from_memory() {
        let bytes = container();
        let index = ContainerIndex::scan(&bytes[..], &ContainerLimits::default()).unwrap();
        let meta = index.metadata();
        let mut body = ContainerIndex::body(&bytes, meta).to_vec();
        let last = body.len() - 1;
        body[last] ^= 0xff; // the Adler-32 checksum
        let parsed: Result<serde_json::Value, _> =
            Inflater::new(&ContainerLimits::default()).parse(meta, &body[..]);
        assert!(
            matches!(parsed, Err(ContainerError::Corrupt { .. })),
            "{parsed:?}"
        );
    }

    #[test]
    fn a_path_without_its_separator_is_bounded() {
        let bytes = vec![b'a'; MAX_ENTRY_PATH + 64];
        assert!(matches!(
            ContainerIndex::scan(&bytes[..], &ContainerLimits::default()),
            Err(ContainerError::PathTooLong { index: 0, .. })
        ));
    }
}
