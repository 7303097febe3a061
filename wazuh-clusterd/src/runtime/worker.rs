//! The worker role: a TCP connector to the master (`nodes[0]:port`) and the core worker.

use std::sync::Arc;

use wazuh_cluster_core::WorkerBuilder;
use wazuh_cluster_proto::Fernet;

use super::{Prepared, settings};
use crate::clock::SystemClock;
use crate::config::ClusterConfig;
use crate::control::ControlContext;
use crate::net::TcpConnector;

/// Builds the worker.
pub(super) fn prepare(config: &ClusterConfig, clock: SystemClock, fernet: Fernet) -> Prepared {
    let tag = format!("Worker {}", config.node_name);
    let connector = TcpConnector::new(
        config.master_address().to_string(),
        config.port,
        fernet,
        clock,
        tag,
    );
    let worker = WorkerBuilder::new(
        settings::worker_config(config),
        Arc::new(clock),
        Arc::new(connector),
    )
    .build();
    Prepared {
        control: ControlContext::Worker(worker.handle()),
        role: Box::pin(worker.run()),
    }
}
