//! The wire protocol of the Wazuh 4.x manager cluster, byte-compatible with Wazuh's Python nodes.
//!
//! Sans-IO: no sockets, no runtime, no clock reads (time is passed in). It holds Fernet from the
//! cluster key, the 20-byte frame header, divided messages and their reassembly with Wazuh 4.14.7's
//! limits, a `tokio_util::codec` Decoder/Encoder (feature `codec`) and the same logic as plain
//! functions, and every payload as a typed value with strict decoding.

pub mod command;
pub mod message;
pub mod payload;

pub use command::{Command, CommandError};
pub use message::Message;
