//! Property: whatever the messages, however divided frames of different counters interleave and
//! however the byte stream is cut into reads, the decoder returns exactly the messages sent.

use std::time::Duration;

use bytes::BytesMut;
use proptest::prelude::*;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::division::REQUEST_CHUNK;
use wazuh_cluster_proto::{
    Command, DecodedMessage, Fernet, HEADER_LEN, Limits, Message, MessageDecoder, encode_message,
};

const KEY: &str = "abcdefghijklmnopqrstuvwxyz012345";
const COMMANDS: [Command; 5] = [
    names::HELLO,
    names::OK,
    names::SYN_I_W_M_P,
    names::FILE_UPD,
    names::GET_HEALTH,
];

/// The frames of one encoded message, each a whole header + payload.
fn frames_of(wire: &[u8]) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    let mut rest = wire;
    while !rest.is_empty() {
        let size = u32::from_be_bytes(rest[4..8].try_into().unwrap()) as usize;
        frames.push(rest[..HEADER_LEN + size].to_vec());
        rest = &rest[HEADER_LEN + size..];
    }
    frames
}

/// Encodes every message, interleaves their frames as `picks` says (each message keeps its frame
/// order), cuts the stream at `cuts`, decodes, and compares with what was sent.
fn check_round_trip(
    messages: &[Message],
    fernet: Option<&Fernet>,
    picks: &[usize],
    cuts: &[usize],
) {
    let mut queues: Vec<std::collections::VecDeque<Vec<u8>>> = messages
        .iter()
        .map(|m| {
            let mut wire = BytesMut::new();
            encode_message(m, fernet, 1_795_701_891, &mut wire);
            frames_of(&wire).into()
        })
        .collect();
    let expected_frames: Vec<usize> = queues.iter().map(|q| q.len()).collect();
    let mut stream = Vec::new();
    let mut pick = picks.iter().cycle();
    while queues.iter().any(|q| !q.is_empty()) {
        let live: Vec<usize> = (0..queues.len())
            .filter(|&i| !queues[i].is_empty())
            .collect();
        let chosen = live[pick.next().copied().unwrap_or(0) % live.len()];
        stream.extend(queues[chosen].pop_front().unwrap());
    }

    let mut points: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
    points.push(0);
    points.push(stream.len());
    points.sort_unstable();
    let mut decoder = MessageDecoder::new(fernet.cloned(), Limits::default());
    let mut got: Vec<DecodedMessage> = Vec::new();
    let now = Duration::ZERO;
    for window in points.windows(2) {
        decoder.push(&stream[window[0]..window[1]]);
        while let Some(decoded) = decoder.next_message(now).unwrap() {
            got.push(decoded);
        }
    }
    decoder.end_of_stream().unwrap();

    got.sort_by_key(|d| d.message.counter);
    let mut want: Vec<(Message, usize)> = messages.iter().cloned().zip(expected_frames).collect();
    want.sort_by_key(|(m, _)| m.counter);
    let got: Vec<(Message, usize)> = got.into_iter().map(|d| (d.message, d.frames)).collect();
    assert_eq!(got.len(), want.len());
    for ((g, gf), (w, wf)) in got.iter().zip(&want) {
        assert_eq!(g.counter, w.counter);
        assert_eq!(g.command, w.command);
        assert!(g.payload == w.payload, "payload of message {}", w.counter);
        assert_eq!(gf, wf, "frames of message {}", w.counter);
    }
}

fn small_messages() -> impl Strategy<Value = Vec<Message>> {
    (
        any::<u32>(),
        prop::collection::vec(
            (
                0..COMMANDS.len(),
                prop::collection::vec(any::<u8>(), 0..300),
            ),
            1..8,
        ),
    )
        .prop_map(|(base, specs)| {
            specs
                .into_iter()
                .enumerate()
                .map(|(i, (c, payload))| {
                    Message::new(base.wrapping_add(i as u32), COMMANDS[c], payload)
                })
                .collect()
        })
}

/// Messages of which some are over 5 MiB (divided), filled with a cheap pattern.
fn big_messages() -> impl Strategy<Value = Vec<Message>> {
    (
        any::<u32>(),
        prop::collection::vec(
            (
                0..COMMANDS.len(),
                any::<bool>(),
                0usize..6_000_000,
                any::<u8>(),
            ),
            2..5,
        ),
    )
        .prop_map(|(base, specs)| {
            specs
                .into_iter()
                .enumerate()
                .map(|(i, (c, big, extra, seed))| {
                    let len = if big {
                        REQUEST_CHUNK + 1 + extra
                    } else {
                        extra % 1000
                    };
                    let payload: Vec<u8> = (0..len)
                        .map(|j| (j as u8).wrapping_mul(31) ^ seed)
                        .collect();
                    Message::new(base.wrapping_add(i as u32), COMMANDS[c], payload)
                })
                .collect()
        })
}

proptest! {
    #[test]
    fn encrypted_small_messages_survive_any_split(
        messages in small_messages(),
        picks in prop::collection::vec(any::<usize>(), 1..20),
        cuts in prop::collection::vec(any::<usize>(), 0..40),
    ) {
        let fernet = Fernet::from_cluster_key(KEY).unwrap();
        check_round_trip(&messages, Some(&fernet), &picks, &cuts);
    }

    #[test]
    fn plain_small_messages_survive_any_split(
        messages in small_messages(),
        picks in prop::collection::vec(any::<usize>(), 1..20),
        cuts in prop::collection::vec(any::<usize>(), 0..40),
    ) {
        check_round_trip(&messages, None, &picks, &cuts);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    #[test]
    fn interleaved_divided_messages_survive_any_split(
        messages in big_messages(),
        picks in prop::collection::vec(any::<usize>(), 1..20),
        cuts in prop::collection::vec(any::<usize>(), 0..40),
    ) {
        check_round_trip(&messages, None, &picks, &cuts);
    }
}

/// Encryption of several MiB is slow in debug builds: one fixed encrypted case, interleaved,
/// including a header cut exactly at its end (a header arriving alone).
#[test]
fn encrypted_divided_messages_interleave_and_split() {
    let fernet = Fernet::from_cluster_key(KEY).unwrap();
    let messages = vec![
        Message::new(u32::MAX, names::SYN_I_W_M_P, vec![b'a'; REQUEST_CHUNK + 1]),
        Message::new(0, names::GET_HEALTH, vec![b'b'; REQUEST_CHUNK + 4_000_000]),
        Message::new(1, names::OK, b"small".to_vec()),
    ];
    check_round_trip(
        &messages,
        Some(&fernet),
        &[0, 1, 2, 1, 0],
        &[20, 21, REQUEST_CHUNK + 20],
    );
}
