//! The operations endpoint of a running node: `<metrics><listen>` serves the Prometheus metrics
//! (`GET /metrics`, [`crate::metrics`]) and the load-balancer health check (`GET /health`,
//! [`lb_health`]) on one small HTTP listener ([`crate::http`]).
//!
//! [`Operations::prepare`] binds the listener (a bind failure stops the start, like the
//! cluster port's) and installs the metrics recorder before the role accepts connections, so
//! every connection reports; [`Operations::run`] serves until the node stops. Without
//! `<metrics>` nothing is bound and the facade calls cost nothing.

pub mod lb_health;

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::watch;

use crate::config::ClusterConfig;
use crate::control::ControlContext;
use crate::http::{Endpoints, HttpServer, Response};
use crate::metrics::Exporter;
use crate::metrics::scrape::NodeView;
use crate::net::PeerObserver;

/// The endpoint could not listen on `<metrics><listen>`.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot serve the metrics on {addr} (<metrics><listen>): {source}; is the port taken, or the \
     address not this machine's?"
)]
pub struct MetricsListenError {
    /// The address from `<metrics><listen>`.
    pub addr: std::net::SocketAddr,
    /// What the operating system said.
    pub source: std::io::Error,
}

/// The operations side of a running node.
pub struct Operations {
    view: NodeView,
    http: Option<(HttpServer, Exporter)>,
}

impl Operations {
    /// Prepares the endpoint of the node `config` describes, looking at the running role in
    /// `control` and at the memory budgets of its connections in `peers`.
    pub async fn prepare(
        config: &ClusterConfig,
        control: watch::Receiver<ControlContext>,
        peers: PeerObserver,
    ) -> Result<Self, MetricsListenError> {
        let view = NodeView {
            control,
            peers,
            name: config.node_name.clone(),
            cluster: config.name.clone(),
            version: config.version.clone(),
        };
        let Some(addr) = config.operations.metrics_listen else {
            return Ok(Self { view, http: None });
        };
        let server = HttpServer::bind(addr)
            .await
            .map_err(|source| MetricsListenError { addr, source })?;
        let (exporter, installed) = Exporter::install();
        if let Err(error) = installed {
            tracing::warn!(
                tag = "Cluster",
                subtag = "Metrics",
                "The task metrics are not exported: {error}."
            );
        }
        tracing::info!(
            tag = "Cluster",
            subtag = "Metrics",
            "Serving GET /metrics and GET /health on http://{}.",
            server.local_addr().unwrap_or(addr)
        );
        Ok(Self {
            view,
            http: Some((server, exporter)),
        })
    }

    /// Serves the endpoint until the node stops (for ever without `<metrics>`).
    pub async fn run(self) {
        match self.http {
            Some((server, exporter)) => {
                let endpoints = OpsEndpoints {
                    view: self.view,
                    exporter,
                };
                server.serve(Arc::new(endpoints)).await;
            }
            None => std::future::pending().await,
        }
    }
}

struct OpsEndpoints {
    view: NodeView,
    exporter: Exporter,
}

#[async_trait]
impl Endpoints for OpsEndpoints {
    async fn get(&self, path: &str) -> Response {
        match path {
            "/metrics" => Response {
                status: 200,
                content_type: "application/openmetrics-text; version=1.0.0; charset=utf-8",
                body: self.exporter.scrape(&self.view).await,
            },
            "/health" => lb_health::health(&self.view).await,
            _ => Response::text(404, "not found; try /metrics or /health\n"),
        }
    }
}
