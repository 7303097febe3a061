//! File transfer: `new_file`, `file_upd`, `file_end`, a sender that splits a file into that
//! command sequence and a sans-IO receiver that joins it and checks the SHA-256.
//!
//! Payloads: `new_file` is the path (leading `/`, relative to the Wazuh home); `file_upd` is
//! `path + b' ' + chunk`; `file_end` is `path + b' ' + sha256(file)` (32 raw bytes). The path
//! may therefore contain no space.

use sha2::{Digest, Sha256};

use super::relpath::{RelPathError, validate_relpath};
use crate::command::{Command, names};

use crate::division::REQUEST_CHUNK;

/// Length of a SHA-256 digest.
pub const DIGEST_LEN: usize = 32;

/// Why a file-transfer payload or step was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileTransferError {
    /// The path does not start with `/`.
    #[error("file transfer path {path:?} must start with '/' (relative to the Wazuh home)")]
    NotRooted {
        /// The refused path.
        path: String,
    },
    /// The path after its leading `/` is not a valid relative path.
    #[error("file transfer path: {0}")]
    Path(#[from] RelPathError),
    /// The path contains a space, which the peer would take as the end of the path.
    #[error("file transfer path {path:?} contains a space")]
    ContainsSpace {
        /// The refused path.
        path: String,
    },
    /// The path is so long that no chunk fits in a message.
    #[error("file transfer path is {len} bytes long; at most {max} bytes leave room for data")]
    PathTooLong {
        /// Its length.
        len: usize,
        /// The longest allowed.
        max: usize,
    },
    /// The path is not UTF-8.
    #[error("file transfer path is not valid UTF-8")]
    InvalidUtf8,
    /// A `file_upd`/`file_end` payload has no space after the path.
    #[error("{command} payload has no space after the path; expected \"<path> <data>\"")]
    MissingSeparator {
        /// `file_upd` or `file_end`.
        command: &'static str,
    },
    /// A `file_end` digest is not 32 bytes long.
    #[error("file_end digest is {len} bytes; a SHA-256 digest is 32 bytes")]
    DigestLength {
        /// The received length.
        len: usize,
    },
    /// A chunk or end arrived for a path other than the one being received.
    #[error("{command} names {got:?} while receiving {expected:?}")]
    WrongPath {
        /// `file_upd` or `file_end`.
        command: &'static str,
        /// The path being received.
        expected: String,
        /// The path in the payload.
        got: String,
    },
    /// The file grew past the receiver's limit.
    #[error("file {path:?} exceeds the limit of {max} bytes (would be {size}); transfer refused")]
    TooLarge {
        /// The path being received.
        path: String,
        /// The size it would reach.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// The received bytes do not hash to the digest in `file_end`.
    #[error("file {path:?} checksum mismatch: received data does not match the sender's SHA-256")]
    ChecksumMismatch {
        /// The path received.
        path: String,
    },
}

/// A validated `new_file` path: `/` followed by a valid relative path, without spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TransferPath(String);

impl TransferPath {
    /// The longest path that still leaves one byte of data in a `file_upd`.
    pub const MAX_LEN: usize = 4096;

    /// Validates `path`.
    pub fn new(path: impl Into<String>) -> Result<Self, FileTransferError> {
        let path = path.into();
        let Some(rel) = path.strip_prefix('/') else {
            return Err(FileTransferError::NotRooted { path });
        };
        if path.len() > Self::MAX_LEN {
            return Err(FileTransferError::PathTooLong {
                len: path.len(),
                max: Self::MAX_LEN,
            });
        }
        validate_relpath(rel)?;
        if path.contains(' ') {
            return Err(FileTransferError::ContainsSpace { path });
        }
        Ok(Self(path))
    }

    /// Parses a `new_file` payload.
    pub fn decode(payload: &[u8]) -> Result<Self, FileTransferError> {
        let text = std::str::from_utf8(payload).map_err(|_| FileTransferError::InvalidUtf8)?;
        Self::new(text)
    }

    /// The path with its leading `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path without its leading `/` (the form `*_e` commands carry).
    pub fn relative(&self) -> &str {
        &self.0[1..]
    }

    /// The `new_file` payload.
    pub fn encode(&self) -> Vec<u8> {
        self.0.as_bytes().to_vec()
    }

    /// The data bytes one `file_upd` carries for this path: `REQUEST_CHUNK - len(path) - 1`.
    pub fn chunk_len(&self) -> usize {
        REQUEST_CHUNK - self.0.len() - 1
    }
}

/// A decoded `file_upd`: the path and one chunk of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileUpdate<'a> {
    /// The path as sent (not validated: compare it with the one from `new_file`).
    pub path: &'a [u8],
    /// The chunk.
    pub chunk: &'a [u8],
}

impl<'a> FileUpdate<'a> {
    /// Splits a `file_upd` payload at its first space.
    pub fn decode(payload: &'a [u8]) -> Result<Self, FileTransferError> {
        let (path, chunk) = split_path(payload, "file_upd")?;
        Ok(Self { path, chunk })
    }

    /// The payload `path + b' ' + chunk`.
    pub fn encode(path: &TransferPath, chunk: &[u8]) -> Vec<u8> {
        join_path(path, chunk)
    }
}

/// A decoded `file_end`: the path and the SHA-256 of the whole file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileEnd<'a> {
    /// The path as sent.
    pub path: &'a [u8],
    /// The SHA-256 digest.
    pub digest: [u8; DIGEST_LEN],
}

impl<'a> FileEnd<'a> {
    /// Parses a `file_end` payload; the digest must be exactly 32 bytes.
    pub fn decode(payload: &'a [u8]) -> Result<Self, FileTransferError> {
        let (path, digest) = split_path(payload, "file_end")?;
        let digest = <[u8; DIGEST_LEN]>::try_from(digest)
            .map_err(|_| FileTransferError::DigestLength { len: digest.len() })?;
        Ok(Self { path, digest })
    }

    /// The payload `path + b' ' + digest`.
    pub fn encode(path: &TransferPath, digest: &[u8; DIGEST_LEN]) -> Vec<u8> {
        join_path(path, digest)
    }
}

fn split_path<'a>(
    payload: &'a [u8],
    command: &'static str,
) -> Result<(&'a [u8], &'a [u8]), FileTransferError> {
    let at = payload
        .iter()
        .position(|&b| b == b' ')
        .ok_or(FileTransferError::MissingSeparator { command })?;
    Ok((&payload[..at], &payload[at + 1..]))
}

fn join_path(path: &TransferPath, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.0.len() + 1 + data.len());
    out.extend_from_slice(path.0.as_bytes());
    out.push(b' ');
    out.extend_from_slice(data);
    out
}

/// SHA-256 of `data`, as `file_end` carries it.
pub fn sha256(data: &[u8]) -> [u8; DIGEST_LEN] {
    Sha256::digest(data).into()
}

/// The requests that send one file whose bytes come in pieces: `new_file`, one `file_upd` per
/// piece, then `file_end` with the SHA-256 of all the pieces, computed as they pass.
///
/// Pieces of [`TransferPath::chunk_len`] bytes (the last one shorter) give the messages Wazuh
/// sends for the same file, whatever produced the bytes.
#[derive(Debug, Clone)]
pub struct PieceSender {
    path: TransferPath,
    hasher: Sha256,
    sent: u64,
}

impl PieceSender {
    /// Prepares to send a file as `path`.
    pub fn new(path: TransferPath) -> Self {
        Self {
            path,
            hasher: Sha256::new(),
            sent: 0,
        }
    }

    /// The path being sent.
    pub fn path(&self) -> &TransferPath {
        &self.path
    }

    /// Bytes of the file sent so far.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// The `new_file` request.
    pub fn start(&self) -> (Command, Vec<u8>) {
        (names::NEW_FILE, self.path.encode())
    }

    /// The `file_upd` request carrying `piece` (at most [`TransferPath::chunk_len`] bytes for
    /// the message to fit in one `REQUEST_CHUNK`).
    pub fn update(&mut self, piece: &[u8]) -> (Command, Vec<u8>) {
        self.hasher.update(piece);
        self.sent += piece.len() as u64;
        (names::FILE_UPD, FileUpdate::encode(&self.path, piece))
    }

    /// The `file_end` request, with the SHA-256 of every piece.
    pub fn end(self) -> (Command, Vec<u8>) {
        let digest: [u8; DIGEST_LEN] = self.hasher.finalize().into();
        (names::FILE_END, FileEnd::encode(&self.path, &digest))
    }
}

/// The requests that send one file held whole: `new_file`, then one `file_upd` per chunk, then
/// `file_end`.
///
/// An iterator of `(command, payload)`; each payload is built when it is asked for, so at most
/// one chunk is copied at a time.
#[derive(Debug, Clone)]
pub struct FileSender<'a> {
    sender: Option<PieceSender>,
    chunks: std::slice::Chunks<'a, u8>,
    started: bool,
}

impl<'a> FileSender<'a> {
    /// Prepares to send `data` as `path`.
    pub fn new(path: TransferPath, data: &'a [u8]) -> Self {
        Self {
            chunks: data.chunks(path.chunk_len()),
            sender: Some(PieceSender::new(path)),
            started: false,
        }
    }
}

impl Iterator for FileSender<'_> {
    type Item = (Command, Vec<u8>);

    fn next(&mut self) -> Option<Self::Item> {
        let sender = self.sender.as_mut()?;
        if !std::mem::replace(&mut self.started, true) {
            return Some(sender.start());
        }
        match self.chunks.next() {
            Some(chunk) => Some(sender.update(chunk)),
            None => self.sender.take().map(PieceSender::end),
        }
    }
}

/// Follows the `file_upd` chunks of one file (after its `new_file`): checks each against a
/// size limit before handing it back to be stored, keeps a running SHA-256, and checks the
/// digest of `file_end`. It holds no data: the caller stores each chunk where it wants (the
/// spool of a transfer), so receiving costs no memory in the file's size.
#[derive(Debug, Clone)]
pub struct FileReceiver {
    path: TransferPath,
    max_size: u64,
    received: u64,
    hasher: Sha256,
}

impl FileReceiver {
    /// Starts receiving the file announced by `new_file`, refusing more than `max_size` bytes.
    pub fn new(path: TransferPath, max_size: u64) -> Self {
        Self {
            path,
            max_size,
            received: 0,
            hasher: Sha256::new(),
        }
    }

    /// The path being received.
    pub fn path(&self) -> &TransferPath {
        &self.path
    }

    /// Bytes received so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Takes one `file_upd` payload and returns its chunk, to be stored by the caller; a chunk
    /// that would take the file past the limit is refused before anything is counted.
    pub fn update<'a>(&mut self, payload: &'a [u8]) -> Result<&'a [u8], FileTransferError> {
        let update = FileUpdate::decode(payload)?;
        self.check_path("file_upd", update.path)?;
        let size = self.received + update.chunk.len() as u64;
        if size > self.max_size {
            return Err(FileTransferError::TooLarge {
                path: self.path.0.clone(),
                size,
                max: self.max_size,
            });
        }
        self.received = size;
        self.hasher.update(update.chunk);
        Ok(update.chunk)
    }

    /// Takes the `file_end` payload and checks the digest of everything received; returns that
    /// digest (the SHA-256 of the whole file), which identifies the file's content.
    pub fn end(self, payload: &[u8]) -> Result<[u8; DIGEST_LEN], FileTransferError> {
        let end = FileEnd::decode(payload)?;
        self.check_path("file_end", end.path)?;
        let digest: [u8; DIGEST_LEN] = self.hasher.finalize().into();
        if digest != end.digest {
            return Err(FileTransferError::ChecksumMismatch { path: self.path.0 });
        }
        Ok(digest)
    }

    fn check_path(&self, command: &'static str, got: &[u8]) -> Result<(), FileTransferError> {
        if got == self.path.0.as_bytes() {
            Ok(())
        } else {
            Err(FileTransferError::WrongPath {
                command,
                expected: self.path.0.clone(),
                got: String::from_utf8_lossy(got).into_owned(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path() -> TransferPath {
        TransferPath::new("/queue/cluster/w1/w1-1.0-ab.zip").unwrap()
    }

    #[test]
    fn sender_and_receiver_agree() {
        let data = vec![7u8; path().chunk_len() * 2 + 5];
        let messages: Vec<_> = FileSender::new(path(), &data).collect();
        assert_eq!(messages.len(), 5);
        assert!(messages.iter().all(|(_, p)| p.len() <= REQUEST_CHUNK));
        assert_eq!(messages[1].1.len(), REQUEST_CHUNK);
        let mut receiver =
            FileReceiver::new(TransferPath::decode(&messages[0].1).unwrap(), 1 << 24);
        let mut received = Vec::new();
        for (_, payload) in &messages[1..4] {
            received.extend_from_slice(receiver.update(payload).unwrap());
        }
        assert_eq!(receiver.received(), data.len() as u64);
        assert_eq!(receiver.end(&messages[4].1).unwrap(), sha256(&data));
        assert_eq!(received, data);
    }

    #[test]
    fn empty_file_has_no_update() {
        let commands: Vec<_> = FileSender::new(path(), b"").map(|(c, _)| c).collect();
        assert_eq!(commands, [names::NEW_FILE, names::FILE_END]);
    }

    #[test]
    fn refuses_mismatch_oversize_and_wrong_path() {
        let mut receiver = FileReceiver::new(path(), 4);
        assert!(matches!(
            receiver.update(&FileUpdate::encode(&path(), b"12345")),
            Err(FileTransferError::TooLarge {
                size: 5,
                max: 4,
                ..
            })
        ));
        assert_eq!(receiver.received(), 0, "a refused chunk is not counted");
        let other = TransferPath::new("/queue/other").unwrap();
        assert!(matches!(
            receiver.update(&FileUpdate::encode(&other, b"1")),
            Err(FileTransferError::WrongPath { .. })
        ));
        receiver
            .update(&FileUpdate::encode(&path(), b"1234"))
            .unwrap();
        assert!(matches!(
            receiver.end(&FileEnd::encode(&path(), &sha256(b"nope"))),
            Err(FileTransferError::ChecksumMismatch { .. })
        ));
    }

    #[test]
    fn refuses_bad_paths_and_digests() {
        assert!(matches!(
            TransferPath::new("queue/x"),
            Err(FileTransferError::NotRooted { .. })
        ));
        assert!(matches!(
            TransferPath::new("/queue/../etc"),
            Err(FileTransferError::Path(_))
        ));
        assert!(matches!(
            TransferPath::new("/a b"),
            Err(FileTransferError::ContainsSpace { .. })
        ));
        assert!(matches!(
            FileEnd::decode(b"/a abc"),
            Err(FileTransferError::DigestLength { len: 3 })
        ));
    }
}
