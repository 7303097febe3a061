//! Prompt change detection: a [`notify`] watcher on the synchronized folders. On the master it
//! asks for an immediate recalculation of the metadata table; on a worker it tells the
//! integrity check that its files changed (a check whose files did not change neither lists
//! them nor packs their metadata again).
//!
//! Every item folder of [`ClusterItems`] under the home is watched (recursively when the item
//! is); an event on a path the items hold (see [`ClusterItems::item_for`]: `etc/ossec.conf`,
//! `*.tmp`, `*.swp`... are ignored) starts a debounce window (see [`debounce`]), at whose end
//! the callback runs once, however many events came. Reads (`Access` events) are ignored; an
//! error or a lost-events notice from the kernel counts as a change.
//!
//! Latency on the master: the recalculation then tells the connected workers (`syn_m_chg`), so
//! a change reaches them within the debounce window plus the recalculation and the transfer.
//! The periodic `recalculate_integrity` stays as the safety net (for folders replaced while
//! unwatched, or a watcher that could not start); on a worker, the full rehash schedule.

pub mod debounce;

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use thiserror::Error;
use tokio::sync::mpsc;
use wazuh_cluster_core::files::ClusterItems;

/// How long a burst of changes is gathered before one recalculation.
pub const DEBOUNCE: Duration = Duration::from_millis(100);

/// The watcher could not start; the node runs on with the periodic recalculation only.
#[derive(Debug, Error)]
pub enum WatchError {
    /// The home could not be resolved.
    #[error("cannot resolve the installation folder {path}: {source}")]
    Home {
        /// The home.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A folder could not be watched (missing, or the inotify limits are reached).
    #[error(
        "cannot watch {path} for changes: {source}; changes there are seen at the next periodic \
         recalculation only (raise fs.inotify.max_user_watches if the limit was reached)"
    )]
    Watch {
        /// The folder.
        path: PathBuf,
        /// What notify said.
        source: notify::Error,
    },
}

/// A running watcher on the synchronized folders; dropping it stops the watch.
pub struct SyncFolderWatcher {
    _watcher: RecommendedWatcher,
    changes: mpsc::Receiver<()>,
}

impl std::fmt::Debug for SyncFolderWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncFolderWatcher").finish_non_exhaustive()
    }
}

impl SyncFolderWatcher {
    /// Watches the folders of `items` under `home` (each must exist); `tag` names the node in
    /// the warnings of the watcher.
    pub fn start(home: &Path, items: ClusterItems, tag: String) -> Result<Self, WatchError> {
        let home = std::fs::canonicalize(home).map_err(|source| WatchError::Home {
            path: home.to_path_buf(),
            source,
        })?;
        let (sender, changes) = mpsc::channel(1);
        let folders: Vec<(PathBuf, bool)> = items
            .items()
            .iter()
            .map(|item| (home.join(item.key.trim_end_matches('/')), item.recursive))
            .collect();
        let handler_home = home.clone();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
                Ok(event) if is_relevant(&event, &handler_home, &items) => {
                    // A full channel already holds a pending change: nothing is lost.
                    let _ = sender.try_send(());
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(
                        tag = tag.as_str(),
                        subtag = "File watcher",
                        "{error}; the synchronized files are looked at again in full."
                    );
                    let _ = sender.try_send(());
                }
            })
            .map_err(|source| WatchError::Watch {
                path: home.clone(),
                source,
            })?;
        for (folder, recursive) in folders {
            let mode = if recursive {
                RecursiveMode::Recursive
            } else {
                RecursiveMode::NonRecursive
            };
            watcher
                .watch(&folder, mode)
                .map_err(|source| WatchError::Watch {
                    path: folder.clone(),
                    source,
                })?;
        }
        Ok(Self {
            _watcher: watcher,
            changes,
        })
    }

    /// Calls `on_change` once per burst of changes, [`DEBOUNCE`] after its first event, until
    /// the watcher is dropped with the future.
    pub async fn run(mut self, on_change: impl FnMut()) {
        debounce::debounce(&mut self.changes, DEBOUNCE, on_change).await;
    }

    /// [`start`](Self::start) with Wazuh's items, a failure logged as a warning (the node then
    /// sees changes on its periodic schedule only).
    pub fn start_or_warn(home: &Path, tag: &str) -> Option<Self> {
        Self::start(home, ClusterItems::wazuh_default(), tag.to_owned())
            .inspect_err(|error| tracing::warn!(tag, subtag = "File watcher", "{error}"))
            .ok()
    }

    /// [`run`](Self::run) for a watcher that may not have started: without one, never returns.
    pub async fn run_if_started(watcher: Option<Self>, on_change: impl FnMut()) {
        match watcher {
            Some(watcher) => watcher.run(on_change).await,
            None => std::future::pending().await,
        }
    }
}

/// Whether `event` changed a synchronized file (or a folder that holds them).
fn is_relevant(event: &notify::Event, home: &Path, items: &ClusterItems) -> bool {
    if event.need_rescan() {
        return true;
    }
    if matches!(event.kind, EventKind::Access(_)) {
        return false;
    }
    event.paths.iter().any(|path| {
        path.strip_prefix(home)
            .ok()
            .and_then(Path::to_str)
            .is_some_and(|relative| items.item_for(relative).is_some())
    })
}

#[cfg(test)]
mod tests {
    use notify::event::{AccessKind, CreateKind, ModifyKind};

    use super::*;

    fn event(kind: EventKind, path: &str) -> notify::Event {
        notify::Event::new(kind).add_path(PathBuf::from("/home/ossec").join(path))
    }

    #[test]
    fn only_writes_to_synchronized_paths_count() {
        let items = ClusterItems::wazuh_default();
        let home = Path::new("/home/ossec");
        let relevant = |kind, path| is_relevant(&event(kind, path), home, &items);
        let modify = EventKind::Modify(ModifyKind::Any);
        assert!(relevant(modify, "etc/client.keys"));
        assert!(relevant(modify, "etc/shared/default/agent.conf"));
        assert!(relevant(
            EventKind::Create(CreateKind::Folder),
            "etc/shared/web"
        ));
        assert!(relevant(modify, "var/multigroups/abc/merged.mg"));
        assert!(!relevant(modify, "etc/ossec.conf"));
        assert!(!relevant(modify, "etc/shared/default/.agent.conf.x1.tmp"));
        assert!(!relevant(
            EventKind::Access(AccessKind::Any),
            "etc/client.keys"
        ));
        assert!(!relevant(modify, "../elsewhere/etc/client.keys"));
        let lost = notify::Event::new(EventKind::Other).set_flag(notify::event::Flag::Rescan);
        assert!(is_relevant(&lost, home, &items), "lost events count");
    }

    #[tokio::test]
    async fn a_write_in_a_watched_folder_is_reported() {
        let home = tempfile::tempdir().unwrap();
        let items = ClusterItems::wazuh_default();
        for item in items.items() {
            std::fs::create_dir_all(home.path().join(&item.key)).unwrap();
        }
        let watcher = SyncFolderWatcher::start(home.path(), items, "Master".into()).unwrap();
        let (seen, mut seen_rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(watcher.run(move || {
            let _ = seen.send(());
        }));
        std::fs::create_dir_all(home.path().join("etc/shared/web")).unwrap();
        std::fs::write(home.path().join("etc/shared/web/agent.conf"), b"<x/>").unwrap();
        let reported = tokio::time::timeout(Duration::from_secs(10), seen_rx.recv()).await;
        task.abort();
        assert_eq!(reported, Ok(Some(())), "the write was reported");
    }
}
