//! The daemon's own folders and files below the Wazuh home (`queue/cluster`, `logs`, `var/db`,
//! `var/run`), reached without following a symbolic link.
//!
//! A link planted below the home (say `queue/cluster` -> `etc`, or `logs/cluster.log` ->
//! `etc/client.keys`) would otherwise make the daemon empty, append to or create files
//! elsewhere. Every component below the home is checked with `lstat`; a link is refused with an
//! error naming it, a missing folder is created, and files are opened with `O_NOFOLLOW`. The home
//! itself may be a link (an operator's choice). A local user who can swap a component between
//! the check and the use could still win the race; that user already owns the home.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, ErrorKind};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

/// Mode of the folders created here (as Wazuh's: owner and group).
pub const DIR_MODE: u32 = 0o770;

/// The error for a symbolic link found at `path`.
fn link_refused(path: &Path) -> io::Error {
    io::Error::new(
        ErrorKind::InvalidInput,
        format!(
            "{} is a symbolic link; the daemon follows no link below the installation folder: \
             replace it with a real folder or file",
            path.display()
        ),
    )
}

/// `home/relative` as a real folder: every component below `home` must be a folder and not a
/// symbolic link; missing ones are created with [`DIR_MODE`] (less the umask).
pub fn real_dir(home: &Path, relative: impl AsRef<Path>) -> io::Result<PathBuf> {
    let mut current = home.to_path_buf();
    for component in relative.as_ref().components() {
        let Component::Normal(name) = component else {
            return Err(io::Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "{} is not a plain relative path",
                    relative.as_ref().display()
                ),
            ));
        };
        current.push(name);
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => return Err(link_refused(&current)),
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(io::Error::new(
                    ErrorKind::InvalidInput,
                    format!("{} is not a folder", current.display()),
                ));
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {
                match DirBuilder::new().mode(DIR_MODE).create(&current) {
                    Ok(()) => {}
                    // Created meanwhile by someone else: check it again.
                    Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                        if fs::symlink_metadata(&current)?.file_type().is_symlink() {
                            return Err(link_refused(&current));
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(current)
}

/// Opens `file` (in a folder checked by [`real_dir`]) for appending, created with `mode` if
/// missing; a symbolic link at `file` is refused (`O_NOFOLLOW`).
pub fn open_append(file: &Path, mode: u32) -> io::Result<File> {
    no_link(
        OpenOptions::new()
            .create(true)
            .append(true)
            .mode(mode)
            .custom_flags(O_NOFOLLOW)
            .open(file),
        file,
    )
}

/// Opens `file` (in a folder checked by [`real_dir`]) for writing from scratch, created with
/// `mode` if missing; a symbolic link at `file` is refused (`O_NOFOLLOW`).
pub fn open_truncate(file: &Path, mode: u32) -> io::Result<File> {
    open_no_follow(file, mode, OpenOptions::new().truncate(true))
}

/// Opens `file` for writing without truncating it, created with `mode` if missing; a symbolic
/// link at `file` is refused (`O_NOFOLLOW`).
pub fn open_keep(file: &Path, mode: u32) -> io::Result<File> {
    open_no_follow(file, mode, OpenOptions::new().truncate(false))
}

/// Creates `file` (in a folder checked by [`real_dir`]) empty for reading and writing, with
/// `mode`, replacing its content if it exists; a symbolic link at `file` is refused
/// (`O_NOFOLLOW`).
pub fn open_read_write(file: &Path, mode: u32) -> io::Result<File> {
    open_no_follow(file, mode, OpenOptions::new().read(true).truncate(true))
}

/// Opens `file` for writing with `options`, created with `mode` if missing, refusing a
/// symbolic link at `file`.
fn open_no_follow(file: &Path, mode: u32, options: &mut OpenOptions) -> io::Result<File> {
    no_link(
        options
            .write(true)
            .create(true)
            .mode(mode)
            .custom_flags(O_NOFOLLOW)
            .open(file),
        file,
    )
}

/// `open(2)`'s flag that refuses a symbolic link as the last component.
const O_NOFOLLOW: i32 = rustix::fs::OFlags::NOFOLLOW.bits() as i32;

/// `O_NOFOLLOW` on a link fails with `ELOOP`: say what it means.
fn no_link(opened: io::Result<File>, file: &Path) -> io::Result<File> {
    opened.map_err(|e| {
        if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
            link_refused(file)
        } else {
            e
        }
    })
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::unix::fs::symlink;

    use super::*;

    #[test]
    fn creates_missing_folders_and_refuses_links_on_the_way() {
        let home = tempfile::tempdir().unwrap();
        let made = real_dir(home.path(), "queue/cluster").unwrap();
        assert!(made.is_dir());
        fs::create_dir(home.path().join("etc")).unwrap();
        symlink(home.path().join("etc"), home.path().join("logs")).unwrap();
        let error = real_dir(home.path(), "logs").unwrap_err();
        assert!(error.to_string().contains("is a symbolic link"), "{error}");
        assert!(real_dir(home.path(), "../x").is_err());
    }

    #[test]
    fn files_behind_a_link_are_not_opened() {
        let home = tempfile::tempdir().unwrap();
        let keys = home.path().join("client.keys");
        fs::write(&keys, b"001 a any k\n").unwrap();
        let log = home.path().join("cluster.log");
        symlink(&keys, &log).unwrap();
        let error = open_append(&log, 0o660).unwrap_err();
        assert!(error.to_string().contains("is a symbolic link"), "{error}");
        assert!(open_truncate(&log, 0o640).is_err());
        assert_eq!(fs::read(&keys).unwrap(), b"001 a any k\n");
        let plain = home.path().join("plain.log");
        open_append(&plain, 0o660).unwrap().write_all(b"x").unwrap();
        assert_eq!(fs::read(&plain).unwrap(), b"x");
    }
}
