//! The Prometheus exporter: `GET /metrics` in the OpenMetrics text format of
//! `prometheus-client`.
//!
//! Two sources feed it. What happens (task durations, bytes, files, refused connections, a
//! peer's clock offset) is reported through the `metrics` facade by the core
//! ([`wazuh_cluster_core::telemetry`]) and by the connections ([`crate::net`]); the daemon
//! installs a [`FacadeRecorder`] as the process's recorder when `<metrics>` is configured, and
//! without it those calls cost nothing. What *is* (synchronized or not, connected workers,
//! agents per node and status) is read from the node at each scrape ([`scrape`]).
//!
//! The process-wide recorder is set once, at start ([`Exporter::install`]); tests of the
//! recorder use `metrics::with_local_recorder` instead, so they never race each other.
//!
//! Memory budgets: the master's node-wide budget of incomplete divided messages (used and
//! limit); the per-connection limits are fixed sizes and not exported.

pub mod names;
mod recorder;
pub mod scrape;

use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

pub use names::{CATALOG, MetricKind, MetricSpec};
pub use recorder::{FacadeRecorder, FloatGauge, Labels, duration_buckets};

/// The registry every metric is encoded from, and the gauges set at scrape time.
pub struct Exporter {
    registry: Registry,
    gauges: scrape::ScrapeGauges,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exporter").finish_non_exhaustive()
    }
}

impl Exporter {
    /// An exporter with every family of [`CATALOG`], and the recorder that feeds it from the
    /// `metrics` facade.
    pub fn new() -> (Self, FacadeRecorder) {
        let mut registry = Registry::default();
        let mut recorder = FacadeRecorder::default();
        for spec in &CATALOG {
            match spec.kind {
                MetricKind::Counter => recorder.counter(&mut registry, spec.name, spec.help),
                MetricKind::Gauge => recorder.gauge(&mut registry, spec.name, spec.help),
                MetricKind::Histogram => {
                    recorder.histogram(&mut registry, spec.name, spec.help, duration_buckets())
                }
            }
        }
        let gauge = |name| {
            recorder
                .gauge_family(name)
                .unwrap_or_else(|| panic!("{name} is a gauge of the catalog"))
        };
        let gauges = scrape::ScrapeGauges {
            synchronized: gauge(names::SYNCHRONIZED),
            node_info: gauge(names::NODE_INFO),
            connected_workers: gauge(names::CONNECTED_WORKERS),
            master_connected: gauge(names::MASTER_CONNECTED),
            agents: gauge(names::AGENTS),
            memory_budget: gauge(names::MEMORY_BUDGET_BYTES),
        };
        (Self { registry, gauges }, recorder)
    }

    /// A new exporter whose recorder is the process's `metrics` recorder from now on. Fails
    /// when the process already has one (an embedder installed its own): the scrape-time
    /// figures are still exported then.
    pub fn install() -> (Self, Result<(), String>) {
        let (exporter, recorder) = Self::new();
        let installed = metrics::set_global_recorder(recorder).map_err(|e| e.to_string());
        (exporter, installed)
    }

    /// Refreshes the scrape-time figures from `node` and encodes every metric.
    pub async fn scrape(&self, node: &scrape::NodeView) -> String {
        self.gauges.refresh(node).await;
        self.encode()
    }

    /// Encodes every metric as they stand.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

/// A gauge family keyed by labels.
pub type GaugeFamily = Family<Labels, FloatGauge>;
