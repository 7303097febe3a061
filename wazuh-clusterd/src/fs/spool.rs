//! [`DiskSpool`]: the files peers send, written where Wazuh writes them (the name in `new_file`
//! under the home: `queue/cluster/<peer>/<name>`), created with mode 0640 without following a
//! link, appended to as the chunks arrive, read back by offset, and removed once the task that
//! waited for them drops them. What a killed daemon leaves there is removed at the next start,
//! when `queue/cluster` is emptied.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use wazuh_cluster_core::transfer::{Spool, SpoolFile};

use crate::home_path;

/// Mode of a spool file (owner reads and writes, group reads, as Wazuh's received files).
pub const SPOOL_FILE_MODE: u32 = 0o640;

/// Received files on disk under a Wazuh home.
#[derive(Debug, Clone)]
pub struct DiskSpool {
    home: PathBuf,
}

impl DiskSpool {
    /// Spool files under `home`.
    pub fn new(home: impl AsRef<Path>) -> Self {
        Self {
            home: home.as_ref().to_path_buf(),
        }
    }
}

impl Spool for DiskSpool {
    fn create(&self, relpath: &str) -> io::Result<Box<dyn SpoolFile>> {
        let relative = Path::new(relpath);
        let (Some(folder), Some(name)) = (relative.parent(), relative.file_name()) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{relpath:?} is not a file name under a folder"),
            ));
        };
        let path = home_path::real_dir(&self.home, folder)?.join(name);
        let file = home_path::open_read_write(&path, SPOOL_FILE_MODE)?;
        Ok(Box::new(DiskSpoolFile { path, file, len: 0 }))
    }
}

/// One received file on disk; removed when dropped.
#[derive(Debug)]
struct DiskSpoolFile {
    path: PathBuf,
    file: File,
    len: u64,
}

impl SpoolFile for DiskSpoolFile {
    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        self.file.write_all_at(data, self.len)?;
        self.len += data.len() as u64;
        Ok(())
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.file.read_exact_at(buf, offset)
    }

    fn len(&self) -> u64 {
        self.len
    }
}

impl Drop for DiskSpoolFile {
    fn drop(&mut self) {
        match std::fs::remove_file(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(
                "Could not remove the received file {}: {e}; it goes at the next start",
                self.path.display()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_spool_file_is_private_readable_by_offset_and_gone_when_dropped() {
        let home = tempfile::tempdir().unwrap();
        let spool = DiskSpool::new(home.path());
        let mut file = spool.create("queue/cluster/w1/w1-1.zip").unwrap();
        file.append(b"hello ").unwrap();
        file.append(b"world").unwrap();
        let path = home.path().join("queue/cluster/w1/w1-1.zip");
        assert_eq!(std::fs::read(&path).unwrap(), b"hello world");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & !0o640, 0, "mode {mode:o}");
        let mut buf = [0u8; 5];
        file.read_at(6, &mut buf).unwrap();
        assert_eq!(&buf, b"world");
        assert!(file.read_at(8, &mut buf).is_err());
        drop(file);
        assert!(!path.exists());
    }

    #[test]
    fn a_link_in_place_of_the_peer_folder_is_refused() {
        let home = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join("queue/cluster")).unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), home.path().join("queue/cluster/w1")).unwrap();
        assert!(
            DiskSpool::new(home.path())
                .create("queue/cluster/w1/x.zip")
                .is_err()
        );
        assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
    }
}
