//! A whole message: what one side sends and the other receives once frames are joined and decrypted.

use bytes::Bytes;

use crate::command::Command;

/// One request or reply of the cluster protocol, in plaintext.
///
/// A reply reuses the counter of the request it answers; a request takes the sender's next counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Message id (`counter` of the frame header).
    pub counter: u32,
    /// Command name.
    pub command: Command,
    /// Decrypted payload.
    pub payload: Bytes,
}

impl Message {
    /// Builds a message.
    pub fn new(counter: u32, command: Command, payload: impl Into<Bytes>) -> Self {
        Self {
            counter,
            command,
            payload: payload.into(),
        }
    }
}
