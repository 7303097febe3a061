//! `get_raft` and `xfer_master`: the master election as this node sees it ([`RaftReply`]), and
//! a planned hand-over of the master role to another master-eligible node. Both local only
//! (every master-eligible node answers for itself; a node without failover does not know them).

use serde::{Deserialize, Serialize};
use wazuh_cluster_proto::Command;

/// The command name of the election state.
pub const GET_RAFT: Command = Command::from_static("get_raft");
/// The command name of a master hand-over; its payload is the target node's name.
pub const TRANSFER_MASTER: Command = Command::from_static("xfer_master");

/// One master-eligible member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaftMember {
    /// Its member id (position in `<nodes>`, from 1).
    pub id: u64,
    /// Its node name, once heard from (`null` before).
    pub name: Option<String>,
    /// Its cluster `host:port`.
    pub address: String,
    /// The last log index it is known to hold (on the leader only; `null` elsewhere or before
    /// it answered).
    pub match_index: Option<u64>,
}

/// Reply of `get_raft`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaftReply {
    /// This node's member id.
    pub id: u64,
    /// `Leader`, `Follower`, `Candidate` or `Learner`.
    pub state: String,
    /// Whether this node serves as master now (leads with a fresh quorum and runs the master
    /// role).
    pub serving: bool,
    /// The current term.
    pub term: u64,
    /// The leader's member id, when known.
    pub leader: Option<u64>,
    /// The last committed log index.
    pub committed: Option<u64>,
    /// The last applied log index.
    pub applied: Option<u64>,
    /// Agents in the replicated registry (as applied here).
    pub agents: usize,
    /// Files in the replicated manifest of the master's synchronized files (as applied here).
    pub manifest_files: usize,
    /// The members.
    pub members: Vec<RaftMember>,
}
