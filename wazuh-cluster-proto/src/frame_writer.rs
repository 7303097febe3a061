//! Sending: a message becomes its frames, each header written right before its payload in one
//! contiguous buffer (a Wazuh 4.9.2 receiver hangs when a header arrives alone in a read).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;
use bytes::BytesMut;

use crate::division::{DIVIDED_FRAME_PAYLOAD, is_divided};
use crate::fernet::Fernet;
use crate::header::{FrameHeader, HEADER_LEN};
use crate::message::Message;

/// Raw token bytes that base64-encode to exactly one divided frame's payload (no padding).
const RAW_PER_DIVIDED_FRAME: usize = DIVIDED_FRAME_PAYLOAD / 4 * 3;
const _: () = assert!(DIVIDED_FRAME_PAYLOAD.is_multiple_of(4));

/// Appends the frames of `message` to `out`: encrypted with `fernet` at `unix_time` (seconds),
/// or as plaintext when `fernet` is `None` (the local unix socket).
///
/// A plaintext over [`crate::division::REQUEST_CHUNK`] is encrypted once and its token cut into
/// divided frames of exactly `REQUEST_CHUNK` bytes, as Wazuh does. The token is base64-encoded
/// straight into `out`, right behind each frame's header: a raw chunk of 3,932,145 bytes encodes
/// to exactly one divided payload, so the frames equal those of splitting the base64 text.
///
/// # Panics
/// If the operating system's random number generator fails (see [`Fernet::encrypt`]).
pub fn encode_message(
    message: &Message,
    fernet: Option<&Fernet>,
    unix_time: u64,
    out: &mut BytesMut,
) {
    let divided = is_divided(message.payload.len());
    match fernet {
        None => {
            let chunk = divided.then_some(DIVIDED_FRAME_PAYLOAD);
            write_frames(message, &message.payload, chunk, |len| len, copy_chunk, out);
        }
        Some(fernet) => {
            let mut iv = [0u8; 16];
            getrandom::fill(&mut iv)
                .expect("the operating system's random number generator failed");
            let raw = fernet.seal_raw(&message.payload, unix_time, iv);
            let chunk = divided.then_some(RAW_PER_DIVIDED_FRAME);
            write_frames(message, &raw, chunk, base64_len, base64_chunk, out);
        }
    }
}

/// Appends frames carrying `source`, cut into `chunk`-byte pieces when divided (`None`: one
/// frame). `wire_len` gives a piece's payload length on the wire, `fill` writes it there.
fn write_frames(
    message: &Message,
    source: &[u8],
    chunk: Option<usize>,
    wire_len: fn(usize) -> usize,
    fill: fn(&[u8], &mut [u8]),
    out: &mut BytesMut,
) {
    let pieces: Vec<&[u8]> = match chunk {
        Some(len) => source.chunks(len).collect(),
        None => vec![source],
    };
    let total: usize = pieces.iter().map(|p| HEADER_LEN + wire_len(p.len())).sum();
    out.reserve(total);
    let last = pieces.len() - 1;
    for (index, piece) in pieces.into_iter().enumerate() {
        let size = wire_len(piece.len());
        let header = FrameHeader {
            counter: message.counter,
            size: u32::try_from(size).expect("frame payloads are at most about 7 MB"),
            command: message.command,
            divided: index != last,
        };
        out.extend_from_slice(&header.encode());
        let start = out.len();
        out.resize(start + size, 0);
        fill(piece, &mut out[start..]);
    }
}

fn base64_len(raw_len: usize) -> usize {
    base64::encoded_len(raw_len, true).expect("frame payloads are far below usize::MAX")
}

fn base64_chunk(piece: &[u8], dst: &mut [u8]) {
    let written = URL_SAFE
        .encode_slice(piece, dst)
        .expect("destination sized by base64_len");
    debug_assert_eq!(written, dst.len());
}

fn copy_chunk(piece: &[u8], dst: &mut [u8]) {
    dst.copy_from_slice(piece);
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::command::names;
    use crate::decoder::MessageDecoder;
    use crate::division::REQUEST_CHUNK;
    use crate::limits::Limits;

    /// (command field, payload size) of every frame in `wire`.
    fn frames(wire: &[u8]) -> Vec<(Vec<u8>, usize)> {
        let mut out = Vec::new();
        let mut rest = wire;
        while !rest.is_empty() {
            let size = u32::from_be_bytes(rest[4..8].try_into().unwrap()) as usize;
            out.push((rest[8..20].to_vec(), size));
            rest = &rest[HEADER_LEN + size..];
        }
        out
    }

    #[test]
    fn a_small_message_is_one_frame_header_then_token() {
        let fernet = Fernet::from_cluster_key("abcdefghijklmnopqrstuvwxyz012345").unwrap();
        let message = Message::new(2_669_524_356, names::HELLO, "worker1 testcl worker 4.9.2");
        let mut out = BytesMut::new();
        encode_message(&message, Some(&fernet), 1_795_701_891, &mut out);
        assert_eq!(&out[..20], b"\x9f\x1d\xb5\x84\x00\x00\x00\x78hello ------");
        assert_eq!(out.len(), 20 + 120);
        assert_eq!(fernet.decrypt(&out[20..]).unwrap(), message.payload);
    }

    #[test]
    fn divides_as_wazuh_does_a_6_mib_plaintext() {
        // Plain: the example of the spec, 6 MiB gives 5,242,860 + 1,048,596 payload bytes.
        let message = Message::new(9, names::GET_HEALTH, vec![b'a'; 6 * 1024 * 1024]);
        let mut out = BytesMut::new();
        encode_message(&message, None, 0, &mut out);
        assert_eq!(
            frames(&out),
            vec![
                (b"get_health d".to_vec(), 5_242_860),
                (b"get_health -".to_vec(), 6 * 1024 * 1024 - 5_242_860)
            ]
        );
        assert_eq!(20 + 5_242_860, REQUEST_CHUNK);
        let mut decoder = MessageDecoder::new(None, Limits::default());
        decoder.push(&out);
        let decoded = decoder.next_message(Duration::ZERO).unwrap().unwrap();
        assert_eq!((decoded.message, decoded.frames), (message, 2));
    }

    #[test]
    fn an_exactly_5_mib_plaintext_stays_one_frame() {
        let message = Message::new(1, names::OK, vec![0u8; REQUEST_CHUNK]);
        let mut out = BytesMut::new();
        encode_message(&message, None, 0, &mut out);
        assert_eq!(
            frames(&out),
            vec![(b"ok ---------".to_vec(), REQUEST_CHUNK)]
        );
        let empty = Message::new(1, names::OK, Vec::new());
        let mut out = BytesMut::new();
        encode_message(&empty, None, 0, &mut out);
        assert_eq!(frames(&out), vec![(b"ok ---------".to_vec(), 0)]);
    }
}
