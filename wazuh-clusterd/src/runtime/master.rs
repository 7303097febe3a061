//! The master role: TCP listener, core master, and its `get_health` handler for workers.

use std::net::SocketAddr;
use std::sync::Arc;

use wazuh_cluster_core::MasterBuilder;
use wazuh_cluster_proto::Fernet;
use wazuh_cluster_proto::command::names;

use super::{Prepared, settings};
use crate::clock::SystemClock;
use crate::config::ClusterConfig;
use crate::control::ControlContext;
use crate::control::health::ClusterHealthHandler;
use crate::net::{MAX_CONNECTIONS_PER_IP, TcpClusterListener};
use crate::node::NodeError;
use crate::storage::SqliteStorage;

/// Binds `bind_addr:port` and builds the master.
pub(super) async fn prepare(
    config: &ClusterConfig,
    clock: SystemClock,
    storage: SqliteStorage,
    fernet: Fernet,
) -> Result<Prepared, NodeError> {
    let addr = SocketAddr::new(config.bind_addr, config.port);
    let listener = TcpClusterListener::bind(addr, fernet, clock, MAX_CONNECTIONS_PER_IP)
        .await
        .map_err(|source| NodeError::Listen { addr, source })?;
    let health = ClusterHealthHandler::new();
    let master = MasterBuilder::new(
        settings::master_config(config),
        Arc::new(clock),
        Arc::new(storage),
    )
    .route(names::GET_HEALTH, health.clone())
    .expect("the core master does not answer get_health itself")
    .build();
    let handle = master.handle();
    health.set_master(handle.clone());
    tracing::info!(tag = "Master", subtag = "Main", "Listening on {addr}.");
    Ok(Prepared {
        role: Box::pin(master.run(listener)),
        control: ControlContext::Master(handle),
    })
}
