//! The figures read from the node at each scrape: synchronized or not, node identity,
//! connections, agents per node and status.

use std::collections::BTreeMap;

use tokio::sync::watch;

use super::{GaugeFamily, Labels};
use crate::control::{ControlContext, ControlNode};

/// What a scrape looks at: the running role (it may change) and how the node is named.
#[derive(Clone)]
pub struct NodeView {
    /// The running role, its modules and agent store.
    pub control: watch::Receiver<ControlContext>,
    /// `<node_name>`.
    pub name: String,
    /// `<name>`.
    pub cluster: String,
    /// The Wazuh version it announces.
    pub version: String,
    /// What the connections report to, with the memory budgets they share.
    pub peers: crate::net::PeerObserver,
}

impl NodeView {
    /// The running role now.
    pub fn current(&self) -> ControlContext {
        self.control.borrow().clone()
    }
}

/// `master` or `worker`.
pub fn role_name(node: &ControlNode) -> &'static str {
    match node {
        ControlNode::Master(_) => "master",
        ControlNode::Worker(_) => "worker",
    }
}

/// The gauge families set at scrape time.
pub(super) struct ScrapeGauges {
    pub synchronized: GaugeFamily,
    pub node_info: GaugeFamily,
    pub connected_workers: GaugeFamily,
    pub master_connected: GaugeFamily,
    pub agents: GaugeFamily,
    pub memory_budget: GaugeFamily,
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn flag(value: bool) -> f64 {
    if value { 1.0 } else { 0.0 }
}

impl ScrapeGauges {
    pub(super) async fn refresh(&self, view: &NodeView) {
        let control = view.current();
        self.synchronized
            .get_or_create(&Labels::new())
            .set(flag(crate::readiness::is_synchronized(&control.node)));
        self.node_info.clear();
        self.node_info
            .get_or_create(&labels(&[
                ("node", &view.name),
                ("role", role_name(&control.node)),
                ("cluster", &view.cluster),
                ("version", &view.version),
            ]))
            .set(1.0);
        let (workers, master) = match &control.node {
            ControlNode::Master(master) => (
                master
                    .handle
                    .nodes()
                    .iter()
                    .filter(|n| n.node_type != wazuh_cluster_core::NodeType::Master)
                    .count(),
                false,
            ),
            ControlNode::Worker(worker) => (0, worker.handle.status().connected),
        };
        self.connected_workers
            .get_or_create(&Labels::new())
            .set(workers as f64);
        self.master_connected
            .get_or_create(&Labels::new())
            .set(flag(master));
        for (budget, figures) in view.peers.budgets() {
            for (kind, bytes) in [("used", figures.used()), ("limit", figures.cap())] {
                self.memory_budget
                    .get_or_create(&labels(&[("budget", budget), ("kind", kind)]))
                    .set(bytes as f64);
            }
        }
        match control.agent_store.status_counts().await {
            Ok(rows) => {
                let mut counts: BTreeMap<(String, &'static str), usize> = BTreeMap::new();
                for row in rows {
                    let reports_to = row.node.unwrap_or_else(|| "unknown".to_owned());
                    *counts.entry((reports_to, row.status)).or_default() += row.count;
                }
                self.agents.clear();
                for ((reports_to, status), count) in counts {
                    self.agents
                        .get_or_create(&labels(&[("node", &reports_to), ("status", status)]))
                        .set(count as f64);
                }
            }
            Err(error) => tracing::warn!(
                tag = "Cluster",
                subtag = "Metrics",
                "Cannot read the agents for the metrics: {error}."
            ),
        }
    }
}
