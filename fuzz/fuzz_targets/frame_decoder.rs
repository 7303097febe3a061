//! `MessageDecoder` over arbitrary bytes, split at arbitrary points, without a key (the local
//! socket) and with the key of the captured Wazuh 4.9.2 session. It must never panic, never hand
//! out a message larger than the limit, and keep at most the allowed divided messages in flight.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use wazuh_cluster_proto::{Fernet, Limits, MessageDecoder};

/// The cluster key of /work/shared/interop/wazuh-4.9.2-session, so its frames make good seeds.
const KEY: &str = "abcdefghijklmnopqrstuvwxyz012345";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let fernet = (mode & 1 == 1).then(|| Fernet::from_cluster_key(KEY).expect("valid key"));
    let limits = if mode & 2 == 2 {
        Limits::default()
    } else {
        Limits {
            max_total_size: 4096,
            max_frame_size: 4096,
            max_divided_in_flight: 3,
            divided_timeout: Duration::from_secs(30),
        }
    };
    let mut decoder = MessageDecoder::new(fernet, limits);
    // The high bits of the mode byte pick a chunk size: the stream arrives in pieces of that size.
    let chunk = usize::from(mode >> 2) + 1;
    let mut now = Duration::ZERO;
    for piece in rest.chunks(chunk) {
        decoder.push(piece);
        now += Duration::from_secs(1);
        loop {
            match decoder.next_message(now) {
                Ok(Some(decoded)) => {
                    assert!(decoded.frames >= 1);
                    if decoded.frames == 1 {
                        assert!(decoded.message.payload.len() <= limits.max_total_size);
                    }
                }
                Ok(None) => break,
                Err(err) => {
                    let _ = err.to_string();
                    return;
                }
            }
        }
        for dropped in decoder.expire(now) {
            assert!(dropped.frames >= 1);
        }
    }
    let _ = decoder.end_of_stream();
});
