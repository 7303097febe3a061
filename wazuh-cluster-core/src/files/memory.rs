//! [`MemoryFileSource`]: a [`FileSource`] held in memory, for tests and the simulated cluster.
//!
//! It models what the confinement rules need: folders, files with permissions and modification
//! times (a logical clock that advances one second per change), and symbolic links that lead
//! outside the home (to a folder holding one file, `victim`, or to that file itself). It also
//! counts hashes, reads, batch writes not yet made durable and syncs, and can be told to fail
//! writes to chosen paths.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use wazuh_cluster_proto::payload::Blake2bHex;

use super::ClusterItems;
use super::conformance::Fixture;
use super::{FileSource, FileSourceError, FileStat, HashedFile, ModTime, StagedFile, SyncPath};

/// Content of the one file outside the home that escaping links lead to.
pub const OUTSIDE_VICTIM: &[u8] = b"outside the Wazuh home";

#[derive(Debug, Clone)]
struct MemFile {
    contents: Vec<u8>,
    mtime: ModTime,
    mode: u32,
}

#[derive(Debug, Default)]
struct State {
    files: BTreeMap<String, MemFile>,
    dirs: BTreeSet<String>,
    dir_links_outside: BTreeSet<String>,
    file_links_outside: BTreeSet<String>,
    outside: BTreeMap<String, Vec<u8>>,
    failing_writes: BTreeSet<String>,
    staged: BTreeMap<u64, (String, Vec<u8>)>,
    next_token: u64,
    failing_reads: BTreeSet<String>,
    clock: i64,
    hashed: u64,
    read: u64,
    listed: u64,
    unsynced: u64,
    syncs: u64,
}

impl State {
    fn tick(&mut self) -> ModTime {
        self.clock += 1;
        ModTime::from_unix(1_700_000_000 + self.clock, 0)
    }

    fn add_parents(&mut self, path: &str) {
        let mut current = path;
        while let Some((parent, _)) = current.rsplit_once('/') {
            self.dirs.insert(parent.to_owned());
            current = parent;
        }
    }

    /// Whether a folder above `path` is a link leading outside.
    fn parent_escapes(&self, path: &str) -> bool {
        let mut current = path;
        while let Some((parent, _)) = current.rsplit_once('/') {
            if self.dir_links_outside.contains(parent) {
                return true;
            }
            current = parent;
        }
        false
    }

    /// Whether `p` may be written: no link outside above it, not a folder, no file as a parent
    /// folder, no failure injected.
    fn check_writable(&self, p: &str) -> Result<(), FileSourceError> {
        if self.parent_escapes(p) {
            return Err(FileSourceError::SymlinkEscape { path: p.to_owned() });
        }
        if self.is_dir(p) {
            return Err(FileSourceError::WrongKind { path: p.to_owned() });
        }
        let mut parent = p;
        while let Some((above, _)) = parent.rsplit_once('/') {
            if self.files.contains_key(above) || self.file_links_outside.contains(above) {
                return Err(FileSourceError::WrongKind {
                    path: above.to_owned(),
                });
            }
            parent = above;
        }
        if self.failing_writes.contains(p) {
            return Err(FileSourceError::Io {
                operation: "write",
                path: p.to_owned(),
                source: std::io::Error::other("write failure injected by the test"),
            });
        }
        Ok(())
    }

    fn is_dir(&self, path: &str) -> bool {
        self.dirs.contains(path) || self.dir_links_outside.contains(path)
    }

    fn children(&self, dir: &str) -> impl Iterator<Item = &str> {
        let prefix = format!("{dir}/");
        let names = self
            .files
            .keys()
            .chain(&self.dirs)
            .chain(&self.dir_links_outside)
            .chain(&self.file_links_outside);
        names
            .filter_map(move |p| {
                p.strip_prefix(prefix.as_str())
                    .filter(|rest| !rest.contains('/'))
                    .map(|_| p.as_str())
            })
            .collect::<Vec<_>>()
            .into_iter()
    }
}

/// What a file watcher on the home calls after each change.
type ChangeHook = Arc<dyn Fn() + Send + Sync>;

/// A [`FileSource`] in memory. Cloning is not offered: share it behind an `Arc`.
pub struct MemoryFileSource {
    items: ClusterItems,
    state: Mutex<State>,
    on_change: Mutex<Option<ChangeHook>>,
}

impl std::fmt::Debug for MemoryFileSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryFileSource")
            .field("items", &self.items)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl MemoryFileSource {
    /// An empty home serving these items.
    pub fn new(items: ClusterItems) -> Self {
        MemoryFileSource {
            items,
            state: Mutex::new(State::default()),
            on_change: Mutex::new(None),
        }
    }

    /// Calls `hook` after every change to a file or folder from now on, as a file watcher on
    /// the home would (replacing the previous hook).
    pub fn on_change(&self, hook: impl Fn() + Send + Sync + 'static) {
        *self
            .on_change
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Arc::new(hook));
    }

    fn changed(&self) {
        let hook = self
            .on_change
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        if let Some(hook) = hook {
            hook();
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Puts a file anywhere in the home (even outside the items), with permissions 0o644 and the
    /// next logical modification time, bypassing the [`FileSource`] checks.
    pub fn plant(&self, relpath: &str, contents: &[u8]) {
        let mut state = self.state();
        let mtime = state.tick();
        state.add_parents(relpath);
        state.files.insert(
            relpath.to_owned(),
            MemFile {
                contents: contents.to_vec(),
                mtime,
                mode: 0o644,
            },
        );
        drop(state);
        self.changed();
    }

    /// Removes a file, bypassing the [`FileSource`] checks; `false` if it was not there.
    pub fn unplant(&self, relpath: &str) -> bool {
        let removed = self.state().files.remove(relpath).is_some();
        self.changed();
        removed
    }

    /// Makes writes to this path fail with an I/O error (the old file stays intact).
    pub fn fail_writes_to(&self, relpath: &str) {
        self.state().failing_writes.insert(relpath.to_owned());
    }

    /// Makes reads and hashes of this path fail with an I/O error.
    pub fn fail_reads_of(&self, relpath: &str) {
        self.state().failing_reads.insert(relpath.to_owned());
    }

    /// How many files were hashed so far.
    pub fn hash_count(&self) -> u64 {
        self.state().hashed
    }

    /// How many files were read so far.
    pub fn read_count(&self) -> u64 {
        self.state().read
    }

    /// Listings made through [`FileSource::list`].
    pub fn list_count(&self) -> u64 {
        self.state().listed
    }

    /// How many files written by [`FileSource::write_batch`] are not yet made durable by a
    /// [`FileSource::sync`].
    pub fn unsynced_writes(&self) -> u64 {
        self.state().unsynced
    }

    /// How many files are staged (neither committed nor discarded).
    pub fn staged_count(&self) -> usize {
        self.state().staged.len()
    }

    /// How many times [`FileSource::sync`] was called.
    pub fn sync_count(&self) -> u64 {
        self.state().syncs
    }

    /// Every file of the home (planted or written) with its content, sorted by path.
    pub fn snapshot(&self) -> BTreeMap<String, Vec<u8>> {
        self.state()
            .files
            .iter()
            .map(|(p, f)| (p.clone(), f.contents.clone()))
            .collect()
    }

    fn check_known_item(&self, path: &SyncPath) -> Result<u32, FileSourceError> {
        self.items
            .get(path.item_key())
            .map(|item| item.permissions)
            .ok_or_else(|| FileSourceError::UnknownItem {
                path: path.as_str().to_owned(),
                item_key: path.item_key().to_owned(),
            })
    }

    fn hash_one(&self, path: &SyncPath) -> Result<HashedFile, FileSourceError> {
        let file = self.readable(path)?;
        self.state().hashed += 1;
        Ok(HashedFile {
            size: file.contents.len() as u64,
            mtime: file.mtime,
            hash: Blake2bHex::of(&file.contents),
        })
    }

    fn readable(&self, path: &SyncPath) -> Result<MemFile, FileSourceError> {
        self.check_known_item(path)?;
        let state = self.state();
        let p = path.as_str();
        if state.parent_escapes(p) || state.file_links_outside.contains(p) {
            return Err(FileSourceError::SymlinkEscape { path: p.to_owned() });
        }
        if state.failing_reads.contains(p) {
            return Err(FileSourceError::Io {
                operation: "read",
                path: p.to_owned(),
                source: std::io::Error::other("read failure injected by the test"),
            });
        }
        match state.files.get(p) {
            Some(file) => Ok(file.clone()),
            None if state.is_dir(p) => Err(FileSourceError::WrongKind { path: p.to_owned() }),
            None => Err(FileSourceError::NotFound { path: p.to_owned() }),
        }
    }
}

#[async_trait]
impl FileSource for MemoryFileSource {
    fn items(&self) -> &ClusterItems {
        &self.items
    }

    async fn list(&self) -> Result<Vec<FileStat>, FileSourceError> {
        let mut state = self.state();
        state.listed += 1;
        Ok(state
            .files
            .iter()
            .filter(|(p, _)| !state.parent_escapes(p))
            .filter_map(|(p, f)| {
                let path = self.items.confine(p).ok()?;
                Some(FileStat {
                    path,
                    size: f.contents.len() as u64,
                    mtime: f.mtime,
                })
            })
            .collect())
    }

    async fn hash(&self, paths: &[SyncPath]) -> Vec<Result<HashedFile, FileSourceError>> {
        paths.iter().map(|p| self.hash_one(p)).collect()
    }

    async fn read(&self, path: &SyncPath, max_len: u64) -> Result<Vec<u8>, FileSourceError> {
        let file = self.readable(path)?;
        let size = file.contents.len() as u64;
        if size > max_len {
            return Err(FileSourceError::TooLarge {
                path: path.as_str().to_owned(),
                size,
                limit: max_len,
            });
        }
        self.state().read += 1;
        Ok(file.contents)
    }

    async fn write(&self, path: &SyncPath, contents: Vec<u8>) -> Result<(), FileSourceError> {
        let mode = self.check_known_item(path)?;
        let mut state = self.state();
        let p = path.as_str();
        state.check_writable(p)?;
        state.file_links_outside.remove(p);
        let mtime = state.tick();
        state.add_parents(p);
        state.files.insert(
            p.to_owned(),
            MemFile {
                contents,
                mtime,
                mode,
            },
        );
        drop(state);
        self.changed();
        Ok(())
    }

    async fn write_batch(
        &self,
        files: Vec<(SyncPath, Vec<u8>)>,
    ) -> Vec<Result<HashedFile, FileSourceError>> {
        let mut results = Vec::with_capacity(files.len());
        for (path, contents) in files {
            let (size, hash) = (contents.len() as u64, Blake2bHex::of(&contents));
            let result = self.write(&path, contents).await.map(|()| {
                let mut state = self.state();
                state.unsynced += 1;
                let mtime = state.files[path.as_str()].mtime;
                HashedFile { size, mtime, hash }
            });
            results.push(result);
        }
        results
    }

    async fn stage_batch(
        &self,
        files: Vec<(SyncPath, Vec<u8>)>,
    ) -> Vec<Result<StagedFile, FileSourceError>> {
        files
            .into_iter()
            .map(|(path, contents)| {
                self.check_known_item(&path)?;
                let mut state = self.state();
                state.check_writable(path.as_str())?;
                state.next_token += 1;
                let token = state.next_token;
                let file = HashedFile {
                    size: contents.len() as u64,
                    mtime: state.tick(),
                    hash: Blake2bHex::of(&contents),
                };
                state
                    .staged
                    .insert(token, (path.as_str().to_owned(), contents));
                Ok(StagedFile { path, token, file })
            })
            .collect()
    }

    async fn commit_staged(
        &self,
        files: Vec<StagedFile>,
    ) -> Vec<Result<HashedFile, FileSourceError>> {
        let mut results = Vec::with_capacity(files.len());
        for staged in files {
            let taken = self.state().staged.remove(&staged.token);
            let result = match taken {
                Some((path, contents)) if path == staged.path.as_str() => {
                    let hash = Blake2bHex::of(&contents);
                    let size = contents.len() as u64;
                    self.write(&staged.path, contents).await.map(|()| {
                        let mut state = self.state();
                        state.unsynced += 1;
                        let mtime = state.files[staged.path.as_str()].mtime;
                        HashedFile { size, mtime, hash }
                    })
                }
                _ => Err(FileSourceError::NotFound {
                    path: staged.path.as_str().to_owned(),
                }),
            };
            results.push(result);
        }
        results
    }

    async fn discard_staged(&self, files: Vec<StagedFile>) {
        let mut state = self.state();
        for staged in files {
            state.staged.remove(&staged.token);
        }
    }

    async fn sync(&self) -> Result<(), FileSourceError> {
        let mut state = self.state();
        state.unsynced = 0;
        state.syncs += 1;
        Ok(())
    }

    async fn remove(&self, path: &SyncPath) -> Result<bool, FileSourceError> {
        self.check_known_item(path)?;
        let mut state = self.state();
        let p = path.as_str();
        if state.parent_escapes(p) {
            return Err(FileSourceError::SymlinkEscape { path: p.to_owned() });
        }
        if state.is_dir(p) {
            return Err(FileSourceError::WrongKind { path: p.to_owned() });
        }
        let removed = state.files.remove(p).is_some() || state.file_links_outside.remove(p);
        drop(state);
        self.changed();
        Ok(removed)
    }

    async fn prune_empty_dirs(&self, path: &SyncPath) -> Result<usize, FileSourceError> {
        self.check_known_item(path)?;
        let mut state = self.state();
        if state.parent_escapes(path.as_str()) {
            return Err(FileSourceError::SymlinkEscape {
                path: path.as_str().to_owned(),
            });
        }
        let mut pruned = 0;
        for dir in path.dirs_below_item() {
            if !state.dirs.contains(dir) {
                continue;
            }
            let children: Vec<String> = state.children(dir).map(str::to_owned).collect();
            let only_excluded = children.iter().all(|child| {
                state.files.contains_key(child)
                    && self
                        .items
                        .exclusions()
                        .excludes(child.rsplit('/').next().unwrap_or(child))
            });
            if !only_excluded {
                break;
            }
            for child in &children {
                state.files.remove(child);
            }
            state.dirs.remove(dir);
            pruned += 1;
        }
        Ok(pruned)
    }
}

impl Fixture for MemoryFileSource {
    type Source = MemoryFileSource;

    fn source(&self) -> &MemoryFileSource {
        self
    }

    fn plant_file(&self, relpath: &str, contents: &[u8]) {
        self.plant(relpath, contents);
    }

    fn plant_dir_link_outside(&self, relpath: &str) {
        let mut state = self.state();
        state.add_parents(relpath);
        state.dir_links_outside.insert(relpath.to_owned());
        state
            .outside
            .insert("victim".into(), OUTSIDE_VICTIM.to_vec());
        drop(state);
        self.changed();
    }

    fn plant_file_link_outside(&self, relpath: &str) {
        let mut state = self.state();
        state.add_parents(relpath);
        state.file_links_outside.insert(relpath.to_owned());
        state
            .outside
            .insert("victim".into(), OUTSIDE_VICTIM.to_vec());
        drop(state);
        self.changed();
    }

    fn set_mtime(&self, relpath: &str, mtime: ModTime) {
        if let Some(file) = self.state().files.get_mut(relpath) {
            file.mtime = mtime;
        }
        self.changed();
    }

    fn contents(&self, relpath: &str) -> Option<Vec<u8>> {
        self.state().files.get(relpath).map(|f| f.contents.clone())
    }

    fn mode(&self, relpath: &str) -> Option<u32> {
        self.state().files.get(relpath).map(|f| f.mode)
    }

    fn dir_exists(&self, relpath: &str) -> bool {
        self.state().dirs.contains(relpath)
    }

    fn entries_in(&self, relpath: &str) -> Vec<String> {
        let state = self.state();
        let mut names: Vec<String> = state
            .children(relpath)
            .map(|p| p.rsplit('/').next().unwrap_or(p).to_owned())
            .collect();
        names.sort();
        names
    }

    fn outside(&self) -> BTreeMap<String, Vec<u8>> {
        self.state().outside.clone()
    }
}
