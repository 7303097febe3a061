//! `DIR/var/run/wazuh-clusterd-<pid>.pid`, removed when the daemon stops.

use std::io::Write;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// The pid file could not be written.
#[derive(Debug, Error)]
#[error("cannot write the pid file {path}: {source}; check that this user owns the folder")]
pub struct PidFileError {
    /// The file or folder.
    pub path: PathBuf,
    /// What the operating system said.
    pub source: std::io::Error,
}

/// The pid file of this process; dropping it removes the file.
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
}

impl PidFile {
    /// Writes `home/var/run/wazuh-clusterd-<pid>.pid` (mode 0640, folder created if missing)
    /// holding this process's id.
    pub fn create(home: &Path) -> Result<PidFile, PidFileError> {
        let pid = std::process::id();
        let path = pid_path(home, pid);
        let fail = |path: &Path| {
            let path = path.to_path_buf();
            move |source| PidFileError { path, source }
        };
        let dir = path.parent().unwrap_or(home);
        crate::home_path::real_dir(home, "var/run").map_err(fail(dir))?;
        let mut file = crate::home_path::open_truncate(&path, 0o640).map_err(fail(&path))?;
        writeln!(file, "{pid}").map_err(fail(&path))?;
        Ok(PidFile { path })
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // Nothing useful can be done if it is already gone.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The pid file path of process `pid` under `home`.
pub fn pid_path(home: &Path, pid: u32) -> PathBuf {
    home.join("var")
        .join("run")
        .join(format!("wazuh-clusterd-{pid}.pid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_with_the_pid_and_removed_on_drop() {
        let home = tempfile::tempdir().unwrap();
        let pid_file = PidFile::create(home.path()).unwrap();
        let path = pid_file.path().to_path_buf();
        assert_eq!(path, pid_path(home.path(), std::process::id()));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{}\n", std::process::id())
        );
        drop(pid_file);
        assert!(!path.exists());
    }
}
