//! The worker role: a TCP connector to the master (`nodes[0]:port`), the core worker with its
//! modules (integrity sync, agents), and the watcher of the synchronized folders.

use std::path::Path;
use std::sync::Arc;

use wazuh_cluster_core::WorkerBuilder;
use wazuh_cluster_core::agents::WorkerAgents;
use wazuh_cluster_core::integrity::WorkerIntegrity;
use wazuh_cluster_proto::Fernet;

use super::supervisor::Started;
use super::{NodeError, files, settings};
use crate::clock::SystemClock;
use crate::config::ClusterConfig;
use crate::control::{ControlContext, ControlNode, WorkerView};
use crate::net::{ClusterTls, PeerObserver, ReplayProtection, TcpConnector};
use crate::storage::SqliteStorage;
use crate::watch::SyncFolderWatcher;

/// Starts the worker over the synchronized files of `home`; `storage` keeps its agent-info.
pub(super) fn start(
    config: &ClusterConfig,
    home: &Path,
    clock: SystemClock,
    storage: SqliteStorage,
    fernet: Fernet,
    peers: &PeerObserver,
) -> Result<Started<ControlContext>, NodeError> {
    let files = files::disk_files(home)?;
    let tag = format!("Worker {}", config.node_name);
    // Without failover the master is the first <node>; with it, any master-eligible node but
    // this one may be the master now, and a refusal names the one that is.
    let mut candidates = config
        .nodes
        .iter()
        .enumerate()
        .filter(|&(i, _)| !config.failover || Some(i) != config.own_node)
        .map(|(_, node)| (node.host_string(), node.port_or(config.port)));
    let (host, port) = candidates
        .next()
        .expect("the configuration lists another node than this one");
    let mut connector = TcpConnector::new(host, port, fernet, clock, tag.clone())
        .with_replay(ReplayProtection::from_config(config))
        .with_tls(ClusterTls::from_config(config, home)?)
        .observed_by(peers.clone());
    if config.failover {
        for (host, port) in candidates {
            connector = connector.also(host, port);
        }
    }
    let storage = Arc::new(storage);
    let mut builder = WorkerBuilder::new(
        settings::worker_config(config),
        Arc::new(clock),
        Arc::new(connector),
    );
    let integrity = builder
        .module(|ctx| {
            let spool = Arc::new(crate::fs::DiskSpool::new(home));
            WorkerIntegrity::with_spool(
                ctx,
                files.clone(),
                settings::integrity_config(config),
                spool,
            )
        })
        .expect("the integrity module is the first module");
    let agents = builder
        .module(|ctx| {
            WorkerAgents::new(
                ctx,
                storage.clone(),
                files,
                settings::agents_config(config),
                None,
            )
        })
        .expect("the agent commands are not integrity commands");
    let worker = builder.build();
    let watch = watch_changes(home, &tag, integrity.clone());
    Ok(Started {
        control: ControlContext {
            node: ControlNode::Worker(WorkerView {
                handle: worker.handle(),
                agents,
                integrity,
            }),
            agent_store: storage,
        },
        role: Box::pin(async move {
            tokio::select! {
                () = worker.run() => {}
                () = watch => {}
            }
        }),
    })
}

/// The watcher on the synchronized folders of `home`, telling `integrity` of every change, so
/// that a check whose files did not change neither lists them nor packs their metadata again.
/// When it cannot start (logged), every check lists the files. It stops while the worker
/// receives and applies a container (see [`WorkerIntegrity::applying`]): the events of the
/// apply's own writes cost the worker more than the apply itself at 50,000 files.
fn watch_changes(
    home: &Path,
    tag: &str,
    integrity: Arc<WorkerIntegrity>,
) -> impl Future<Output = ()> + use<> {
    let (home, tag) = (home.to_path_buf(), tag.to_owned());
    let mut applying = integrity.applying();
    async move {
        loop {
            if applying.wait_for(|busy| !*busy).await.is_err() {
                return;
            }
            let Some(watcher) = SyncFolderWatcher::start_or_warn(&home, &tag) else {
                integrity.files_unwatched();
                return;
            };
            integrity.files_watched();
            // What changed while nothing watched is listed at the next check.
            integrity.files_changed();
            let on_change = || integrity.files_changed();
            tokio::select! {
                () = watcher.run(on_change) => return,
                stopped = applying.wait_for(|busy| *busy) => {
                    if stopped.is_err() {
                        return;
                    }
                }
            }
        }
    }
}
