//! When a node is *synchronized*: ready for agents, for a load balancer (`GET /health`) and for
//! systemd (`READY=1`), one definition for all three.
//!
//! - A master is synchronized once it listens (its role runs only after its listener is bound).
//! - A worker is synchronized while it is connected to the master, once the master answered its
//!   first integrity check (it holds the master's files, or knows which to fetch and is
//!   fetching them). A lost connection makes it unsynchronized until it is back.

use crate::control::ControlNode;

/// Whether `node` is synchronized now (see the module docs).
pub fn is_synchronized(node: &ControlNode) -> bool {
    match node {
        ControlNode::Master(_) => true,
        ControlNode::Worker(worker) => {
            worker.handle.status().connected && worker.integrity.report().checks > 0
        }
    }
}
