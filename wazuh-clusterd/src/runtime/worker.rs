//! The worker role: a TCP connector to the master (`nodes[0]:port`) and the core worker with
//! integrity sync and agents.

use std::path::Path;
use std::sync::Arc;

use wazuh_cluster_core::WorkerBuilder;
use wazuh_cluster_core::agents::WorkerAgents;
use wazuh_cluster_proto::Fernet;

use super::{Prepared, files, settings};
use crate::clock::SystemClock;
use crate::config::ClusterConfig;
use crate::control::ControlContext;
use crate::net::TcpConnector;
use crate::node::NodeError;
use crate::storage::SqliteStorage;

/// Builds the worker over the synchronized files of `home`; `storage` keeps its agent-info.
pub(super) fn prepare(
    config: &ClusterConfig,
    home: &Path,
    clock: SystemClock,
    storage: SqliteStorage,
    fernet: Fernet,
) -> Result<Prepared, NodeError> {
    let files = files::disk_files(home)?;
    let tag = format!("Worker {}", config.node_name);
    let connector = TcpConnector::new(
        config.master_address().to_string(),
        config.port,
        fernet,
        clock,
        tag,
    );
    let storage = Arc::new(storage);
    let agents = WorkerAgents::new(
        &config.node_name,
        storage.clone(),
        files.clone(),
        Arc::new(clock),
        settings::agents_config(config),
        None,
    );
    let builder = WorkerBuilder::new(
        settings::worker_config(config),
        Arc::new(clock),
        Arc::new(connector),
    )
    .integrity(files, settings::integrity_config(config));
    let worker = agents
        .install(builder)
        .expect("the agent handlers do not overlap the worker's own")
        .build();
    let handle = worker.handle();
    agents.bind(handle.clone());
    Ok(Prepared {
        control: ControlContext::worker(handle, Arc::new(agents), storage),
        role: Box::pin(worker.run()),
    })
}
