//! Raft RPCs between the master-eligible nodes of a `<failover>yes` cluster, carried as
//! requests of the cluster's own framed, Fernet-encrypted sessions.
//!
//! | command       | request payload                              | `ok` reply payload      |
//! |---------------|----------------------------------------------|-------------------------|
//! | `raft_vote`   | `{"to": id, "rpc": VoteRequest}`             | `VoteResponse`          |
//! | `raft_pvote`  | `{"to": id, "rpc": VoteRequest}` (pre-vote)  | `VoteResponse`          |
//! | `raft_append` | `{"to": id, "rpc": AppendEntriesRequest}`    | `AppendEntriesResponse` |
//! | `raft_snap`   | `{"to": id, "rpc": {vote, meta, registry}}`  | `SnapshotResponse`      |
//! | `raft_xfer`   | `{"to": id, "rpc": TransferLeaderRequest}`   | `TransferLeaderResponse`|
//!
//! Every payload is JSON: the `rpc` bodies are openraft's messages as serde writes them (this
//! crate only frames them; `wazuh-cluster-core::replicated` gives their types). `to` is the
//! node id the sender meant: a node whose id differs answers `err`, so that a wrong address in
//! `<nodes>` cannot mix two members up. Decoding is strict: unknown fields and trailing bytes
//! are refused. A large snapshot travels as a divided message like any other payload.
//!
//! A node that does not speak Raft, such as a Python Wazuh node, answers any of these commands
//! with its plain-text error `unknown command 'b'raft_vote''`; [`is_unknown_command`] tells a
//! caller that the node is not a Raft peer, which is harmless: the Python node changes nothing.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::error_codes;
use super::exception::WazuhException;
use crate::Command;

/// Ask for a vote.
pub const RAFT_VOTE: Command = Command::from_static("raft_vote");
/// Ask whether a vote would be granted (pre-vote; the peer's term does not change).
pub const RAFT_PREVOTE: Command = Command::from_static("raft_pvote");
/// Send log entries or a heartbeat.
pub const RAFT_APPEND: Command = Command::from_static("raft_append");
/// Send the whole replicated state (snapshot).
pub const RAFT_SNAPSHOT: Command = Command::from_static("raft_snap");
/// Ask the peer to take over leadership.
pub const RAFT_TRANSFER: Command = Command::from_static("raft_xfer");

/// A Raft request: the node it is meant for, who sends it, and the RPC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaftRequest<T> {
    /// The Raft node id of the intended receiver.
    pub to: u64,
    /// The Raft node id of the sender.
    pub from: u64,
    /// The sender's node name (`<node_name>`), so that members know each other's names.
    pub name: String,
    /// The RPC body.
    pub rpc: T,
}

/// A Raft reply: who answers, and the RPC's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaftReply<T> {
    /// The answering node's name (`<node_name>`).
    pub name: String,
    /// The RPC's answer.
    pub rpc: T,
}

/// Why a Raft payload could not be read (or, for a value serde cannot write, written).
#[derive(Debug, thiserror::Error)]
#[error("malformed {what} payload: {source}")]
pub struct RaftPayloadError {
    /// What was being read (`raft_vote request`, ...).
    pub what: &'static str,
    /// serde's error.
    pub source: serde_json::Error,
}

/// The JSON payload of a Raft request or reply.
pub fn encode_raft<T: Serialize>(
    what: &'static str,
    value: &T,
) -> Result<Vec<u8>, RaftPayloadError> {
    serde_json::to_vec(value).map_err(|source| RaftPayloadError { what, source })
}

/// Reads a Raft request or reply strictly: the whole payload, nothing after it.
pub fn decode_raft<T: DeserializeOwned>(
    what: &'static str,
    payload: &[u8],
) -> Result<T, RaftPayloadError> {
    serde_json::from_slice(payload).map_err(|source| RaftPayloadError { what, source })
}

/// Whether `command` is one of the Raft RPCs.
pub fn is_raft_command(command: &Command) -> bool {
    [
        RAFT_VOTE,
        RAFT_PREVOTE,
        RAFT_APPEND,
        RAFT_SNAPSHOT,
        RAFT_TRANSFER,
    ]
    .contains(command)
}

/// Whether an `err` reply says the node does not know the command (Wazuh's plain text
/// `unknown command 'b'...''`, read as error 3000): the node is not a Raft peer.
pub fn is_unknown_command(error: &WazuhException) -> bool {
    error.code == error_codes::CLUSTER
        && error
            .extra_message
            .as_deref()
            .is_some_and(|text| text.starts_with("unknown command '"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::unknown_command_payload;

    #[test]
    fn names_fit_a_frame_header() {
        for command in [
            RAFT_VOTE,
            RAFT_PREVOTE,
            RAFT_APPEND,
            RAFT_SNAPSHOT,
            RAFT_TRANSFER,
        ] {
            assert!(command.as_bytes().starts_with(b"raft_"));
            assert!(command.as_bytes().len() <= Command::MAX_LEN);
        }
    }

    #[test]
    fn requests_decode_strictly() {
        let request = RaftRequest {
            to: 2,
            from: 1,
            name: "master-1".to_owned(),
            rpc: vec![1u8, 2],
        };
        let bytes = encode_raft("test", &request).expect("encodes");
        assert_eq!(bytes, br#"{"to":2,"from":1,"name":"master-1","rpc":[1,2]}"#);
        let back: RaftRequest<Vec<u8>> = decode_raft("test", &bytes).expect("decodes");
        assert_eq!(back, request);
        for bad in [
            &br#"{"to":2,"from":1,"name":"m","rpc":[1,2]} x"#[..],
            br#"{"to":2,"from":1,"name":"m","rpc":[1,2],"extra":0}"#,
            br#"{"from":1,"name":"m","rpc":[1,2]}"#,
            br#"{"to":2,"name":"m","rpc":[1,2]}"#,
            br#"{"to":-1,"from":1,"name":"m","rpc":[1,2]}"#,
        ] {
            let error =
                decode_raft::<RaftRequest<Vec<u8>>>("raft_vote request", bad).expect_err("refused");
            assert!(
                error
                    .to_string()
                    .starts_with("malformed raft_vote request payload")
            );
        }
    }

    #[test]
    fn a_python_nodes_answer_means_not_a_raft_peer() {
        let python = WazuhException::from_err_reply(
            unknown_command_payload(RAFT_VOTE.as_bytes()).as_bytes(),
        );
        assert!(is_unknown_command(&python));
        let other = WazuhException::cluster(error_codes::CLUSTER).with_extra_message("busy");
        assert!(!is_unknown_command(&other));
        assert!(!is_unknown_command(&WazuhException::internal(1000)));
    }
}
