//! Whether a worker holds the same files as the master: BLAKE2b-512 of every file under the
//! given paths (a file, or a folder walked recursively), compared by relative path.

use std::collections::BTreeMap;
use std::path::Path;

use blake2::{Blake2b512, Digest};

/// The hash of every file under `paths` of `home`, by path relative to `home`. Missing paths
/// contribute nothing; unreadable files are left out (they then differ from the master's).
pub fn digests(home: &Path, paths: &[&str]) -> BTreeMap<String, Vec<u8>> {
    let mut found = BTreeMap::new();
    for path in paths {
        collect(home, &home.join(path), &mut found);
    }
    found
}

fn collect(home: &Path, path: &Path, found: &mut BTreeMap<String, Vec<u8>>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
            collect(home, &entry.path(), found);
        }
    } else if let Ok(bytes) = std::fs::read(path) {
        let relative = path.strip_prefix(home).unwrap_or(path);
        found.insert(
            relative.display().to_string(),
            Blake2b512::digest(&bytes).to_vec(),
        );
    }
}

/// Whether `worker` holds exactly the files of `master` under `paths`, byte for byte, and at
/// least one.
pub fn same_files(master: &Path, worker: &Path, paths: &[&str]) -> bool {
    let want = digests(master, paths);
    !want.is_empty() && want == digests(worker, paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_trees_match_and_any_difference_does_not() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        for home in [a.path(), b.path()] {
            std::fs::create_dir_all(home.join("etc/shared/g")).unwrap();
            std::fs::write(home.join("etc/client.keys"), "001 a any k\n").unwrap();
            std::fs::write(home.join("etc/shared/g/agent.conf"), "<agent_config/>").unwrap();
        }
        let paths = ["etc/client.keys", "etc/shared/g"];
        assert!(same_files(a.path(), b.path(), &paths));
        std::fs::write(b.path().join("etc/shared/g/extra"), "x").unwrap();
        assert!(!same_files(a.path(), b.path(), &paths));
        std::fs::remove_file(b.path().join("etc/shared/g/extra")).unwrap();
        std::fs::write(b.path().join("etc/client.keys"), "001 a any K\n").unwrap();
        assert!(!same_files(a.path(), b.path(), &paths));
        assert!(!same_files(a.path(), b.path(), &["etc/nothing"]));
    }
}
