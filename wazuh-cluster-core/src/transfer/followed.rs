//! A [`Spool`] whose newest file can be read while it is still being received
//! ([`FollowedSpool`]): the task waiting for a file starts on its first bytes instead of waiting
//! for `file_end`. The inbox writes through it as through any spool; the follower gets a
//! [`FollowedFile`] for each file created, tells how long it is, waits for it to grow and reads
//! it by offset.

use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use tokio::sync::watch;

use super::spool::{ReceivedFile, Spool, SpoolFile};

/// Wraps a spool so that each file it creates can be followed as it grows.
#[derive(Debug)]
pub struct FollowedSpool {
    inner: Arc<dyn Spool>,
    /// The newest file, not kept alive by this (a spool file is removed once dropped).
    created: watch::Sender<Weak<Shared>>,
}

impl FollowedSpool {
    /// Files of `inner`, announced to the followers as they are created.
    pub fn new(inner: Arc<dyn Spool>) -> Self {
        Self {
            inner,
            created: watch::channel(Weak::new()).0,
        }
    }

    /// The files created from now on.
    pub fn subscribe(&self) -> FollowedFiles {
        let mut created = self.created.subscribe();
        created.mark_unchanged();
        FollowedFiles(created)
    }
}

/// The files a [`FollowedSpool`] creates, from the moment of [`FollowedSpool::subscribe`].
#[derive(Debug)]
pub struct FollowedFiles(watch::Receiver<Weak<Shared>>);

impl FollowedFiles {
    /// Waits for the next file created (the newest, if several were); `None` once the spool is
    /// gone.
    pub async fn next(&mut self) -> Option<FollowedFile> {
        loop {
            self.0.changed().await.ok()?;
            if let Some(shared) = self.0.borrow_and_update().upgrade() {
                return Some(FollowedFile(shared));
            }
        }
    }
}

impl Spool for FollowedSpool {
    fn create(&self, relpath: &str) -> io::Result<Box<dyn SpoolFile>> {
        let shared = Arc::new(Shared {
            relpath: relpath.to_owned(),
            file: Mutex::new(self.inner.create(relpath)?),
            grown: watch::channel(0).0,
        });
        self.created.send_replace(Arc::downgrade(&shared));
        Ok(Box::new(Writer(shared)))
    }
}

struct Shared {
    relpath: String,
    file: Mutex<Box<dyn SpoolFile>>,
    /// The file's length after each append.
    grown: watch::Sender<u64>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("relpath", &self.relpath)
            .finish()
    }
}

impl Shared {
    fn file(&self) -> MutexGuard<'_, Box<dyn SpoolFile>> {
        self.file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What the inbox writes to: the file, shared with its followers (it is removed once both are
/// done with it).
struct Writer(Arc<Shared>);

impl fmt::Debug for Writer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Writer").field(&self.0.relpath).finish()
    }
}

impl SpoolFile for Writer {
    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        let len = {
            let mut file = self.0.file();
            file.append(data)?;
            file.len()
        };
        self.0.grown.send_replace(len);
        Ok(())
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.0.file().read_at(offset, buf)
    }

    fn len(&self) -> u64 {
        self.0.file().len()
    }
}

/// A file of a [`FollowedSpool`], read while it is received.
#[derive(Clone)]
pub struct FollowedFile(Arc<Shared>);

impl fmt::Debug for FollowedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("FollowedFile")
            .field(&self.0.relpath)
            .finish()
    }
}

impl FollowedFile {
    /// Its name in the inbox (relative to the home).
    pub fn relpath(&self) -> &str {
        &self.0.relpath
    }

    /// Its length after each append.
    pub fn growth(&self) -> watch::Receiver<u64> {
        self.0.grown.subscribe()
    }

    /// Whether `received` is this file, complete.
    pub fn is(&self, received: &ReceivedFile) -> bool {
        received.relpath() == self.relpath() && received.len() == self.len()
    }
}

impl SpoolFile for FollowedFile {
    /// Refused: only the inbox appends.
    fn append(&mut self, _data: &[u8]) -> io::Result<()> {
        Err(io::Error::other("a followed file is only read"))
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.0.file().read_at(offset, buf)
    }

    fn len(&self) -> u64 {
        self.0.file().len()
    }
}
