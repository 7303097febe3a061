//! The database file and its companions (`-wal`, `-shm`, `-journal`) hold agent keys: they are
//! [`DB_MODE`] whatever the process's umask, and never reached through a symbolic link.
//!
//! The file is created here with that mode before SQLite opens it; SQLite creates its
//! companions with the database file's mode (ignoring the umask), and
//! [`restrict_companions`] applies it again once they exist, so files left by an older build
//! with wider modes are tightened too.

use std::fs::{self, Permissions};
use std::io::{self, ErrorKind};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Mode of the database and its companions: owner read-write, group read (as `client.keys`).
pub const DB_MODE: u32 = 0o640;

/// The suffixes SQLite appends to the database's name for its companion files.
const COMPANIONS: [&str; 3] = ["-wal", "-shm", "-journal"];

/// Creates `path` empty with [`DB_MODE`] if missing (an empty file is a new database to
/// SQLite), sets the mode of an existing one, and tightens existing companions. A symbolic
/// link at `path` is refused.
pub(crate) fn prepare(path: &Path) -> io::Result<()> {
    let file = crate::home_path::open_keep(path, DB_MODE)?;
    file.set_permissions(Permissions::from_mode(DB_MODE))?;
    restrict_companions(path)
}

/// Sets [`DB_MODE`] on the companions of `path` that exist (a link is removed, not followed:
/// SQLite recreates the file).
pub(crate) fn restrict_companions(path: &Path) -> io::Result<()> {
    for companion in companions(path) {
        match fs::symlink_metadata(&companion) {
            Ok(meta) if meta.file_type().is_symlink() => fs::remove_file(&companion)?,
            Ok(meta) if meta.permissions().mode() & 0o7777 != DB_MODE => {
                fs::set_permissions(&companion, Permissions::from_mode(DB_MODE))?;
            }
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn companions(path: &Path) -> impl Iterator<Item = PathBuf> + '_ {
    COMPANIONS.iter().map(move |suffix| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_and_tightened_with_the_database_mode() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("cluster.db");
        let wal = dir.path().join("cluster.db-wal");
        fs::write(&wal, b"").unwrap();
        fs::set_permissions(&wal, Permissions::from_mode(0o666)).unwrap();
        prepare(&db).unwrap();
        for file in [&db, &wal] {
            let mode = fs::metadata(file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, DB_MODE, "{}", file.display());
        }
    }

    #[test]
    fn a_linked_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("client.keys");
        fs::write(&keys, b"k").unwrap();
        std::os::unix::fs::symlink(&keys, dir.path().join("cluster.db")).unwrap();
        let error = prepare(&dir.path().join("cluster.db")).unwrap_err();
        assert!(error.to_string().contains("symbolic link"), "{error}");
        assert_eq!(fs::read(&keys).unwrap(), b"k");
    }
}
