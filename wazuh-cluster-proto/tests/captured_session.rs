//! Decodes a session captured between a real Wazuh 4.9.2 master and worker and checks every
//! message against the independent Python decoding in `wire.jsonl`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use wazuh_cluster_proto::{DecodedMessage, Fernet, Limits, MessageDecoder};

const KEY: &str = "abcdefghijklmnopqrstuvwxyz012345";

fn session_dir() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/interop/wazuh-4.9.2-session"
    ))
    .to_path_buf()
}

/// Skips (returns false) when the capture is absent, unless `WAZUH_INTEROP_REQUIRED=1`.
fn capture_available(dir: &Path) -> bool {
    if dir.is_dir() {
        return true;
    }
    let message = format!("captured session not found at {}", dir.display());
    if std::env::var("WAZUH_INTEROP_REQUIRED").as_deref() == Ok("1") {
        panic!("{message}, and WAZUH_INTEROP_REQUIRED=1");
    }
    eprintln!("SKIPPED: {message}");
    false
}

/// One message as the Python decoder saw it.
#[derive(Debug)]
struct Expected {
    counter: u32,
    command: String,
    frames: usize,
    plain_len: usize,
    plain_head: Vec<u8>,
}

/// The messages of one direction, in order; frames of a divided message are grouped.
fn expected_messages(dir: &Path, direction: &str) -> Vec<Expected> {
    let text = std::fs::read_to_string(dir.join("wire.jsonl")).unwrap();
    let mut out: Vec<Expected> = Vec::new();
    let mut open_frames: std::collections::HashMap<u64, usize> = Default::default();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        if v["event"] != "frame" || v["dir"] != direction {
            continue;
        }
        let counter = v["counter"].as_u64().unwrap();
        let frames = open_frames.remove(&counter).unwrap_or(0) + 1;
        if v["divided"].as_bool().unwrap() {
            open_frames.insert(counter, frames);
            continue;
        }
        // plain_head is the first plaintext bytes decoded as Latin-1: one char per byte.
        let plain_head = v["plain_head"]
            .as_str()
            .unwrap()
            .chars()
            .map(|c| u8::try_from(u32::from(c)).expect("Latin-1 character"))
            .collect();
        out.push(Expected {
            counter: u32::try_from(counter).unwrap(),
            command: v["cmd"].as_str().unwrap().to_owned(),
            frames,
            plain_len: v["plain_len"].as_u64().unwrap() as usize,
            plain_head,
        });
    }
    assert!(
        open_frames.is_empty(),
        "wire.jsonl ends inside a divided message"
    );
    out
}

fn decode_stream(path: &Path) -> Vec<DecodedMessage> {
    let bytes = std::fs::read(path).unwrap();
    let fernet = Fernet::from_cluster_key(KEY).unwrap();
    let mut decoder = MessageDecoder::new(Some(fernet), Limits::default());
    decoder.push(&bytes);
    let mut out = Vec::new();
    while let Some(message) = decoder.next_message(Duration::ZERO).unwrap() {
        out.push(message);
    }
    decoder.end_of_stream().unwrap();
    out
}

fn check_direction(file: &str, direction: &str) {
    let dir = session_dir();
    if !capture_available(&dir) {
        return;
    }
    let got = decode_stream(&dir.join(file));
    let want = expected_messages(&dir, direction);
    assert_eq!(got.len(), want.len(), "{file}: number of messages");
    assert!(!want.is_empty());
    for (index, (g, w)) in got.iter().zip(&want).enumerate() {
        let at = format!("{file} message {index} ({w:?})");
        assert_eq!(g.message.counter, w.counter, "{at}: counter");
        assert_eq!(g.message.command.to_str_lossy(), w.command, "{at}: command");
        assert_eq!(g.frames, w.frames, "{at}: frames");
        assert_eq!(
            g.message.payload.len(),
            w.plain_len,
            "{at}: plaintext length"
        );
        assert!(
            g.message.payload.starts_with(&w.plain_head),
            "{at}: plaintext starts {:?}",
            String::from_utf8_lossy(
                &g.message.payload[..w.plain_head.len().min(g.message.payload.len())]
            )
        );
    }
}

#[test]
fn worker_to_master_stream_decodes_as_captured() {
    check_direction("conn1_w2m.bin", "w2m");
}

#[test]
fn master_to_worker_stream_decodes_as_captured() {
    check_direction("conn1_m2w.bin", "m2w");
}

#[test]
fn a_wrong_key_is_refused_with_error_3025() {
    let dir = session_dir();
    if !capture_available(&dir) {
        return;
    }
    let bytes = std::fs::read(dir.join("conn1_w2m.bin")).unwrap();
    let wrong = Fernet::from_cluster_key("abcdefghijklmnopqrstuvwxyz012346").unwrap();
    let mut decoder = MessageDecoder::new(Some(wrong), Limits::default());
    decoder.push(&bytes);
    let err = decoder.next_message(Duration::ZERO).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("hello") && text.contains("3025"), "{text}");
}
