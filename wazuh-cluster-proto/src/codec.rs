//! `tokio_util::codec` Decoder and Encoder for [`Message`]s (feature `codec`), on the same logic as
//! [`crate::MessageDecoder`] and [`crate::encode_message`].
//!
//! This crate reads no clock: the codec asks a caller-supplied [`Clock`] for the Fernet timestamp
//! when encoding and for the monotonic time when a divided message starts.

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};

use crate::budget::NodeBudget;
use crate::decoder::{DecodeError, MessageAssembler};
use crate::division::DroppedPartial;
use crate::fernet::Fernet;
use crate::frame_writer::encode_message;
use crate::limits::Limits;
use crate::message::Message;
use crate::replay::ReplayGuard;

/// The time sources the codec needs; the daemon implements it with the system clocks, tests with
/// fixed values.
pub trait Clock: Send + Sync {
    /// Current unix time in seconds, written into Fernet tokens.
    fn unix_seconds(&self) -> u64;
    /// Current monotonic time, as time since an origin of the implementer's choosing; used to age
    /// incomplete divided messages.
    fn monotonic(&self) -> Duration;
}

/// Why the codec failed; the connection should be closed.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The received bytes could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Reading or writing the transport failed.
    #[error("cluster connection I/O failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Frames, divided messages and Fernet for one connection, as a tokio-util codec.
pub struct MessageCodec {
    assembler: MessageAssembler,
    last_token_time: Option<u64>,
    fernet: Option<Fernet>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for MessageCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageCodec")
            .field("assembler", &self.assembler)
            .field("encrypted", &self.fernet.is_some())
            .finish_non_exhaustive()
    }
}

impl MessageCodec {
    /// A codec; `fernet` is `None` for the unencrypted local unix socket.
    pub fn new(fernet: Option<Fernet>, limits: Limits, clock: Arc<dyn Clock>) -> Self {
        Self {
            assembler: MessageAssembler::new(fernet.clone(), limits),
            last_token_time: None,
            fernet,
            clock,
        }
    }

    /// Applies `pre_auth` (normally [`Limits::pre_auth`]) until a message decrypts with the key;
    /// the limits given to [`MessageCodec::new`] apply after. No effect without Fernet.
    pub fn with_pre_auth_limits(mut self, pre_auth: Limits) -> Self {
        self.assembler.set_pre_auth_limits(pre_auth);
        self
    }

    /// Keeps this connection's incomplete divided messages within the node's `budget`, shared
    /// with its other connections. Call before any byte is decoded.
    pub fn with_node_budget(mut self, budget: NodeBudget) -> Self {
        self.assembler.set_node_budget(budget);
        self
    }

    /// Checks every message received with `guard` (token age, tokens seen before, request
    /// counters; see [`crate::replay`]); the age is measured on the clock's unix time.
    pub fn with_replay_guard(mut self, guard: ReplayGuard) -> Self {
        self.assembler.set_replay_guard(guard);
        self
    }

    /// Drops divided messages whose first frame came [`Limits::divided_timeout`] or more before
    /// `now`; call it from a timer (`Framed::codec_mut`).
    pub fn expire(&mut self, now: Duration) -> Vec<DroppedPartial> {
        self.assembler.expire(now)
    }

    /// Whether this connection holds more than its fair share of the node's budget while
    /// another peer needs its own ([`NodeBudget`]): close it from the same timer.
    pub fn over_fair_share(&self) -> bool {
        self.assembler.over_fair_share()
    }

    /// The Fernet timestamp (sender's unix seconds) of the last message decoded, `None` before
    /// the first one or without encryption: the receiver's clue to the sender's clock offset.
    pub fn last_token_time(&self) -> Option<u64> {
        self.last_token_time
    }
}

impl Decoder for MessageCodec {
    type Item = Message;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Message>, CodecError> {
        let now = self.clock.monotonic();
        let decoded = self
            .assembler
            .next_message(src, now, self.clock.unix_seconds())?;
        Ok(decoded.map(|decoded| {
            self.last_token_time = decoded.token_time.or(self.last_token_time);
            decoded.message
        }))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Message>, CodecError> {
        if let Some(message) = self.decode(src)? {
            return Ok(Some(message));
        }
        self.assembler.end_of_stream(src.len())?;
        Ok(None)
    }
}

impl Encoder<Message> for MessageCodec {
    type Error = CodecError;

    fn encode(&mut self, item: Message, dst: &mut BytesMut) -> Result<(), CodecError> {
        encode_message(&item, self.fernet.as_ref(), self.clock.unix_seconds(), dst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::names;
    use crate::division::REQUEST_CHUNK;

    struct FixedClock(Duration);

    impl Clock for FixedClock {
        fn unix_seconds(&self) -> u64 {
            1_795_701_891
        }
        fn monotonic(&self) -> Duration {
            self.0
        }
    }

    fn codec(fernet: Option<Fernet>) -> MessageCodec {
        MessageCodec::new(
            fernet,
            Limits::default(),
            Arc::new(FixedClock(Duration::ZERO)),
        )
    }

    #[test]
    fn round_trips_encrypted_and_plain_byte_by_byte() {
        let fernet = Fernet::from_cluster_key("abcdefghijklmnopqrstuvwxyz012345").unwrap();
        for fernet in [Some(fernet), None] {
            let encrypted = fernet.is_some();
            let mut codec = codec(fernet);
            let messages = [
                Message::new(1, names::ECHO_C, "keepalive"),
                Message::new(2, names::OK, ""),
            ];
            let mut wire = BytesMut::new();
            for m in &messages {
                codec.encode(m.clone(), &mut wire).unwrap();
            }
            let mut src = BytesMut::new();
            let mut got = Vec::new();
            for byte in wire {
                src.extend_from_slice(&[byte]);
                while let Some(m) = codec.decode(&mut src).unwrap() {
                    got.push(m);
                }
            }
            assert_eq!(got, messages);
            let stamped = codec.last_token_time();
            assert_eq!(stamped, encrypted.then_some(1_795_701_891));
            assert!(codec.decode_eof(&mut src).unwrap().is_none());
        }
    }

    #[test]
    fn decode_eof_reports_a_truncated_divided_message() {
        let mut codec = codec(None);
        let mut wire = BytesMut::new();
        codec
            .encode(
                Message::new(5, names::DAPI, vec![1u8; REQUEST_CHUNK + 1]),
                &mut wire,
            )
            .unwrap();
        let mut first = wire.split_to(REQUEST_CHUNK);
        assert!(codec.decode(&mut first).unwrap().is_none());
        assert!(matches!(
            codec.decode_eof(&mut first),
            Err(CodecError::Decode(DecodeError::UnfinishedDivided {
                counter: 5,
                frames: 1
            }))
        ));
        let mut cut = wire.split_to(7);
        assert!(matches!(
            codec.decode_eof(&mut cut),
            Err(CodecError::Decode(DecodeError::TruncatedFrame {
                buffered: 7
            }))
        ));
    }
}
