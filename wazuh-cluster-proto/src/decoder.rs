//! Sans-IO receiving: push stream bytes in, pull whole decrypted messages out.

use std::time::Duration;

use bytes::{Bytes, BytesMut};

use crate::budget::NodeBudget;
use crate::command::Command;
use crate::division::{DivisionError, DroppedPartial, JoinedPayload, Reassembler};
use crate::fernet::{Fernet, FernetError};
use crate::frame_reader::{FrameError, RawFrame, take_frame};
use crate::limits::Limits;
use crate::message::Message;
use crate::replay::{ReplayError, ReplayGuard};

/// Why a stream could not be decoded. Every variant means the connection should be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A frame header is unreadable or declares too large a payload.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A divided message broke a limit or changed command.
    #[error(transparent)]
    Division(#[from] DivisionError),
    /// The payload did not decrypt (Wazuh error 3025).
    #[error("message {counter} ({command}, {frames} frame(s)): {source}")]
    Decrypt {
        /// Counter of the message.
        counter: u32,
        /// Its command.
        command: Command,
        /// Frames it came in.
        frames: usize,
        /// What Fernet refused.
        source: FernetError,
    },
    /// The message is a replay ([`crate::replay`]).
    #[error("message {counter} ({command}) refused: {source}")]
    Replay {
        /// Counter of the message.
        counter: u32,
        /// Its command.
        command: Command,
        /// Why it is taken for a replay.
        source: ReplayError,
    },
    /// The stream ended inside a frame.
    #[error(
        "stream ended inside a frame: {buffered} byte(s) of an incomplete frame were left; the peer closed mid-message or the capture is truncated"
    )]
    TruncatedFrame {
        /// Bytes left in the buffer.
        buffered: usize,
    },
    /// The stream ended with a divided message incomplete.
    #[error(
        "stream ended with divided message {counter} incomplete after {frames} frame(s); its last frame never came"
    )]
    UnfinishedDivided {
        /// Counter of the incomplete message.
        counter: u32,
        /// Frames received of it.
        frames: usize,
    },
}

/// A message and the number of frames it came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedMessage {
    /// The decrypted message.
    pub message: Message,
    /// Frames it came in (1 unless divided).
    pub frames: usize,
    /// The Fernet token's timestamp (the sender's unix seconds), `None` when unencrypted.
    pub token_time: Option<u64>,
}

/// Frames in, messages out: joins divided messages and decrypts. Shared by [`MessageDecoder`] and
/// the tokio codec.
#[derive(Debug)]
pub(crate) struct MessageAssembler {
    fernet: Option<Fernet>,
    pub(crate) limits: Limits,
    reassembler: Reassembler,
    guard: Option<ReplayGuard>,
    /// The limits to apply once a message authenticates, while [`Limits::pre_auth`] applies.
    after_auth: Option<Limits>,
}

impl MessageAssembler {
    pub(crate) fn new(fernet: Option<Fernet>, limits: Limits) -> Self {
        Self {
            fernet,
            limits,
            reassembler: Reassembler::new(limits),
            guard: None,
            after_auth: None,
        }
    }

    /// Applies `pre_auth` until a message decrypts with the key (encrypted connections only).
    pub(crate) fn set_pre_auth_limits(&mut self, pre_auth: Limits) {
        if self.fernet.is_some() {
            self.after_auth = Some(*self.after_auth.get_or_insert(self.limits));
            self.limits = pre_auth;
            self.reassembler.set_limits(pre_auth);
            self.reassembler.set_budget_peer(false);
        }
    }

    /// Keeps incomplete divided messages within the node's `budget`, where this connection
    /// counts as a peer (guaranteed a fair share) once a message authenticates.
    pub(crate) fn set_node_budget(&mut self, budget: NodeBudget) {
        self.reassembler = Reassembler::new(self.limits).with_budget(budget);
        self.reassembler.set_budget_peer(self.after_auth.is_none());
    }

    /// The first message decrypted: the full limits apply from now on.
    fn authenticated(&mut self) {
        if let Some(limits) = self.after_auth.take() {
            self.limits = limits;
            self.reassembler.set_limits(limits);
            self.reassembler.set_budget_peer(true);
        }
    }

    /// Checks every message received from now on with `guard`.
    pub(crate) fn set_replay_guard(&mut self, guard: ReplayGuard) {
        self.guard = Some(guard);
    }

    /// Cuts frames off `buf` until a message is whole or the buffer runs out. `now` is
    /// monotonic; `unix_now` (unix seconds) is needed by a replay guard only.
    pub(crate) fn next_message(
        &mut self,
        buf: &mut BytesMut,
        now: Duration,
        unix_now: u64,
    ) -> Result<Option<DecodedMessage>, DecodeError> {
        while let Some(RawFrame { header, payload }) = take_frame(buf, &self.limits)? {
            if let Some(joined) = self.reassembler.push(header, payload, now)? {
                return self.open(joined, unix_now).map(Some);
            }
        }
        Ok(None)
    }

    fn open(
        &mut self,
        joined: JoinedPayload,
        unix_now: u64,
    ) -> Result<DecodedMessage, DecodeError> {
        if let Some(guard) = &mut self.guard {
            let JoinedPayload {
                counter, command, ..
            } = &joined;
            guard
                .check_counter(*counter, command)
                .map_err(|source| DecodeError::Replay {
                    counter: *counter,
                    command: *command,
                    source,
                })?;
        }
        let JoinedPayload {
            counter,
            command,
            payload,
            frames,
        } = joined;
        let decrypt_error = |source| DecodeError::Decrypt {
            counter,
            command,
            frames,
            source,
        };
        // Read before the payload is consumed; kept only once the token authenticated below.
        let token_time = self
            .fernet
            .as_ref()
            .and_then(|_| crate::fernet::token_timestamp(&payload));
        let plaintext = match (&self.fernet, &self.guard) {
            (None, _) => payload,
            (Some(fernet), None) => Bytes::from(fernet.decrypt(&payload).map_err(decrypt_error)?),
            (Some(fernet), Some(guard)) => {
                match guard
                    .open(fernet, &payload, unix_now)
                    .map_err(decrypt_error)?
                {
                    Ok(plaintext) => Bytes::from(plaintext),
                    Err(source) => {
                        return Err(DecodeError::Replay {
                            counter,
                            command,
                            source,
                        });
                    }
                }
            }
        };
        self.authenticated();
        Ok(DecodedMessage {
            message: Message::new(counter, command, plaintext),
            frames,
            token_time,
        })
    }

    pub(crate) fn expire(&mut self, now: Duration) -> Vec<DroppedPartial> {
        self.reassembler.expire(now)
    }

    pub(crate) fn over_fair_share(&self) -> bool {
        self.reassembler.over_fair_share()
    }

    /// Error for a stream that ends now with `buffered` bytes left, if it is not at a boundary.
    pub(crate) fn end_of_stream(&self, buffered: usize) -> Result<(), DecodeError> {
        if buffered > 0 {
            return Err(DecodeError::TruncatedFrame { buffered });
        }
        match self.reassembler.first_incomplete() {
            Some((counter, frames)) => Err(DecodeError::UnfinishedDivided { counter, frames }),
            None => Ok(()),
        }
    }
}

/// A sans-IO decoder for one direction of one connection.
///
/// `now` arguments are `Duration`s on the caller's monotonic clock (see [`Reassembler`]).
///
/// Feed it bytes as they arrive with [`push`](Self::push), in any split, then call
/// [`next_message`](Self::next_message) until it returns `Ok(None)`. After an error the stream is
/// out of sync: close the connection and drop the decoder.
///
/// Timers are the caller's: call [`expire`](Self::expire) periodically to drop divided messages
/// older than [`Limits::divided_timeout`], and close the connection when
/// [`buffered_len`](Self::buffered_len) stays non-zero longer than
/// [`crate::limits::PAYLOAD_TIMEOUT`] (a declared payload that never completes).
#[derive(Debug)]
pub struct MessageDecoder {
    buf: BytesMut,
    assembler: MessageAssembler,
}

impl MessageDecoder {
    /// A decoder; `fernet` is `None` for the unencrypted local unix socket.
    pub fn new(fernet: Option<Fernet>, limits: Limits) -> Self {
        Self {
            buf: BytesMut::new(),
            assembler: MessageAssembler::new(fernet, limits),
        }
    }

    /// Applies `pre_auth` (normally [`Limits::pre_auth`]) until a message decrypts with the key;
    /// the limits given to [`MessageDecoder::new`] apply after. No effect without Fernet.
    pub fn with_pre_auth_limits(mut self, pre_auth: Limits) -> Self {
        self.assembler.set_pre_auth_limits(pre_auth);
        self
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole message, if the bytes pushed so far complete one. `now` timestamps the
    /// first frame of a divided message for [`expire`](Self::expire).
    pub fn next_message(&mut self, now: Duration) -> Result<Option<DecodedMessage>, DecodeError> {
        self.assembler.next_message(&mut self.buf, now, 0)
    }

    /// Drops divided messages whose first frame came [`Limits::divided_timeout`] or more before
    /// `now`; returns what was dropped.
    pub fn expire(&mut self, now: Duration) -> Vec<DroppedPartial> {
        self.assembler.expire(now)
    }

    /// Bytes received but not yet part of a whole frame.
    pub fn buffered_len(&self) -> usize {
        self.buf.len()
    }

    /// Checks that the stream may end here: no partial frame and no incomplete divided message.
    /// Call it once the peer closed and [`next_message`](Self::next_message) returned `Ok(None)`.
    pub fn end_of_stream(&self) -> Result<(), DecodeError> {
        self.assembler.end_of_stream(self.buf.len())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::command::names;
    use crate::frame_reader::FrameError;
    use crate::frame_writer::encode_message;
    use crate::header::{FrameHeader, HEADER_LEN};

    const KEY: &str = "abcdefghijklmnopqrstuvwxyz012345";

    fn divided_frame(counter: u32) -> [u8; 21] {
        let header = FrameHeader {
            counter,
            size: 1,
            command: names::DAPI,
            divided: true,
        };
        let mut out = [b'x'; 21];
        out[..20].copy_from_slice(&header.encode());
        out
    }

    #[test]
    fn decodes_a_header_arriving_alone() {
        let fernet = Fernet::from_cluster_key(KEY).unwrap();
        let message = Message::new(3, names::ECHO_C, "keepalive");
        let mut wire = BytesMut::new();
        encode_message(&message, Some(&fernet), 7, &mut wire);
        let mut decoder = MessageDecoder::new(Some(fernet), Limits::default());
        decoder.push(&wire[..20]);
        assert_eq!(decoder.next_message(Duration::ZERO).unwrap(), None);
        assert_eq!(decoder.buffered_len(), 20);
        assert!(matches!(
            decoder.end_of_stream(),
            Err(DecodeError::TruncatedFrame { buffered: 20 })
        ));
        decoder.push(&wire[20..]);
        let decoded = decoder.next_message(Duration::ZERO).unwrap().unwrap();
        assert_eq!((decoded.message, decoded.frames), (message, 1));
        decoder.end_of_stream().unwrap();
    }

    #[test]
    fn the_largest_undivided_message_fits_the_frame_limit_and_one_byte_more_is_divided() {
        use crate::division::REQUEST_CHUNK;
        use crate::limits::MAX_FRAME_SIZE;
        let fernet = Fernet::from_cluster_key(KEY).unwrap();
        for (len, frames) in [(REQUEST_CHUNK, 1), (REQUEST_CHUNK + 1, 2)] {
            let message = Message::new(3, names::FILE_UPD, vec![b'f'; len]);
            let mut wire = BytesMut::new();
            encode_message(&message, Some(&fernet), 7, &mut wire);
            let first = FrameHeader::parse(wire[..HEADER_LEN].try_into().unwrap()).unwrap();
            assert!(
                first.size as usize <= MAX_FRAME_SIZE,
                "{} bytes",
                first.size
            );
            let mut decoder = MessageDecoder::new(Some(fernet.clone()), Limits::default());
            decoder.push(&wire);
            let decoded = decoder.next_message(Duration::ZERO).unwrap().unwrap();
            assert_eq!((decoded.message, decoded.frames), (message, frames));
        }
    }

    #[test]
    fn refuses_an_oversize_header_before_its_payload() {
        let mut decoder = MessageDecoder::new(None, Limits::default());
        let header = FrameHeader {
            counter: 1,
            size: 268_435_457,
            command: names::HELLO,
            divided: false,
        };
        decoder.push(&header.encode());
        let err = decoder.next_message(Duration::ZERO).unwrap_err();
        assert!(matches!(
            err,
            DecodeError::Frame(FrameError::TooLarge {
                size: 268_435_457,
                ..
            })
        ));
        assert!(err.to_string().contains("3050"), "{err}");
    }

    #[test]
    fn refuses_the_eleventh_divided_message_in_flight() {
        let mut decoder = MessageDecoder::new(None, Limits::default());
        for counter in 0..10 {
            decoder.push(&divided_frame(counter));
        }
        assert_eq!(decoder.next_message(Duration::ZERO).unwrap(), None);
        decoder.push(&divided_frame(10));
        let err = decoder.next_message(Duration::ZERO).unwrap_err();
        assert!(matches!(
            err,
            DecodeError::Division(DivisionError::TooManyInFlight { counter: 10, .. })
        ));
        assert!(err.to_string().contains("3051"), "{err}");
    }

    #[test]
    fn expires_stale_divided_messages() {
        let start = Duration::ZERO;
        let mut decoder = MessageDecoder::new(None, Limits::default());
        decoder.push(&divided_frame(4));
        assert_eq!(decoder.next_message(start).unwrap(), None);
        assert!(decoder.expire(start + Duration::from_secs(29)).is_empty());
        let dropped = decoder.expire(start + Duration::from_secs(30));
        assert_eq!(dropped.len(), 1);
        assert_eq!((dropped[0].counter, dropped[0].frames), (4, 1));
        decoder.end_of_stream().unwrap();
    }

    #[test]
    fn names_the_message_that_did_not_decrypt() {
        let fernet = Fernet::from_cluster_key(KEY).unwrap();
        let other = Fernet::from_cluster_key("0123456789abcdefghijklmnopqrstuv").unwrap();
        let mut wire = BytesMut::new();
        encode_message(
            &Message::new(9, names::HELLO, "x"),
            Some(&other),
            7,
            &mut wire,
        );
        let mut decoder = MessageDecoder::new(Some(fernet), Limits::default());
        decoder.push(&wire);
        let err = decoder.next_message(Duration::ZERO).unwrap_err();
        assert!(matches!(
            err,
            DecodeError::Decrypt {
                counter: 9,
                source: FernetError::InvalidSignature,
                ..
            }
        ));
        let text = err.to_string();
        assert!(text.contains("hello") && text.contains("3025"), "{text}");
    }

    /// A worker's `hello`, encrypted with `fernet`, on the wire.
    fn hello_wire(fernet: &Fernet) -> BytesMut {
        let mut hello = BytesMut::new();
        encode_message(
            &Message::new(1, names::HELLO, "w1 c worker 4.9.2"),
            Some(fernet),
            5,
            &mut hello,
        );
        hello
    }

    #[test]
    fn before_a_message_authenticates_frames_are_small_and_after_they_are_not() {
        let fernet = Fernet::from_cluster_key("abcdefghijklmnopqrstuvwxyz012345").unwrap();
        let big = Message::new(2, names::ECHO_C, vec![b'x'; 100 << 10]);
        let mut wire = BytesMut::new();
        encode_message(&big, Some(&fernet), 5, &mut wire);
        let mut decoder = MessageDecoder::new(Some(fernet.clone()), Limits::default())
            .with_pre_auth_limits(Limits::pre_auth());
        decoder.push(&wire[..HEADER_LEN]);
        assert!(matches!(
            decoder.next_message(Duration::ZERO),
            Err(DecodeError::Frame(FrameError::TooLarge { max, .. })) if max == 64 << 10
        ));

        let mut decoder = MessageDecoder::new(Some(fernet.clone()), Limits::default())
            .with_pre_auth_limits(Limits::pre_auth());
        let hello = hello_wire(&fernet);
        decoder.push(&hello);
        decoder.push(&wire);
        assert_eq!(
            decoder
                .next_message(Duration::ZERO)
                .unwrap()
                .unwrap()
                .message
                .counter,
            1
        );
        let after = decoder.next_message(Duration::ZERO).unwrap().unwrap();
        assert_eq!(
            after.message.payload.len(),
            100 << 10,
            "full limits once authenticated"
        );
    }

    #[test]
    fn a_connection_counts_as_a_peer_of_the_node_budget_once_a_message_authenticates() {
        let fernet = Fernet::from_cluster_key("abcdefghijklmnopqrstuvwxyz012345").unwrap();
        let budget = NodeBudget::new(1 << 20);
        let mut decoder = MessageDecoder::new(Some(fernet.clone()), Limits::default())
            .with_pre_auth_limits(Limits::pre_auth());
        decoder.assembler.set_node_budget(budget.clone());
        assert_eq!(budget.peers(), 0, "no fair share without the key");
        let hello = hello_wire(&fernet);
        decoder.push(&hello);
        assert!(decoder.next_message(Duration::ZERO).unwrap().is_some());
        assert_eq!(budget.peers(), 1);
        drop(decoder);
        assert_eq!(budget.peers(), 0, "a closed connection leaves the budget");
    }
}
