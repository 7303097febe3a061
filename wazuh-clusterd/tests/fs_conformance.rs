//! The FileSource conformance suite on the real filesystem (temporary folders).

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use wazuh_cluster_core::files::ClusterItems;
use wazuh_cluster_core::files::ModTime;
use wazuh_cluster_core::files::conformance::{self, Fixture};
use wazuh_clusterd::fs::DiskFileSource;

/// A temporary folder holding `home/` (the Wazuh home) and `outside/victim`.
struct DiskFixture {
    _dir: tempfile::TempDir,
    home: PathBuf,
    outside: PathBuf,
    source: DiskFileSource,
}

impl DiskFixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let home = dir.path().join("home");
        let outside = dir.path().join("outside");
        fs::create_dir_all(&home).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("victim"), b"outside the home").unwrap();
        let source = DiskFileSource::new(&home, ClusterItems::wazuh_default()).unwrap();
        DiskFixture {
            _dir: dir,
            home,
            outside,
            source,
        }
    }

    fn at(&self, relpath: &str) -> PathBuf {
        self.home.join(relpath)
    }
}

fn parent_dirs(path: &Path) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
}

impl Fixture for DiskFixture {
    type Source = DiskFileSource;

    fn source(&self) -> &DiskFileSource {
        &self.source
    }

    fn plant_file(&self, relpath: &str, contents: &[u8]) {
        let path = self.at(relpath);
        parent_dirs(&path);
        fs::write(path, contents).unwrap();
    }

    fn plant_dir_link_outside(&self, relpath: &str) {
        let path = self.at(relpath);
        parent_dirs(&path);
        symlink(&self.outside, path).unwrap();
    }

    fn plant_file_link_outside(&self, relpath: &str) {
        let path = self.at(relpath);
        parent_dirs(&path);
        symlink(self.outside.join("victim"), path).unwrap();
    }

    fn set_mtime(&self, relpath: &str, mtime: ModTime) {
        let at = SystemTime::UNIX_EPOCH + Duration::new(mtime.secs() as u64, mtime.nanos());
        fs::File::options()
            .write(true)
            .open(self.at(relpath))
            .unwrap()
            .set_modified(at)
            .unwrap();
    }

    fn contents(&self, relpath: &str) -> Option<Vec<u8>> {
        let path = self.at(relpath);
        fs::symlink_metadata(&path).ok().filter(|m| m.is_file())?;
        fs::read(path).ok()
    }

    fn mode(&self, relpath: &str) -> Option<u32> {
        fs::symlink_metadata(self.at(relpath))
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.permissions().mode() & 0o777)
    }

    fn dir_exists(&self, relpath: &str) -> bool {
        fs::symlink_metadata(self.at(relpath)).is_ok_and(|m| m.is_dir())
    }

    fn entries_in(&self, relpath: &str) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.at(relpath))
            .map(|entries| {
                entries
                    .map(|e| e.unwrap().file_name().into_string().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    fn outside(&self) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        for entry in walk(&self.outside) {
            let rel = entry
                .strip_prefix(&self.outside)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.insert(rel, fs::read(&entry).unwrap());
        }
        out
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.push(path.join(""));
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.retain(|p| p.is_file());
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_file_source_passes_the_conformance_suite() {
    conformance::run_all(DiskFixture::new).await;
}
