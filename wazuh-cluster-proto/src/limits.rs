//! Receive limits of Wazuh 4.14.7, which 4.9.2 lacked (it allocated whatever a header claimed).

use std::time::Duration;

/// Largest joined divided message accepted: 256 MiB (Wazuh `MAX_TOTAL_SIZE`, which Wazuh also applies
/// to single frames; here they are capped at [`MAX_FRAME_SIZE`]).
pub const MAX_TOTAL_SIZE: usize = 268_435_456;

/// Largest frame payload accepted once a connection has authenticated: 7 MiB. Wazuh's sender
/// (`msg_build`) never writes a bigger frame: a message whose plaintext is at most 5 MiB goes
/// whole, as a Fernet token of at most 6,990,604 bytes, and a bigger one is divided into frames
/// of 5,242,860 payload bytes. Wazuh itself accepts single frames up to [`MAX_TOTAL_SIZE`], so a
/// peer with the key could make each of its connections buffer 256 MiB outside any node-wide
/// budget; here only divided messages can be that large, and they are joined within the node's
/// [`NodeBudget`](crate::NodeBudget).
pub const MAX_FRAME_SIZE: usize = 7 << 20;
/// Most divided messages that may be partly received at once (Wazuh `MAX_CONCURRENT_DIVIDED_MSGS`).
pub const MAX_DIVIDED_IN_FLIGHT: usize = 10;

/// How long a divided message may stay incomplete before [`crate::Reassembler::expire`] drops it.
pub const DIVIDED_MESSAGE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a frame whose header has arrived may wait for its payload (Wazuh
/// `PRE_AUTH_PAYLOAD_TIMEOUT`). This crate has no timers: the caller enforces it, for instance by
/// closing the connection when [`crate::MessageDecoder::buffered_len`] stays non-zero this long.
pub const PAYLOAD_TIMEOUT: Duration = Duration::from_secs(30);

/// Limits applied while receiving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest joined divided message, in bytes (and largest frame, if smaller than
    /// `max_frame_size`). Checked before anything is allocated for it.
    pub max_total_size: usize,
    /// Largest payload a frame header may declare, in bytes. Checked before anything is
    /// allocated for it.
    pub max_frame_size: usize,
    /// Most divided messages that may be partly received at once.
    pub max_divided_in_flight: usize,
    /// Age after which an incomplete divided message is dropped by `expire`.
    pub divided_timeout: Duration,
}

/// Largest frame accepted on an encrypted connection before its first message authenticates
/// (decrypts with the cluster key): a `hello` and its answer are a few hundred bytes.
pub const PRE_AUTH_MAX_FRAME: usize = 64 << 10;

impl Limits {
    /// The limits before a connection's first message authenticates: frames of at most
    /// [`PRE_AUTH_MAX_FRAME`], so no divided message (whose frames are 5 MiB) can start. A peer
    /// without the key can make a node keep at most that much for it.
    pub const fn pre_auth() -> Self {
        Self {
            max_total_size: PRE_AUTH_MAX_FRAME,
            max_frame_size: PRE_AUTH_MAX_FRAME,
            max_divided_in_flight: 1,
            divided_timeout: DIVIDED_MESSAGE_TIMEOUT,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_total_size: MAX_TOTAL_SIZE,
            max_frame_size: MAX_FRAME_SIZE,
            max_divided_in_flight: MAX_DIVIDED_IN_FLIGHT,
            divided_timeout: DIVIDED_MESSAGE_TIMEOUT,
        }
    }
}
