//! Cutting whole frames off the front of a receive buffer, refusing oversize ones before any
//! allocation.

use bytes::{Buf, Bytes, BytesMut};

use crate::header::{FrameHeader, HEADER_LEN, HeaderError};
use crate::limits::Limits;

/// One frame as received: its header and its payload (still encrypted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    /// The parsed header.
    pub header: FrameHeader,
    /// The payload, `header.size` bytes.
    pub payload: Bytes,
}

/// A frame that cannot be received; the connection should be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The header cannot be read.
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// The header declares a payload over the limit (Wazuh error 3050).
    #[error(
        "frame header of message {counter} ({command}) declares a {size}-byte payload, over the limit of {max}; close the connection (error 3050)"
    )]
    TooLarge {
        /// Counter of the frame.
        counter: u32,
        /// Its command.
        command: crate::command::Command,
        /// Declared payload size.
        size: u32,
        /// The limit.
        max: usize,
    },
}

/// Parses the header at the front of `buf`, if all 20 bytes are there, and checks its size.
pub fn peek_header(buf: &[u8], limits: &Limits) -> Result<Option<FrameHeader>, FrameError> {
    let Some(bytes) = buf.first_chunk::<HEADER_LEN>() else {
        return Ok(None);
    };
    let header = FrameHeader::parse(bytes)?;
    let max = limits.max_frame_size.min(limits.max_total_size);
    if header.size as usize > max {
        return Err(FrameError::TooLarge {
            counter: header.counter,
            command: header.command,
            size: header.size,
            max,
        });
    }
    Ok(Some(header))
}

/// Removes one whole frame from the front of `buf`, or returns `None` (leaving `buf` as it is)
/// while the frame is incomplete. Nothing is reserved from the announced size: the buffer grows
/// only with bytes actually received (a peer's claim costs no memory until it sends the bytes).
pub fn take_frame(buf: &mut BytesMut, limits: &Limits) -> Result<Option<RawFrame>, FrameError> {
    let Some(header) = peek_header(buf, limits)? else {
        return Ok(None);
    };
    let frame_len = HEADER_LEN + header.size as usize;
    if buf.len() < frame_len {
        return Ok(None);
    }
    buf.advance(HEADER_LEN);
    let payload = buf.split_to(header.size as usize).freeze();
    Ok(Some(RawFrame { header, payload }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::names;

    fn frame_bytes(size: u32, payload: &[u8]) -> BytesMut {
        let header = FrameHeader {
            counter: 7,
            size,
            command: names::OK,
            divided: false,
        };
        let mut buf = BytesMut::from(&header.encode()[..]);
        buf.extend_from_slice(payload);
        buf
    }

    #[test]
    fn waits_for_a_whole_frame() {
        let whole = frame_bytes(3, b"abc");
        for cut in 0..whole.len() {
            let mut buf = BytesMut::from(&whole[..cut]);
            assert_eq!(take_frame(&mut buf, &Limits::default()).unwrap(), None);
            assert_eq!(buf.len(), cut);
        }
        let mut buf = whole.clone();
        buf.extend_from_slice(b"next");
        let frame = take_frame(&mut buf, &Limits::default()).unwrap().unwrap();
        assert_eq!(&frame.payload[..], b"abc");
        assert_eq!(&buf[..], b"next");
    }

    #[test]
    fn refuses_an_oversize_header_without_reserving() {
        let mut buf = frame_bytes(u32::MAX, b"");
        let capacity = buf.capacity();
        let err = take_frame(&mut buf, &Limits::default()).unwrap_err();
        assert!(matches!(
            err,
            FrameError::TooLarge {
                counter: 7,
                size: u32::MAX,
                max: 7_340_032,
                ..
            }
        ));
        assert_eq!(buf.capacity(), capacity, "nothing was allocated");
        // A frame over 7 MiB is refused: Wazuh divides anything bigger.
        let mut over = frame_bytes(7_340_033, b"");
        assert!(matches!(
            take_frame(&mut over, &Limits::default()),
            Err(FrameError::TooLarge { max: 7_340_032, .. })
        ));
        let mut at_limit = frame_bytes(7_340_032, b"");
        let capacity = at_limit.capacity();
        assert_eq!(take_frame(&mut at_limit, &Limits::default()).unwrap(), None);
        assert_eq!(
            at_limit.capacity(),
            capacity,
            "a claim alone allocates nothing"
        );
    }
}
