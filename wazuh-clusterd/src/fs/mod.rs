//! [`DiskFileSource`]: the synchronized files on the real filesystem, under the Wazuh home.
//!
//! Every operation runs on tokio's blocking pool. Paths are confined component by component
//! (see `resolve`): a symbolic link on the way must resolve inside the home, and inside the
//! item's folder below it; folders that would be created below an escaping link are never
//! created. Listings skip symbolic links. Writes go to `.<name>.<random>.tmp` in the same folder
//! with the item's permissions, are fsynced, renamed over the target, and the folder is fsynced.
//! Batches (`write_batch`) skip both fsyncs, run on several blocking threads, and are made
//! durable by `sync` with one `syncfs(2)` per filesystem (see `durability`);
//! [`DiskFileSource::remove_leftover_temps`] clears what a killed batch left behind.
//!
//! Limits: resolution and the operation are separate system calls, so a local user who can
//! swap a folder for a link between them could still redirect one operation (closing that
//! needs `openat2(RESOLVE_BENEATH)`); item folders that are themselves links are refused.
//! Ownership: as Wazuh's `chown wazuh:wazuh` when the daemon runs as root and a `wazuh` user
//! exists ([`FileOwner`]), else the process's own user.

mod durability;
mod hash;
mod ops;
mod owner;
mod parallel;
mod resolve;
mod spool;
mod staging;
mod temp;
mod walk;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use wazuh_cluster_core::files::ClusterItems;
use wazuh_cluster_core::files::{
    FileSource, FileSourceError, FileStat, HashedFile, StagedFile, SyncPath,
};
use wazuh_cluster_proto::payload::Blake2bHex;

use ops::Durability;
pub use owner::FileOwner;
pub use spool::DiskSpool;

fn blocking_failure(operation: &'static str, why: String) -> FileSourceError {
    FileSourceError::Io {
        operation,
        path: String::new(),
        source: std::io::Error::other(why),
    }
}

pub(crate) struct Inner {
    home: PathBuf,
    items: ClusterItems,
    owner: Option<FileOwner>,
}

/// The synchronized files of the Wazuh home `DIR` on disk.
#[derive(Clone)]
pub struct DiskFileSource {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for DiskFileSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskFileSource")
            .field("home", &self.inner.home)
            .finish_non_exhaustive()
    }
}

impl DiskFileSource {
    /// Serves `items` under `home`, which must exist (it is canonicalized once here). Files
    /// written get `wazuh:wazuh` when the process runs as root and that user exists
    /// ([`FileOwner::wazuh_if_root`]).
    pub fn new(home: impl AsRef<Path>, items: ClusterItems) -> std::io::Result<Self> {
        Self::with_owner(home, items, FileOwner::wazuh_if_root())
    }

    /// Like [`DiskFileSource::new`], with the owner of written files chosen by the caller
    /// (`None`: the process's own user).
    pub fn with_owner(
        home: impl AsRef<Path>,
        items: ClusterItems,
        owner: Option<FileOwner>,
    ) -> std::io::Result<Self> {
        let home = std::fs::canonicalize(home)?;
        Ok(DiskFileSource {
            inner: Arc::new(Inner { home, items, owner }),
        })
    }

    /// The canonical Wazuh home.
    pub fn home(&self) -> &Path {
        &self.inner.home
    }

    /// Removes the temporary files that writes interrupted by a crash left in the items'
    /// folders (never listed, but they take space); returns how many. Call it at start, before
    /// serving.
    pub fn remove_leftover_temps(&self) -> Result<usize, FileSourceError> {
        durability::remove_leftover_temps(&self.inner.home, &self.inner.items)
    }

    fn item_mode(&self, path: &SyncPath) -> Result<u32, FileSourceError> {
        self.inner
            .items
            .get(path.item_key())
            .map(|item| item.permissions)
            .ok_or_else(|| FileSourceError::UnknownItem {
                path: path.as_str().to_owned(),
                item_key: path.item_key().to_owned(),
            })
    }

    /// One file of a batch: confined, atomic, not flushed.
    fn write_later(&self, path: &SyncPath, contents: &[u8]) -> Result<HashedFile, FileSourceError> {
        let mode = self.item_mode(path)?;
        let inner = &self.inner;
        let written = ops::write_atomic(
            &inner.home,
            path,
            mode,
            inner.owner,
            contents,
            Durability::Later,
        )?;
        Ok(HashedFile {
            size: written.len(),
            mtime: walk::mod_time(&written),
            hash: Blake2bHex::of(contents),
        })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        path: &SyncPath,
        work: impl FnOnce(&Inner) -> Result<T, FileSourceError> + Send + 'static,
    ) -> Result<T, FileSourceError> {
        self.item_mode(path)?;
        let inner = Arc::clone(&self.inner);
        let shown = path.as_str().to_owned();
        tokio::task::spawn_blocking(move || work(&inner))
            .await
            .map_err(|join| FileSourceError::Io {
                operation: "run the blocking file task for",
                path: shown,
                source: std::io::Error::other(join.to_string()),
            })?
    }
}

#[async_trait]
impl FileSource for DiskFileSource {
    fn items(&self) -> &ClusterItems {
        &self.inner.items
    }

    async fn list(&self) -> Result<Vec<FileStat>, FileSourceError> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || walk::list(&inner.home, &inner.items))
            .await
            .map_err(|join| FileSourceError::Io {
                operation: "list",
                path: String::new(),
                source: std::io::Error::other(join.to_string()),
            })?
    }

    async fn hash(&self, paths: &[SyncPath]) -> Vec<Result<HashedFile, FileSourceError>> {
        let (known, unknown): (Vec<_>, Vec<_>) = paths
            .iter()
            .enumerate()
            .partition(|(_, p)| self.item_mode(p).is_ok());
        if unknown.is_empty() {
            return hash::hash_many(&self.inner, paths).await;
        }
        let known_paths: Vec<SyncPath> = known.iter().map(|(_, p)| (*p).clone()).collect();
        let mut hashed = hash::hash_many(&self.inner, &known_paths).await.into_iter();
        paths
            .iter()
            .map(|p| match self.item_mode(p) {
                Ok(_) => hashed.next().expect("one result per known path"),
                Err(e) => Err(e),
            })
            .collect()
    }

    async fn read(&self, path: &SyncPath, max_len: u64) -> Result<Vec<u8>, FileSourceError> {
        let p = path.clone();
        self.blocking(path, move |inner| ops::read(&inner.home, &p, max_len))
            .await
    }

    async fn write(&self, path: &SyncPath, contents: Vec<u8>) -> Result<(), FileSourceError> {
        let mode = self.item_mode(path)?;
        let p = path.clone();
        self.blocking(path, move |inner| {
            ops::write_atomic(
                &inner.home,
                &p,
                mode,
                inner.owner,
                &contents,
                Durability::Now,
            )
            .map(drop)
        })
        .await
    }

    async fn write_batch(
        &self,
        files: Vec<(SyncPath, Vec<u8>)>,
    ) -> Vec<Result<HashedFile, FileSourceError>> {
        let source = self.clone();
        parallel::map_blocking(
            files,
            move |(path, contents)| source.write_later(&path, &contents),
            |why| blocking_failure("run the blocking batch write for", why),
        )
        .await
    }

    async fn read_batch(
        &self,
        paths: &[SyncPath],
        max_len: u64,
    ) -> Vec<Result<Vec<u8>, FileSourceError>> {
        let source = self.clone();
        parallel::map_blocking(
            paths.to_vec(),
            move |path| {
                source.item_mode(&path)?;
                ops::read(&source.inner.home, &path, max_len)
            },
            |why| blocking_failure("run the blocking batch read for", why),
        )
        .await
    }

    async fn stage_batch(
        &self,
        files: Vec<(SyncPath, Vec<u8>)>,
    ) -> Vec<Result<StagedFile, FileSourceError>> {
        let source = self.clone();
        parallel::map_blocking(
            files,
            move |(path, contents)| {
                let mode = source.item_mode(&path)?;
                let token = rand::random::<u64>();
                let inner = &source.inner;
                let written =
                    staging::stage(&inner.home, &path, token, mode, inner.owner, &contents)?;
                let file = HashedFile {
                    size: written.len(),
                    mtime: walk::mod_time(&written),
                    hash: Blake2bHex::of(&contents),
                };
                Ok(StagedFile { path, token, file })
            },
            |why| blocking_failure("run the blocking staging of", why),
        )
        .await
    }

    async fn commit_staged(
        &self,
        files: Vec<StagedFile>,
    ) -> Vec<Result<HashedFile, FileSourceError>> {
        let source = self.clone();
        parallel::map_blocking(
            files,
            move |staged| {
                source.item_mode(&staged.path)?;
                staging::commit(&source.inner.home, &staged.path, staged.token)?;
                Ok(staged.file)
            },
            |why| blocking_failure("run the blocking commit of", why),
        )
        .await
    }

    async fn discard_staged(&self, files: Vec<StagedFile>) {
        let source = self.clone();
        let results = parallel::map_blocking(
            files,
            move |staged| staging::discard(&source.inner.home, &staged.path, staged.token),
            |why| blocking_failure("run the blocking discard of", why),
        )
        .await;
        for error in results.into_iter().filter_map(Result::err) {
            tracing::debug!(
                subtag = "Integrity sync",
                "A staged file stays until the next start: {error}"
            );
        }
    }

    async fn sync(&self) -> Result<(), FileSourceError> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || durability::sync_filesystems(&inner.home, &inner.items))
            .await
            .map_err(|join| FileSourceError::Io {
                operation: "run the blocking sync for",
                path: String::new(),
                source: std::io::Error::other(join.to_string()),
            })?
    }

    async fn remove(&self, path: &SyncPath) -> Result<bool, FileSourceError> {
        let p = path.clone();
        self.blocking(path, move |inner| ops::remove(&inner.home, &p))
            .await
    }

    async fn prune_empty_dirs(&self, path: &SyncPath) -> Result<usize, FileSourceError> {
        let p = path.clone();
        self.blocking(path, move |inner| ops::prune(&inner.home, &inner.items, &p))
            .await
    }
}
