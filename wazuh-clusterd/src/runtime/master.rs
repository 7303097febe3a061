//! The master role: TCP listener, the core master and its modules (integrity sync, agents,
//! health, the answers to workers' control requests), and the watcher of the synchronized
//! folders.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use wazuh_cluster_core::MasterBuilder;
use wazuh_cluster_core::agents::MasterAgents;
use wazuh_cluster_core::integrity::MasterIntegrity;
use wazuh_cluster_proto::Fernet;

use super::failover::FailoverNode;
use super::failover::manifest;
use super::failover::master_side::{self, RaftModule};
use super::supervisor::Started;
use super::{NodeError, files, settings};
use crate::clock::SystemClock;
use crate::config::ClusterConfig;
use crate::control::cluster_queries::ClusterQueries;
use crate::control::health::HealthModule;
use crate::control::{ControlContext, ControlNode, MasterView};
use crate::net::{
    ClusterTls, MAX_PRE_HELLO_PER_IP, PeerObserver, ReplayProtection, TcpClusterListener,
};
use crate::storage::SqliteStorage;
use crate::watch::SyncFolderWatcher;

/// Binds `bind_addr:port` and starts the master over the synchronized files of `home`. With
/// `failover`, the master also answers the Raft RPCs, registers agents through the replicated
/// registry, and adopts the committed registry before it serves.
pub(super) async fn start(
    config: &ClusterConfig,
    home: &Path,
    clock: SystemClock,
    storage: SqliteStorage,
    fernet: Fernet,
    peers: &PeerObserver,
    failover: Option<&FailoverNode>,
) -> Result<Started<ControlContext>, NodeError> {
    let files = files::disk_files(home)?;
    let addr = SocketAddr::new(config.bind_addr, config.port);
    let listener = TcpClusterListener::bind(addr, fernet, clock, MAX_PRE_HELLO_PER_IP)
        .await
        .map_err(|source| NodeError::Listen { addr, source })?
        .with_replay(ReplayProtection::from_config(config))
        .with_tls(ClusterTls::from_config(config, home)?)
        .observed_by(peers.clone());
    let storage = Arc::new(storage);
    let mut builder = MasterBuilder::new(
        settings::master_config(config),
        Arc::new(clock),
        storage.clone(),
    );
    let integrity = builder
        .module(|ctx| {
            MasterIntegrity::with_spool(
                ctx,
                files.clone(),
                storage.clone(),
                settings::integrity_config(config),
                Arc::new(crate::fs::DiskSpool::new(home)),
            )
        })
        .expect("the integrity module is the first module");
    let agents = builder
        .module(|ctx| {
            let (store, config) = (storage.clone(), settings::agents_config(config));
            match failover {
                None => MasterAgents::new(ctx, store, files, config, None),
                Some(failover) => MasterAgents::with_backend(
                    ctx,
                    store,
                    files,
                    config,
                    None,
                    master_side::backend(failover),
                ),
            }
        })
        .expect("the agent commands are not integrity commands");
    if let Some(failover) = failover {
        builder
            .module(|_| Arc::new(RaftModule(failover.clone())))
            .expect("the Raft commands belong to no other module");
        master_side::adopt_committed(failover, &agents).await?;
    }
    builder
        .module(|ctx| HealthModule::new(ctx, integrity.clone(), agents.clone(), storage.clone()))
        .and_then(|_| builder.module(|_| ClusterQueries::new(storage.clone(), storage.clone())))
        .expect("get_health, get_files and agent_list belong to no other module");
    let handle = builder.handle();
    let master = builder.build();
    let watch = watch_changes(home, integrity.clone());
    let manifest = failover.map(|node| manifest::publish(node.clone(), integrity.clone()));
    let manifest = async move {
        match manifest {
            Some(publish) => publish.await,
            None => std::future::pending().await,
        }
    };
    tracing::info!(tag = "Master", subtag = "Main", "Listening on {addr}.");
    Ok(Started {
        role: Box::pin(async move {
            tokio::select! {
                ((), ()) = async { tokio::join!(master.run(listener), watch) } => {}
                () = manifest => {}
            }
        }),
        control: ControlContext {
            node: ControlNode::Master(MasterView {
                handle,
                agents,
                integrity,
            }),
            agent_store: storage,
        },
    })
}

/// The watcher on the synchronized folders of `home`, asking `integrity` for a recalculation
/// after each burst of changes (the periodic recalculation then lists the files only after a
/// reported change). When it cannot start (logged), the periodic recalculation alone sees
/// changes.
fn watch_changes(home: &Path, integrity: Arc<MasterIntegrity>) -> impl Future<Output = ()> + use<> {
    let watcher = SyncFolderWatcher::start_or_warn(home, "Master");
    if watcher.is_some() {
        integrity.files_watched();
    }
    SyncFolderWatcher::run_if_started(watcher, move || {
        tracing::debug!(
            tag = "Master",
            subtag = "File watcher",
            "Synchronized files changed; recalculating the integrity now."
        );
        integrity.recalculate_now();
    })
}
