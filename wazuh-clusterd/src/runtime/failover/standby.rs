//! The standby role of a master-eligible node that is not the master: a worker of the current
//! master (it receives `client.keys`, `etc/shared` and the rest, ready to take over), and on
//! its own cluster port the redirections that send workers to the master, beside the Raft RPCs
//! of the other members.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use tokio::sync::watch;
use wazuh_cluster_core::redirect::serve_redirects;
use wazuh_cluster_core::session::Router;
use wazuh_cluster_proto::Fernet;
use wazuh_cluster_proto::payload::MasterLocation;

use super::super::supervisor::Started;
use super::super::{NodeError, worker};
use super::FailoverNode;
use crate::clock::SystemClock;
use crate::config::ClusterConfig;
use crate::control::ControlContext;
use crate::net::{
    ClusterTls, MAX_PRE_HELLO_PER_IP, PeerObserver, ReplayProtection, TcpClusterListener,
};
use crate::storage::SqliteStorage;

/// What the standby role is started from, beside the worker's own needs.
pub struct Standby<'a> {
    /// The Raft membership.
    pub failover: &'a FailoverNode,
    /// Where the master is now.
    pub master: watch::Receiver<Option<MasterLocation>>,
}

impl Standby<'_> {
    /// Binds the cluster port for redirections and Raft, and starts the worker.
    pub async fn start(
        &self,
        config: &ClusterConfig,
        home: &Path,
        clock: SystemClock,
        storage: SqliteStorage,
        fernet: Fernet,
        peers: &PeerObserver,
    ) -> Result<Started<ControlContext>, NodeError> {
        let addr = SocketAddr::new(config.bind_addr, config.port);
        let listener = TcpClusterListener::bind(addr, fernet.clone(), clock, MAX_PRE_HELLO_PER_IP)
            .await
            .map_err(|source| NodeError::Listen { addr, source })?
            .with_replay(ReplayProtection::from_config(config))
            .with_tls(ClusterTls::from_config(config, home)?)
            .observed_by(peers.clone());
        let mut routes = Router::new();
        self.failover
            .install_routes(&mut routes)
            .expect("a fresh router has no routes");
        let redirects = serve_redirects(
            listener,
            self.master.clone(),
            Arc::new(clock),
            "Standby",
            routes,
        );
        let worker = worker::start(config, home, clock, storage, fernet, peers)?;
        tracing::info!(
            tag = "Cluster",
            subtag = "Raft",
            "Standby on {addr}: answering Raft and sending workers to the master."
        );
        let run_worker = worker.role;
        Ok(Started {
            role: Box::pin(async move {
                tokio::select! {
                    served = redirects => if let Err(error) = served {
                        tracing::error!(tag = "Cluster", subtag = "Raft", "{error}");
                    },
                    () = run_worker => {}
                }
            }),
            control: worker.control,
        })
    }
}
