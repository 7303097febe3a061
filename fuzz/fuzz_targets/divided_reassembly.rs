//! `Reassembler` driven by an arbitrary sequence of frames (counter, divided flag, command,
//! payload) and clock steps, interleaved with `expire`. Checks the limits hold: never more divided
//! messages in flight than allowed, never a joined payload over the size limit, and a joined
//! payload is exactly the concatenation of its frames.
#![no_main]

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use wazuh_cluster_proto::{Command, FrameHeader, Limits, Reassembler};

const COMMANDS: [&[u8]; 4] = [b"dapi", b"syn_m_c", b"file_upd", b"sendsync"];

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_total_size: 64,
        max_frame_size: 64,
        max_divided_in_flight: 3,
        divided_timeout: Duration::from_secs(30),
    };
    let mut reassembler = Reassembler::new(limits);
    // What each counter's frames carried so far, to check the joined result.
    let mut sent: HashMap<u32, Vec<u8>> = HashMap::new();
    let mut now = Duration::ZERO;
    let mut ops = data;
    while let [op, arg, rest @ ..] = ops {
        ops = rest;
        match op % 4 {
            0 => {
                now += Duration::from_secs(u64::from(*arg));
                let dropped = reassembler.expire(now);
                for partial in dropped {
                    assert!(
                        sent.remove(&partial.counter).is_some(),
                        "dropped an unknown message"
                    );
                }
            }
            _ => {
                let counter = u32::from(arg & 0x07);
                let divided = arg & 0x08 != 0;
                let command = Command::new(COMMANDS[usize::from(arg >> 4) % COMMANDS.len()])
                    .expect("short command");
                let len = usize::from(op >> 2).min(ops.len());
                let (payload, rest) = ops.split_at(len);
                ops = rest;
                let header = FrameHeader {
                    counter,
                    size: len as u32,
                    command,
                    divided,
                };
                match reassembler.push(header, Bytes::copy_from_slice(payload), now) {
                    Ok(Some(joined)) => {
                        let mut expected = sent.remove(&counter).unwrap_or_default();
                        expected.extend_from_slice(payload);
                        assert_eq!(&joined.payload[..], &expected[..]);
                        assert!(joined.payload.len() <= limits.max_total_size.max(len));
                    }
                    Ok(None) => sent.entry(counter).or_default().extend_from_slice(payload),
                    Err(err) => {
                        let _ = err.to_string();
                        return;
                    }
                }
            }
        }
        assert!(reassembler.in_flight() <= limits.max_divided_in_flight);
        assert_eq!(reassembler.in_flight(), sent.len());
    }
});
