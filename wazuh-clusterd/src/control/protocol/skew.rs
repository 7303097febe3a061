//! `get_skew`: its command name and reply ([`SkewReply`]): the clock offsets this node measured
//! of its peers (local: a worker knows its master's, the master every worker's).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use wazuh_cluster_proto::Command;

/// The command name, on the control socket only (never forwarded).
pub const GET_SKEW: Command = Command::from_static("get_skew");

/// One peer's clock as this node sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerSkew {
    /// Peer's clock minus this node's, in seconds (one decimal).
    pub offset_seconds: f64,
    /// Samples the estimate rests on.
    pub samples: usize,
    /// When the last sample came, a UTC date as `get_health` writes them.
    pub last_sample: String,
}

/// Reply of `get_skew`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkewReply {
    /// `<clock_skew_warning>` in seconds.
    pub threshold_seconds: f64,
    /// By peer name (`master` on a worker).
    pub peers: BTreeMap<String, PeerSkew>,
}
