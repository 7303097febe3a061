//! The 20-byte frame header, Python `struct` format `'!2I12s'`.
//!
//! `counter` u32 BE, `size` u32 BE (this frame's payload length), then the 12-byte command field
//! `name + b' ' + b'-' * (10 - len(name))` whose last byte is the division flag: `d` when more
//! frames of the same message follow, `-` otherwise. An 11-byte name leaves no room for dashes:
//! its field is `name + b' '`, and the space becomes `d` in a divided frame.

use crate::command::{Command, CommandError};

/// Length of a frame header in bytes.
pub const HEADER_LEN: usize = 20;

/// Length of the command field of a header.
const COMMAND_FIELD_LEN: usize = 12;

/// The division flag byte of a frame that more frames of the same message follow.
const DIVIDED_FLAG: u8 = b'd';

/// One frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Message id; every frame of a divided message carries the same one.
    pub counter: u32,
    /// Byte length of this frame's payload.
    pub size: u32,
    /// Command name.
    pub command: Command,
    /// True when more frames of this message follow (flag byte `d`).
    pub divided: bool,
}

/// A header that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("frame header of message {counter} has command field {field:?}: {source}")]
pub struct HeaderError {
    /// The counter of the refused header.
    pub counter: u32,
    /// The 12-byte command field, with non-printable bytes escaped.
    pub field: String,
    /// What is wrong with the name in it.
    pub source: CommandError,
}

impl FrameHeader {
    /// Writes the header as it goes on the wire.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [b'-'; HEADER_LEN];
        out[..4].copy_from_slice(&self.counter.to_be_bytes());
        out[4..8].copy_from_slice(&self.size.to_be_bytes());
        let name = self.command.as_bytes();
        out[8..8 + name.len()].copy_from_slice(name);
        out[8 + name.len()] = b' ';
        if self.divided {
            out[HEADER_LEN - 1] = DIVIDED_FLAG;
        }
        out
    }

    /// Reads a header as Wazuh does: the flag is `d` or not; the name is the first 11 bytes of
    /// the command field cut at the first space. An empty name is an error.
    pub fn parse(bytes: &[u8; HEADER_LEN]) -> Result<Self, HeaderError> {
        let counter = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        let size = u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
        let field = &bytes[8..];
        let name_part = &field[..COMMAND_FIELD_LEN - 1];
        let name_end = name_part
            .iter()
            .position(|&b| b == b' ')
            .unwrap_or(name_part.len());
        let command = Command::new(&name_part[..name_end]).map_err(|source| HeaderError {
            counter,
            field: field.escape_ascii().to_string(),
            source,
        })?;
        Ok(Self {
            counter,
            size,
            command,
            divided: field[COMMAND_FIELD_LEN - 1] == DIVIDED_FLAG,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::names;

    fn field(header: &FrameHeader) -> [u8; 12] {
        header.encode()[8..].try_into().unwrap()
    }

    fn header(command: Command, divided: bool) -> FrameHeader {
        FrameHeader {
            counter: 0x9f1d_b584,
            size: 120,
            command,
            divided,
        }
    }

    #[test]
    fn pads_names_as_wazuh_does() {
        assert_eq!(&field(&header(names::HELLO, false)), b"hello ------");
        assert_eq!(&field(&header(names::OK, false)), b"ok ---------");
        assert_eq!(&field(&header(names::SYN_I_W_M_P, false)), b"syn_i_w_m_p ");
        assert_eq!(&field(&header(names::SYN_I_W_M_P, true)), b"syn_i_w_m_pd");
        assert_eq!(&field(&header(names::GET_HEALTH, true)), b"get_health d");
        let bytes = header(names::HELLO, false).encode();
        assert_eq!(
            bytes.to_vec(),
            b"\x9f\x1d\xb5\x84\x00\x00\x00\x78hello ------".to_vec()
        );
    }

    #[test]
    fn parses_what_it_encodes() {
        for command in [
            names::OK,
            names::SYN_I_W_M_P,
            names::GET_HEALTH,
            names::ECHO_C,
        ] {
            for divided in [false, true] {
                let h = header(command, divided);
                assert_eq!(FrameHeader::parse(&h.encode()).unwrap(), h);
            }
        }
    }

    #[test]
    fn parses_replies_with_a_trailing_space_and_twelve_byte_fields() {
        let mut bytes = header(names::OK, false).encode();
        bytes[8..].copy_from_slice(b"ok-m  ------");
        assert_eq!(FrameHeader::parse(&bytes).unwrap().command, names::OK_M);
        bytes[8..].copy_from_slice(b"abcdefghijkl");
        let parsed = FrameHeader::parse(&bytes).unwrap();
        assert_eq!(parsed.command.as_bytes(), b"abcdefghijk");
        assert!(!parsed.divided);
    }

    #[test]
    fn refuses_an_empty_name() {
        let mut bytes = header(names::OK, false).encode();
        bytes[8..].copy_from_slice(b" ok --------");
        let err = FrameHeader::parse(&bytes).unwrap_err();
        assert_eq!(err.counter, 0x9f1d_b584);
        assert_eq!(err.source, CommandError::Empty);
        assert!(err.to_string().contains("\" ok --------\""), "{err}");
    }
}
