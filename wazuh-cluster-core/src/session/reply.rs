//! [`Reply`]: what answers a request, both as a handler returns it and as a requester gets it.

use bytes::Bytes;
use wazuh_cluster_proto::Command;

/// A reply to send back: command (`ok`, `ok-m`, ...) and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Reply command.
    pub command: Command,
    /// Reply payload.
    pub payload: Bytes,
}

impl Reply {
    /// A reply with `command` and `payload`.
    pub fn new(command: Command, payload: impl Into<Bytes>) -> Self {
        Self {
            command,
            payload: payload.into(),
        }
    }

    /// An `ok` reply.
    pub fn ok(payload: impl Into<Bytes>) -> Self {
        Self::new(wazuh_cluster_proto::command::names::OK, payload)
    }
}
