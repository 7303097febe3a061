//! The wire protocol of the Wazuh 4.x manager cluster, byte-compatible with Wazuh's Python nodes.
//!
//! Sans-IO: no sockets, no runtime, no clock reads (time is passed in). It holds Fernet from the
//! cluster key, the 20-byte frame header, divided messages and their reassembly with Wazuh 4.14.7's
//! limits, a `tokio_util::codec` Decoder/Encoder (feature `codec`) and the same logic as plain
//! functions, and every payload as a typed value with strict decoding.

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

#[cfg(feature = "codec")]
pub use codec::{Clock, CodecError, MessageCodec};
pub use command::{Command, CommandError};
pub use decoder::{DecodeError, DecodedMessage, MessageDecoder};
pub use division::{DivisionError, DroppedPartial, JoinedPayload, Reassembler};
pub use fernet::{ClusterKeyError, Fernet, FernetError};
pub use frame_reader::{FrameError, RawFrame, take_frame};
pub use frame_writer::encode_message;
pub use header::{FrameHeader, HEADER_LEN, HeaderError};
pub use limits::Limits;
pub use message::Message;
