//! [`FileInbox`]: the files a peer is sending, written to a [`Spool`] under limits.
//!
//! Each `file_upd` chunk is checked against the limits, then appended to the transfer's spool
//! file (nothing of the file is held in memory). Only names directly under the folder the inbox was made for (`queue/cluster/<worker>/`) are
//! accepted, so no received name can point anywhere else; each file is bounded in size, and the
//! inbox holds a bounded number of files (received or in progress): when full, the oldest is
//! dropped to make room, so a peer that abandons transfers cannot grow it.

use std::collections::BTreeMap;
use std::sync::Arc;

use wazuh_cluster_proto::payload::{
    FileEnd, FileReceiver, FileTransferError, FileUpdate, TransferPath,
};

use super::spool::{ReceivedFile, Spool, SpoolFile};

/// Bounds of an inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboxLimits {
    /// Largest file accepted, in bytes.
    pub max_file_size: u64,
    /// Most files held at once (received or in progress).
    pub max_files: usize,
}

/// A transfer step was refused.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// The payload or the transfer itself was refused.
    #[error(transparent)]
    Transfer(#[from] FileTransferError),
    /// The name is not a file directly under the inbox's folder.
    #[error(
        "received file name {path:?} refused: files from this peer must be directly under /{folder}"
    )]
    OutsideFolder {
        /// The refused name.
        path: String,
        /// The allowed folder.
        folder: String,
    },
    /// The spool file of a transfer could not be created or written.
    #[error(
        "received file {path:?} could not be stored: {source}; check the space and permissions of the home's queue/cluster"
    )]
    Spool {
        /// The file's name.
        path: String,
        /// What the spool reported.
        source: std::io::Error,
    },
    /// The daemon stopped while the step was being written.
    #[error("received file not stored: the daemon is stopping")]
    Stopping,
    /// A chunk or end names a file that is not being received.
    #[error("no file {path:?} is being received; send new_file first")]
    Unknown {
        /// The name.
        path: String,
    },
}

enum Slot {
    Receiving(FileReceiver, Box<dyn SpoolFile>),
    Done(ReceivedFile),
}

/// The files one peer is sending.
pub struct FileInbox {
    folder: String,
    limits: InboxLimits,
    spool: Arc<dyn Spool>,
    files: BTreeMap<String, (u64, Slot)>,
    seq: u64,
}

impl std::fmt::Debug for FileInbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileInbox")
            .field("folder", &self.folder)
            .field("files", &self.files.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl FileInbox {
    /// An empty inbox accepting files directly under `folder` (relative, ending in `/`, such as
    /// `queue/cluster/worker01/`), each written to a file of `spool`.
    pub fn new(folder: impl Into<String>, limits: InboxLimits, spool: Arc<dyn Spool>) -> Self {
        Self {
            folder: folder.into(),
            limits,
            spool,
            files: BTreeMap::new(),
            seq: 0,
        }
    }

    /// Bytes the inbox holds now, received or in progress (what a disconnection frees).
    pub fn held_bytes(&self) -> u64 {
        self.files
            .values()
            .map(|(_, slot)| match slot {
                Slot::Receiving(receiver, _) => receiver.received(),
                Slot::Done(file) => file.len(),
            })
            .sum()
    }

    /// Changes the bounds of files started from now on (files in progress keep theirs).
    pub fn set_limits(&mut self, limits: InboxLimits) {
        self.limits = limits;
    }

    /// Checks that a relative name (no leading `/`) is a file directly under the folder.
    pub fn check_name(&self, relpath: &str) -> Result<(), InboxError> {
        let inside = relpath
            .strip_prefix(self.folder.as_str())
            .is_some_and(|name| !name.is_empty() && !name.contains('/') && name != "..");
        if inside && !relpath.split('/').any(|c| c == ".." || c == ".") {
            Ok(())
        } else {
            Err(InboxError::OutsideFolder {
                path: relpath.to_owned(),
                folder: self.folder.clone(),
            })
        }
    }

    /// `new_file`: starts receiving a file (replacing one of the same name).
    pub fn start(&mut self, payload: &[u8]) -> Result<(), InboxError> {
        let path = TransferPath::decode(payload)?;
        self.check_name(path.relative())?;
        let key = path.relative().to_owned();
        self.files.remove(&key);
        while self.files.len() >= self.limits.max_files.max(1) {
            let oldest = self
                .files
                .iter()
                .min_by_key(|(_, (seq, _))| *seq)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(oldest) => {
                    self.files.remove(&oldest);
                }
                None => break,
            }
        }
        let file = self
            .spool
            .create(&key)
            .map_err(|source| InboxError::Spool {
                path: key.clone(),
                source,
            })?;
        self.seq += 1;
        let receiver = FileReceiver::new(path, self.limits.max_file_size);
        self.files
            .insert(key, (self.seq, Slot::Receiving(receiver, file)));
        Ok(())
    }

    fn receiving(
        &mut self,
        raw_path: &[u8],
    ) -> Result<(String, &mut FileReceiver, &mut Box<dyn SpoolFile>), InboxError> {
        let text = String::from_utf8_lossy(raw_path);
        let key = text.strip_prefix('/').unwrap_or(&text).to_owned();
        match self.files.get_mut(&key) {
            Some((_, Slot::Receiving(receiver, file))) => Ok((key, receiver, file)),
            _ => Err(InboxError::Unknown {
                path: text.into_owned(),
            }),
        }
    }

    /// `file_upd`: one chunk, checked against the limits before it is written to the spool. A
    /// refused chunk, or one the spool cannot take, drops the file.
    pub fn update(&mut self, payload: &[u8]) -> Result<(), InboxError> {
        let update = FileUpdate::decode(payload)?;
        let (key, receiver, file) = self.receiving(update.path)?;
        let result = match receiver.update(payload) {
            Ok(chunk) => file.append(chunk).map_err(|source| InboxError::Spool {
                path: key.clone(),
                source,
            }),
            Err(refused) => Err(refused.into()),
        };
        if result.is_err() {
            self.files.remove(&key);
        }
        result
    }

    /// `file_end`: checks the digest; the file is then complete (or dropped if it does not match).
    pub fn end(&mut self, payload: &[u8]) -> Result<(), InboxError> {
        let end = FileEnd::decode(payload)?;
        let (key, _, _) = self.receiving(end.path)?;
        let Some((seq, Slot::Receiving(receiver, file))) = self.files.remove(&key) else {
            return Err(InboxError::Unknown { path: key });
        };
        let sha256 = receiver.end(payload)?;
        let received = ReceivedFile::new(key.clone(), file, sha256);
        self.files.insert(key, (seq, Slot::Done(received)));
        Ok(())
    }

    /// Takes a complete file by its relative name (as `*_e` commands carry it); `None` if it is
    /// unknown or not complete.
    pub fn take(&mut self, relpath: &str) -> Option<ReceivedFile> {
        match self.files.get(relpath) {
            Some((_, Slot::Done(_))) => match self.files.remove(relpath) {
                Some((_, Slot::Done(data))) => Some(data),
                _ => None,
            },
            _ => None,
        }
    }

    /// Drops every file.
    pub fn clear(&mut self) {
        self.files.clear();
    }

    /// Files held (received or in progress).
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether no file is held.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use wazuh_cluster_proto::payload::FileSender;

    use super::*;
    use crate::transfer::{MemorySpool, SpoolReader};

    fn inbox(limits: InboxLimits) -> FileInbox {
        FileInbox::new("queue/cluster/w1/", limits, Arc::new(MemorySpool))
    }

    fn bytes(file: ReceivedFile) -> Vec<u8> {
        let mut out = Vec::new();
        SpoolReader::whole(file.data())
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    const LIMITS: InboxLimits = InboxLimits {
        max_file_size: 1 << 20,
        max_files: 2,
    };

    fn feed(inbox: &mut FileInbox, path: &str, data: &[u8]) -> Result<(), InboxError> {
        let path = TransferPath::new(path)?;
        for (command, payload) in FileSender::new(path, data) {
            match command.as_bytes() {
                b"new_file" => inbox.start(&payload)?,
                b"file_upd" => inbox.update(&payload)?,
                _ => inbox.end(&payload)?,
            }
        }
        Ok(())
    }

    #[test]
    fn receives_files_under_its_folder_only() {
        let mut inbox = inbox(LIMITS);
        feed(&mut inbox, "/queue/cluster/w1/a.zip", b"data").unwrap();
        assert_eq!(
            bytes(inbox.take("queue/cluster/w1/a.zip").unwrap()),
            b"data"
        );
        assert!(inbox.take("queue/cluster/w1/a.zip").is_none());
        for bad in [
            "/queue/cluster/w2/a.zip",
            "/queue/cluster/w1/sub/a.zip",
            "/etc/client.keys",
            "/queue/cluster/w1/",
        ] {
            assert!(feed(&mut inbox, bad, b"x").is_err(), "{bad}");
        }
        assert!(inbox.check_name("queue/cluster/w1/../../etc/x").is_err());
        assert!(inbox.is_empty());
    }

    #[test]
    fn oversized_files_are_dropped_and_the_oldest_makes_room() {
        let mut inbox = inbox(InboxLimits {
            max_file_size: 3,
            max_files: 2,
        });
        assert!(feed(&mut inbox, "/queue/cluster/w1/big", b"1234").is_err());
        assert!(inbox.is_empty());
        feed(&mut inbox, "/queue/cluster/w1/a", b"1").unwrap();
        feed(&mut inbox, "/queue/cluster/w1/b", b"2").unwrap();
        feed(&mut inbox, "/queue/cluster/w1/c", b"3").unwrap();
        assert_eq!(inbox.len(), 2);
        assert!(inbox.take("queue/cluster/w1/a").is_none());
        assert_eq!(bytes(inbox.take("queue/cluster/w1/c").unwrap()), b"3");
    }
}
