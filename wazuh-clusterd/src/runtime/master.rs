//! The master role: TCP listener, core master with integrity sync and agents, and its
//! `get_health` handler for workers.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use wazuh_cluster_core::agents::MasterAgents;
use wazuh_cluster_core::integrity::items::ClusterItems;
use wazuh_cluster_core::{MasterBuilder, MasterHandle};
use wazuh_cluster_proto::Fernet;
use wazuh_cluster_proto::command::names;

use super::{Prepared, files, settings};
use crate::clock::SystemClock;
use crate::config::ClusterConfig;
use crate::control::ControlContext;
use crate::control::commands::agents as agent_cmds;
use crate::control::commands::files::{ClusterFilesHandler, GET_FILES};
use crate::control::health::ClusterHealthHandler;
use crate::net::{MAX_CONNECTIONS_PER_IP, TcpClusterListener};
use crate::node::NodeError;
use crate::storage::SqliteStorage;
use crate::watch::SyncFolderWatcher;

/// Binds `bind_addr:port` and builds the master over the synchronized files of `home`.
pub(super) async fn prepare(
    config: &ClusterConfig,
    home: &Path,
    clock: SystemClock,
    storage: SqliteStorage,
    fernet: Fernet,
) -> Result<Prepared, NodeError> {
    let files = files::disk_files(home)?;
    let addr = SocketAddr::new(config.bind_addr, config.port);
    let listener = TcpClusterListener::bind(addr, fernet, clock, MAX_CONNECTIONS_PER_IP)
        .await
        .map_err(|source| NodeError::Listen { addr, source })?;
    let storage = Arc::new(storage);
    let agents = MasterAgents::new(
        &config.node_name,
        storage.clone(),
        files.clone(),
        Arc::new(clock),
        settings::agents_config(config),
        None,
    );
    let health = ClusterHealthHandler::new(storage.clone(), agents.clone());
    let builder = MasterBuilder::new(
        settings::master_config(config),
        Arc::new(clock),
        storage.clone(),
    )
    .integrity(files, storage.clone(), settings::integrity_config(config))
    .route(names::GET_HEALTH, health.clone())
    .and_then(|b| {
        b.route(
            agent_cmds::protocol::AGENT_LIST,
            agent_cmds::ClusterAgentList::new(storage.clone()),
        )
    })
    .and_then(|b| b.route(GET_FILES, ClusterFilesHandler::new(storage.clone())))
    .expect("the core master answers none of get_health, get_files and the agent list itself");
    let master = agents
        .install(builder)
        .expect("the agent handlers do not overlap the master's own")
        .build();
    let handle = master.handle();
    agents.bind(handle.clone());
    health.set_master(handle.clone());
    let watch = watch_changes(home, handle.clone());
    tracing::info!(tag = "Master", subtag = "Main", "Listening on {addr}.");
    Ok(Prepared {
        role: Box::pin(async move {
            tokio::join!(master.run(listener), watch);
        }),
        control: ControlContext::master(handle, Arc::new(agents.clone()), storage)
            .with_master_agents(agents),
    })
}

/// The watcher on the synchronized folders of `home`, asking `master` for a recalculation
/// after each burst of changes. When it cannot start (logged), the periodic recalculation alone
/// sees changes.
fn watch_changes(home: &Path, master: MasterHandle) -> impl Future<Output = ()> + use<> {
    let watcher = SyncFolderWatcher::start(home, ClusterItems::wazuh_default())
        .inspect_err(|error| tracing::warn!(tag = "Master", subtag = "File watcher", "{error}"))
        .ok();
    async move {
        let Some(watcher) = watcher else { return };
        watcher
            .run(move || {
                tracing::debug!(
                    tag = "Master",
                    subtag = "File watcher",
                    "Synchronized files changed; recalculating the integrity now."
                );
                if let Some(integrity) = master.integrity() {
                    integrity.recalculate_now();
                }
            })
            .await;
    }
}
