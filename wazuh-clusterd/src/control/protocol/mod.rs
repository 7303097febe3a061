//! The replies of the control commands `get_health`, `get_files`, `get_skew` and `get_raft` as typed JSON, shared by the
//! daemon (which builds and serializes them) and `cluster_control` (which reads them back into
//! the same types). The agent commands have theirs in
//! [`agents::protocol`](super::commands::agents::protocol); `get_nodes`, answered by the core,
//! has [`NodesReply`](wazuh_cluster_core::master::NodesReply).
//!
//! | command      | request payload                                         | `ok` reply |
//! |--------------|---------------------------------------------------------|------------|
//! | `get_health` | `null` (every node), `{}` (the workers) or `["name"..]` | [`HealthReply`](health::HealthReply): `{"n_connected_nodes": n, "nodes": {name: {"info": {..}, "status": {..}?}}}` |
//! | `get_nodes`  | [`GetNodesArgs`](wazuh_cluster_core::master::GetNodesArgs) (`{"filter_node": [..]?, ..}`) | [`NodesReply`](wazuh_cluster_core::master::NodesReply): `{"items": [{"name", "type", "version", "ip"}..], "totalItems": n}` |
//! | `get_skew`   | none (local only)                                       | [`SkewReply`](skew::SkewReply): `{"threshold_seconds": 5.0, "peers": {name: {"offset_seconds", "samples", "last_sample"}}}` |
//! | `get_raft`   | none (local only; master-eligible nodes with failover)  | [`RaftReply`](raft::RaftReply): `{"id", "state", "serving", "term", "leader", "committed", "applied", "members": [{"id", "name", "address", "match_index"}..]}` |
//! | `xfer_master`| the target node's name (local; on the master)           | `ok` with a sentence |
//! | `get_files`  | `{"node": [..]?, "file": [..]?}` ([`FilesFilter`](files::FilesFilter)) | [`FilesReply`](files::FilesReply): `{"items": [{"node", "file", "state", "last_change"}..], "totalItems": n}` |
//!
//! Field names are Wazuh's (`wazuh4-protocol.md` section 8). Dates are strings,
//! `%Y-%m-%dT%H:%M:%S.%fZ` in UTC, or [`NEVER`](health::NEVER). A reply `cluster_control`
//! cannot read into its type is reported naming the command and what did not match
//! ([`ClientError::UnexpectedReply`](super::client::ClientError::UnexpectedReply)).

pub mod files;
pub mod health;
pub mod raft;
pub mod skew;

use serde::Serialize;
use wazuh_cluster_core::session::{HandlerResult, Reply};
use wazuh_cluster_proto::payload::{WazuhException, error_codes};

/// `value` as the `ok` reply of a control command.
#[allow(
    clippy::result_large_err,
    reason = "HandlerResult is the core's handler type"
)]
pub fn json_reply<T: Serialize>(value: &T) -> HandlerResult {
    let text = serde_json::to_string(value).map_err(|e| {
        WazuhException::internal(error_codes::INTERNAL).with_extra_message(e.to_string())
    })?;
    Ok(Some(Reply::ok(text)))
}
