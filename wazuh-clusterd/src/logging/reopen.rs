//! `logs/cluster.log` as a file that can be reopened at its path (on SIGHUP, after logrotate or
//! an operator renamed it): lines written before the reopen go to the old file, lines after to
//! the new one, none is lost or split (every line is written under one lock). With a
//! [`DailyRotation`] the same lock also moves the file away at the first line of a new day.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use super::rotate::{self, DailyRotation};

/// The log file and the path it is reopened at.
#[derive(Debug)]
pub struct ReopenableLog {
    path: PathBuf,
    file: Mutex<File>,
    open: fn(&Path) -> io::Result<File>,
    rotation: Mutex<Option<DailyRotation>>,
}

impl ReopenableLog {
    /// Opens `path` with `open` (which creates it with its mode) and keeps `open` for reopens.
    pub fn new(path: &Path, open: fn(&Path) -> io::Result<File>) -> io::Result<Self> {
        Ok(Self {
            path: path.to_path_buf(),
            file: Mutex::new(open(path)?),
            open,
            rotation: Mutex::new(None),
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

    /// Rotates the file daily from now on (`Some`), or never (`None`).
    pub fn rotate_daily(&self, rotation: Option<DailyRotation>) {
        *self
            .rotation
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = rotation;
    }

    /// Archives the file if a new day began; called with the file locked, so no line is
    /// written meanwhile. A failure is written to the current file, which stays in use.
    fn rotate_if_due(&self, file: &mut File) {
        let due = self
            .rotation
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .as_mut()
            .and_then(DailyRotation::due);
        let Some(day) = due else { return };
        let rotated = rotate::archive(&self.path, day).and_then(|()| (self.open)(&self.path));
        match rotated {
            Ok(fresh) => *file = fresh,
            Err(error) => {
                let line = format!(
                    "ERROR: [Cluster] [Main] Could not rotate {}: {error}\n",
                    self.path.display()
                );
                let _ = file.write_all(line.as_bytes());
            }
        }
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
        let mut file = self.lock();
        self.rotate_if_due(&mut file);
        file.write_all(buf)?;
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

    #[test]
    fn concurrent_writers_lose_no_line_across_renames_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cluster.log");
        let log = std::sync::Arc::new(ReopenableLog::new(&path, append).unwrap());
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let log = log.clone();
                std::thread::spawn(move || {
                    for i in 0..500 {
                        (&*log).write_all(format!("{w}-{i}\n").as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        let mut renamed = Vec::new();
        for n in 0..5 {
            std::thread::sleep(std::time::Duration::from_millis(2));
            let target = dir.path().join(format!("cluster.log.{n}"));
            std::fs::rename(&path, &target).unwrap();
            log.reopen().unwrap();
            renamed.push(target);
        }
        for writer in writers {
            writer.join().unwrap();
        }
        renamed.push(path);
        let mut lines: Vec<String> = renamed
            .iter()
            .flat_map(|p| {
                std::fs::read_to_string(p)
                    .unwrap_or_default()
                    .lines()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(lines.len(), 2000, "lines lost or doubled");
        lines.sort();
        lines.dedup();
        assert_eq!(lines.len(), 2000, "a line was split or repeated");
    }
}
