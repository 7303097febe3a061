//! The wire protocol of the Wazuh 4.x manager cluster, byte-compatible with Wazuh's Python nodes.
//!
//! Sans-IO: no sockets, no runtime, no clock reads (time is passed in). It holds Fernet from the
//! cluster key, the 20-byte frame header, divided messages and their reassembly with Wazuh 4.14.7's
//! limits, a `tokio_util::codec` Decoder/Encoder (feature `codec`) and the same logic as plain
//! functions, and every payload as a typed value with strict decoding.
//!
//! # Framing
//!
//! A connection carries frames: a 20-byte [`FrameHeader`] (`'!2I12s'`: counter u32 BE, payload
//! size u32 BE, command `name + b' ' + b'-' * pad` whose last byte is the division flag `d`) and
//! the payload, a url-safe base64 [`Fernet`] token (plaintext on the local unix socket).
//! A plaintext over 5 MiB is encrypted once and its token cut into frames of exactly 5 MiB
//! (header included), flagged `d` but the last; frames of different counters may interleave.
//!
//! - Sending: [`encode_message`] appends a message's frames to a buffer, each header directly
//!   before its payload (a Wazuh 4.9.2 node hangs when a header arrives alone).
//! - Receiving: [`MessageDecoder`] takes bytes in any split and returns whole decrypted
//!   messages; [`take_frame`] and [`Reassembler`] are its parts. With feature `codec`,
//!   [`MessageCodec`] does the same for `tokio_util::codec::Framed`.
//! - [`Limits`] (Wazuh 4.14.7): a declared frame or joined message over 256 MiB is refused before
//!   any allocation, at most 10 divided messages in flight, incomplete ones dropped by `expire`
//!   after 30 s. The caller owns the timers: it calls `expire(now)` and closes a connection whose
//!   declared payload does not complete within [`limits::PAYLOAD_TIMEOUT`].
//! - Every decode error is a typed value; after one, close the connection.

pub mod budget;
#[cfg(feature = "codec")]
pub mod codec;
pub mod command;
pub mod decoder;
pub mod division;
pub mod fernet;
pub mod frame_reader;
pub mod frame_writer;
pub mod header;
pub mod limits;
pub mod message;
pub mod payload;
pub mod replay;

pub use budget::{BudgetShare, NodeBudget, Refusal};
#[cfg(feature = "codec")]
pub use codec::{Clock, CodecError, MessageCodec};
pub use command::{Command, CommandError};
pub use decoder::{DecodeError, DecodedMessage, MessageDecoder};
pub use division::{DivisionError, DroppedPartial, JoinedPayload, Reassembler};
pub use fernet::{ClusterKeyError, Fernet, FernetError, OpenedToken};
pub use frame_reader::{FrameError, RawFrame, take_frame};
pub use frame_writer::encode_message;
pub use header::{FrameHeader, HEADER_LEN, HeaderError};
pub use limits::Limits;
pub use message::Message;
pub use replay::{ReplayError, ReplayGuard, SeenTokens};
