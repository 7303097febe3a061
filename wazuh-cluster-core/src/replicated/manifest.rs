//! The file manifest the master pushes: for each synchronized file, its path, hash and mode.
//! File contents stay in the integrity sync; the manifest says which version is the master's.

use serde::{Deserialize, Serialize};

use super::refusal::CommandRefused;

/// Longest manifest path accepted, in bytes (Linux's `PATH_MAX`).
pub const MAX_PATH_LEN: usize = 4096;

/// Length of a file hash: blake2b-512 as lowercase hex, as in Wazuh's `files_metadata`.
pub const HASH_HEX_LEN: usize = 128;

/// One file of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    /// Path relative to the manager's home (`etc/shared/default/agent.conf`).
    pub path: String,
    /// blake2b-512 of the contents, 128 lowercase hex characters.
    pub hash: String,
    /// Permission bits (at most `0o7777`).
    pub mode: u32,
}

impl ManifestEntry {
    /// Checks the entry: a relative path without `.`, `..` or empty components, a hash of 128
    /// lowercase hex characters, permission bits only.
    pub fn check(&self) -> Result<(), CommandRefused> {
        check_path(&self.path)?;
        let hash_ok = self.hash.len() == HASH_HEX_LEN
            && self
                .hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !hash_ok {
            return Err(CommandRefused::InvalidManifestHash {
                path: self.path.clone(),
            });
        }
        if self.mode > 0o7777 {
            return Err(CommandRefused::InvalidManifestMode {
                path: self.path.clone(),
                mode: self.mode,
            });
        }
        Ok(())
    }
}

/// Checks a manifest path: relative, `/`-separated, no `.`/`..`/empty component, no NUL or
/// backslash, at most [`MAX_PATH_LEN`] bytes.
pub fn check_path(path: &str) -> Result<(), CommandRefused> {
    let ok = !path.is_empty()
        && path.len() <= MAX_PATH_LEN
        && !path.contains(['\0', '\\'])
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
    if ok {
        Ok(())
    } else {
        Err(CommandRefused::InvalidManifestPath {
            path: path.chars().take(MAX_PATH_LEN).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, hash: &str, mode: u32) -> ManifestEntry {
        ManifestEntry {
            path: path.into(),
            hash: hash.into(),
            mode,
        }
    }

    #[test]
    fn checks_paths_hashes_and_modes() {
        let hash = "ab".repeat(64);
        assert!(
            entry("etc/shared/default/agent.conf", &hash, 0o640)
                .check()
                .is_ok()
        );
        for bad in [
            "", "/etc/x", "etc/../x", "etc//x", "./x", "x/", "a\\b", "a\0b",
        ] {
            assert!(
                matches!(
                    entry(bad, &hash, 0o640).check(),
                    Err(CommandRefused::InvalidManifestPath { .. })
                ),
                "{bad:?} accepted"
            );
        }
        assert!(matches!(
            entry("x", &"AB".repeat(64), 0o640).check(),
            Err(CommandRefused::InvalidManifestHash { .. })
        ));
        assert!(matches!(
            entry("x", "ab", 0o640).check(),
            Err(CommandRefused::InvalidManifestHash { .. })
        ));
        assert!(matches!(
            entry("x", &hash, 0o10000).check(),
            Err(CommandRefused::InvalidManifestMode { mode: 0o10000, .. })
        ));
    }
}
