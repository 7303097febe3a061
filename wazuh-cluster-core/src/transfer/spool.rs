//! Where a received file goes while it arrives: a [`Spool`] makes one [`SpoolFile`] per
//! transfer, the inbox appends each `file_upd` chunk to it, and the task that waits for the file
//! reads it back by offset. The daemon keeps spool files on disk (under the home's
//! `queue/cluster/<peer>/`, as Wazuh does); [`MemorySpool`] keeps them in memory for tests and
//! the simulation harness. The core never touches the filesystem itself.

use std::fmt;
use std::io::{self, Read};

/// Makes the files received transfers are written to.
pub trait Spool: Send + Sync + fmt::Debug {
    /// A new, empty file for the transfer of `relpath` (relative to the home, e.g.
    /// `queue/cluster/worker01/worker01-1700000000.5-ab12.zip`, already checked by the inbox),
    /// replacing any file of that name. The file is gone once the returned value is dropped.
    fn create(&self, relpath: &str) -> io::Result<Box<dyn SpoolFile>>;
}

/// One received file: appended to while it arrives, read by offset once complete, removed when
/// dropped.
pub trait SpoolFile: Send + Sync + fmt::Debug {
    /// Appends `data` at the end.
    fn append(&mut self, data: &[u8]) -> io::Result<()>;
    /// Fills `buf` with the bytes from `offset`; an error if they are not all there.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
    /// Bytes written so far.
    fn len(&self) -> u64;
    /// Whether nothing was written.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A complete received file, handed to the task that waited for it: its spool file and the
/// SHA-256 of its content, checked against the sender's at `file_end`.
#[derive(Debug)]
pub struct ReceivedFile {
    relpath: String,
    data: Box<dyn SpoolFile>,
    sha256: [u8; 32],
}

impl ReceivedFile {
    /// The file received as `relpath` (its name in the inbox) in `data`, whose content has the
    /// digest `sha256` (already checked).
    pub fn new(relpath: impl Into<String>, data: Box<dyn SpoolFile>, sha256: [u8; 32]) -> Self {
        Self {
            relpath: relpath.into(),
            data,
            sha256,
        }
    }

    /// Its name in the inbox, relative to the home.
    pub fn relpath(&self) -> &str {
        &self.relpath
    }

    /// The content, to read by offset.
    pub fn data(&self) -> &dyn SpoolFile {
        &*self.data
    }

    /// The SHA-256 of the content: two files with the same one hold the same bytes.
    pub fn sha256(&self) -> [u8; 32] {
        self.sha256
    }

    /// Bytes received.
    pub fn len(&self) -> u64 {
        self.data.len()
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// `len` bytes of a spool file from `offset`, as a reader (sequential reads by offset).
#[derive(Debug)]
pub struct SpoolReader<'a> {
    file: &'a dyn SpoolFile,
    at: u64,
    end: u64,
}

impl<'a> SpoolReader<'a> {
    /// The whole file.
    pub fn whole(file: &'a dyn SpoolFile) -> Self {
        Self::range(file, 0, file.len())
    }

    /// `len` bytes from `offset` (cut at the end of the file).
    pub fn range(file: &'a dyn SpoolFile, offset: u64, len: u64) -> Self {
        let end = offset.saturating_add(len).min(file.len());
        Self {
            file,
            at: offset.min(end),
            end,
        }
    }
}

impl Read for SpoolReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = usize::try_from(self.end - self.at).unwrap_or(usize::MAX);
        let len = buf.len().min(left);
        self.file.read_at(self.at, &mut buf[..len])?;
        self.at += len as u64;
        Ok(len)
    }
}

/// Spool files held in memory (tests and the simulation harness).
#[derive(Debug, Clone, Copy, Default)]
pub struct MemorySpool;

impl Spool for MemorySpool {
    fn create(&self, _relpath: &str) -> io::Result<Box<dyn SpoolFile>> {
        Ok(Box::new(MemorySpoolFile(Vec::new())))
    }
}

/// A spool file in memory.
#[derive(Debug, Default)]
struct MemorySpoolFile(Vec<u8>);

impl SpoolFile for MemorySpoolFile {
    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        self.0.extend_from_slice(data);
        Ok(())
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let bytes = start
            .checked_add(buf.len())
            .and_then(|end| self.0.get(start..end))
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "{} bytes at offset {offset} are past the end of a {}-byte spool file",
                        buf.len(),
                        self.0.len()
                    ),
                )
            })?;
        buf.copy_from_slice(bytes);
        Ok(())
    }

    fn len(&self) -> u64 {
        self.0.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_reads_what_was_appended() {
        let mut file = MemorySpool.create("queue/cluster/w1/x").unwrap();
        file.append(b"hello ").unwrap();
        file.append(b"world").unwrap();
        assert_eq!(file.len(), 11);
        let mut read = String::new();
        SpoolReader::range(&*file, 6, 100)
            .read_to_string(&mut read)
            .unwrap();
        assert_eq!(read, "world");
        let mut buf = [0u8; 4];
        assert!(file.read_at(9, &mut buf).is_err());
    }
}
