//! `logs/cluster.log` as a file that can be reopened at its path (on SIGHUP, after logrotate or
//! an operator renamed it): lines written before the reopen go to the old file, lines after to
//! the new one, none is lost or split (every line is written under one lock).

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// The log file and the path it is reopened at.
#[derive(Debug)]
pub struct ReopenableLog {
    path: PathBuf,
    file: Mutex<File>,
    open: fn(&Path) -> io::Result<File>,
}

impl ReopenableLog {
    /// Opens `path` with `open` (which creates it with its mode) and keeps `open` for reopens.
    pub fn new(path: &Path, open: fn(&Path) -> io::Result<File>) -> io::Result<Self> {
        Ok(Self {
            path: path.to_path_buf(),
            file: Mutex::new(open(path)?),
            open,
        })
    }

    /// The path it writes to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the path again (creating the file if it was moved away) and writes there from now
    /// on; on failure the current file is kept.
    pub fn reopen(&self) -> io::Result<()> {
        let fresh = (self.open)(&self.path)?;
        let mut file = self.lock();
        let _ = file.flush();
        *file = fresh;
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, File> {
        self.file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Write for &ReopenableLog {
    /// Writes the whole buffer (one formatted line) under one lock.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.lock().write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.lock().flush()
    }
}

#[cfg(test)]
mod tests {
    use std::fs::OpenOptions;

    use super::*;

    fn append(path: &Path) -> io::Result<File> {
        OpenOptions::new().create(true).append(true).open(path)
    }

    #[test]
    fn a_renamed_log_keeps_the_lines_before_and_the_new_file_gets_the_lines_after() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cluster.log");
        let log = ReopenableLog::new(&path, append).unwrap();
        (&log).write_all(b"one\n").unwrap();
        let rotated = dir.path().join("cluster.log.1");
        std::fs::rename(&path, &rotated).unwrap();
        (&log).write_all(b"two\n").unwrap();
        log.reopen().unwrap();
        (&log).write_all(b"three\n").unwrap();
        assert_eq!(std::fs::read_to_string(&rotated).unwrap(), "one\ntwo\n");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "three\n");
    }
}
