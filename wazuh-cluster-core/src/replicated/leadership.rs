//! [`Leadership`]: what a node's Raft metrics say about who may serve as master now.
//!
//! A node serves as master only while it leads **and** a quorum acknowledged it within the
//! lease: a leader cut off from the majority stops serving once its last quorum acknowledgement
//! is older than the lease, before the majority can have elected another (the lease is shorter
//! than the shortest election timeout), so workers never see two masters that both accept
//! registrations and push files.

use std::time::Duration;

use openraft::ServerState;
use openraft::metrics::RaftMetrics;

use super::runtime::RaftInstant;
use super::type_config::RegistryRaftConfig as C;

/// Who may serve as master, as one node sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leadership {
    /// This node leads with a fresh quorum acknowledgement: it serves as master.
    Leading {
        /// Its term.
        term: u64,
    },
    /// Another node leads, or none does (`leader: None`), or this node leads without a fresh
    /// quorum (`leader: None` too: it must not serve, and nobody else is known to).
    Following {
        /// The term this node knows.
        term: u64,
        /// The member that leads, when known.
        leader: Option<u64>,
    },
}

impl Leadership {
    /// Reads `metrics`: leading only with a quorum acknowledgement at most `lease` old.
    pub fn of(metrics: &RaftMetrics<C>, lease: Duration) -> Leadership {
        let term = metrics.current_term;
        if metrics.state == ServerState::Leader && metrics.current_leader == Some(metrics.id) {
            let fresh = metrics.last_quorum_acked.as_ref().is_some_and(|acked| {
                <RaftInstant as openraft_rt::Instant>::now() - **acked <= lease
            });
            return if fresh {
                Leadership::Leading { term }
            } else {
                Leadership::Following { term, leader: None }
            };
        }
        Leadership::Following {
            term,
            leader: metrics
                .current_leader
                .filter(|&leader| leader != metrics.id),
        }
    }

    /// Whether this node serves as master.
    pub fn leads(&self) -> bool {
        matches!(self, Leadership::Leading { .. })
    }
}
