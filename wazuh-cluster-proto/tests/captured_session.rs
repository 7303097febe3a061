//! A session captured between a real Wazuh 4.9.2 master and worker (`../shared/interop/`),
//! decoded by this crate and checked against two independent decodings: `wire.jsonl` (every
//! frame header byte, size, command, division flag, Fernet version and timestamp, plaintext
//! length and first 96 bytes) and Python's `cryptography`/`struct`/`zlib` run now on the same
//! bytes (every plaintext in full, every header, every timestamp, the containers' entries).
//! The captured rejected `hello` (another cluster's worker) and the master's 3030 reply are
//! decoded too, and the reply must be byte for byte what this crate writes for 3030. Finally the
//! whole session passes the replay checks a Rust node applies, and replaying it does not.
//!
//! Skipped with a message when the capture (or, for the Python parts, `python3` with
//! `cryptography`) is missing, unless `WAZUH_INTEROP_REQUIRED=1`.

mod python;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;
use bytes::BytesMut;
use python::{KEY, payload_from_json, python, python_available};
use serde_json::Value;
use tokio_util::codec::Decoder;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::{
    ContainerIndex, ContainerLimits, FileReceiver, Hello, Inflater, SyncPlan, TransferPath,
    WazuhException, decode_container, decode_file_table, error_codes,
};
use wazuh_cluster_proto::{
    Clock, CodecError, DecodeError, DecodedMessage, Fernet, FrameHeader, HEADER_LEN, Limits,
    Message, MessageCodec, MessageDecoder, ReplayError, ReplayGuard, SeenTokens,
};

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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// The frame lines of `file` (a `.jsonl` of the capture) for `direction`.
fn frame_lines(dir: &Path, file: &str, direction: &str) -> Vec<Value> {
    std::fs::read_to_string(dir.join(file))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|v| v["event"] == "frame" && v["dir"] == direction)
        .collect()
}

/// `plain_head` holds the first plaintext bytes decoded as Latin-1: one char per byte.
fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).expect("Latin-1 character"))
        .collect()
}

/// The stream's frames as this crate reads them: header bytes, parsed header, payload.
fn frames(stream: &[u8]) -> Vec<([u8; HEADER_LEN], FrameHeader, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < stream.len() {
        let raw: [u8; HEADER_LEN] = stream[at..at + HEADER_LEN].try_into().unwrap();
        let header = FrameHeader::parse(&raw).unwrap();
        let start = at + HEADER_LEN;
        let end = start + header.size as usize;
        out.push((raw, header, stream[start..end].to_vec()));
        at = end;
    }
    out
}

/// Every message of `stream`, with the Fernet timestamp of its token.
fn messages(stream: &[u8]) -> Vec<(DecodedMessage, u64)> {
    let fernet = Fernet::from_cluster_key(KEY).unwrap();
    let mut decoder = MessageDecoder::new(Some(fernet.clone()), Limits::default());
    decoder.push(stream);
    let mut out = Vec::new();
    let mut tokens: HashMap<u32, Vec<u8>> = HashMap::new();
    let mut frames = frames(stream).into_iter();
    while let Some(message) = decoder.next_message(Duration::ZERO).unwrap() {
        // The token of this message: its frames' payloads, joined.
        let token = loop {
            let (_, header, payload) = frames.next().expect("a frame per message part");
            tokens
                .entry(header.counter)
                .or_default()
                .extend_from_slice(&payload);
            if !header.divided {
                break tokens.remove(&header.counter).unwrap();
            }
        };
        let opened = fernet.decrypt_fresh(&token, u64::MAX, u64::MAX).unwrap();
        assert!(opened.plaintext == message.message.payload);
        out.push((message, opened.time));
    }
    decoder.end_of_stream().unwrap();
    out
}

/// Every frame against `wire.jsonl`: header bytes, fields, payload start, Fernet version.
fn check_frames_against_the_capture(file: &str, direction: &str) {
    let dir = session_dir();
    if !capture_available(&dir) {
        return;
    }
    let stream = std::fs::read(dir.join(file)).unwrap();
    let got = frames(&stream);
    let want = frame_lines(&dir, "wire.jsonl", direction);
    assert_eq!(got.len(), want.len(), "{file}: frames");
    for (index, ((raw, header, payload), w)) in got.iter().zip(&want).enumerate() {
        let at = format!("{file} frame {index} ({})", w["cmd"]);
        assert_eq!(hex(raw), w["header_hex"].as_str().unwrap(), "{at}: header");
        assert_eq!(u64::from(header.counter), w["counter"], "{at}: counter");
        assert_eq!(u64::from(header.size), w["payload_len"], "{at}: size");
        assert_eq!(
            header.command.to_str_lossy(),
            w["cmd"].as_str().unwrap(),
            "{at}: command"
        );
        assert_eq!(header.divided, w["divided"], "{at}: division flag");
        assert_eq!(
            String::from_utf8_lossy(&raw[8..]),
            w["cmd_raw"].as_str().unwrap(),
            "{at}: raw command field"
        );
        let head = unhex(w["payload_head_hex"].as_str().unwrap());
        assert!(payload.starts_with(&head), "{at}: payload bytes");
        if !header.divided {
            let token = URL_SAFE.decode(payload).expect("a whole token");
            assert_eq!(token[0], w["fernet_version"], "{at}: Fernet version");
        }
    }
}

/// Every message against `wire.jsonl`: counter, command, timestamp, plaintext length and head.
fn check_messages_against_the_capture(file: &str, direction: &str) {
    let dir = session_dir();
    if !capture_available(&dir) {
        return;
    }
    let got = messages(&std::fs::read(dir.join(file)).unwrap());
    let want: Vec<Value> = frame_lines(&dir, "wire.jsonl", direction)
        .into_iter()
        .filter(|w| w["divided"] == false)
        .collect();
    assert_eq!(got.len(), want.len(), "{file}: messages");
    for (index, ((g, time), w)) in got.iter().zip(&want).enumerate() {
        let at = format!("{file} message {index} ({})", w["cmd"]);
        assert_eq!(u64::from(g.message.counter), w["counter"], "{at}: counter");
        assert_eq!(
            g.message.command.to_str_lossy(),
            w["cmd"].as_str().unwrap(),
            "{at}: command"
        );
        assert_eq!(*time, w["fernet_ts"], "{at}: Fernet timestamp");
        assert_eq!(
            g.message.payload.len() as u64,
            w["plain_len"],
            "{at}: plaintext length"
        );
        let head = latin1(w["plain_head"].as_str().unwrap());
        assert!(head.len() == g.message.payload.len() || head.len() == 96);
        assert!(g.message.payload.starts_with(&head), "{at}: plaintext head");
    }
}

/// Every message against Python's decoding of the same bytes, plaintexts in full.
fn check_messages_against_python(file: &str) {
    let dir = session_dir();
    if !capture_available(&dir) || !python_available() {
        return;
    }
    let stream = std::fs::read(dir.join(file)).unwrap();
    let got = messages(&stream);
    let want: Vec<Value> = serde_json::from_slice(&python("dissect", &stream)).unwrap();
    assert_eq!(got.len(), want.len(), "{file}: messages");
    let raw_frames = frames(&stream);
    let mut headers = raw_frames.iter().map(|(raw, _, _)| hex(raw));
    for (index, ((g, time), w)) in got.iter().zip(&want).enumerate() {
        let at = format!("{file} message {index} ({})", w["command"]);
        assert_eq!(u64::from(g.message.counter), w["counter"], "{at}: counter");
        assert_eq!(
            g.message.command.to_str_lossy(),
            w["command"].as_str().unwrap(),
            "{at}: command"
        );
        assert_eq!(*time, w["fernet_ts"], "{at}: Fernet timestamp");
        let python_headers = w["headers"].as_array().unwrap();
        assert_eq!(g.frames, python_headers.len(), "{at}: frames");
        for python_header in python_headers {
            assert_eq!(
                headers.next().unwrap(),
                python_header.as_str().unwrap(),
                "{at}: header"
            );
        }
        assert!(
            g.message.payload == payload_from_json(&w["payload"]),
            "{at}: plaintext differs from Python's"
        );
    }
}

#[test]
fn worker_to_master_frames_match_the_capture() {
    check_frames_against_the_capture("conn1_w2m.bin", "w2m");
}

#[test]
fn master_to_worker_frames_match_the_capture() {
    check_frames_against_the_capture("conn1_m2w.bin", "m2w");
}

#[test]
fn worker_to_master_messages_match_the_capture() {
    check_messages_against_the_capture("conn1_w2m.bin", "w2m");
}

#[test]
fn master_to_worker_messages_match_the_capture() {
    check_messages_against_the_capture("conn1_m2w.bin", "m2w");
}

#[test]
fn worker_to_master_plaintexts_match_python_in_full() {
    check_messages_against_python("conn1_w2m.bin");
}

#[test]
fn master_to_worker_plaintexts_match_python_in_full() {
    check_messages_against_python("conn1_m2w.bin");
}

/// The file a direction's `new_file`/`file_upd`/`file_end` carry, checked by its SHA-256.
fn transferred_file(stream: &[u8]) -> Vec<u8> {
    let mut receiver: Option<FileReceiver> = None;
    let mut file = Vec::new();
    for (decoded, _) in messages(stream) {
        let Message {
            command, payload, ..
        } = decoded.message;
        if command == names::NEW_FILE {
            receiver = Some(FileReceiver::new(
                TransferPath::decode(&payload).unwrap(),
                1 << 20,
            ));
        } else if command == names::FILE_UPD {
            file.extend_from_slice(receiver.as_mut().unwrap().update(&payload).unwrap());
        } else if command == names::FILE_END {
            receiver.take().unwrap().end(&payload).unwrap();
            return file;
        }
    }
    panic!("no whole file transfer in the stream");
}

fn check_container(file: &str, files: &[&str]) {
    let dir = session_dir();
    if !capture_available(&dir) {
        return;
    }
    let container = transferred_file(&std::fs::read(dir.join(file)).unwrap());
    let decoded = decode_container(&container, &ContainerLimits::default()).unwrap();
    let paths: Vec<&str> = decoded.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, files, "{file}: container files");
    let metadata = decoded.metadata.as_object().expect("metadata is an object");
    for path in files {
        assert!(
            metadata.values().any(|group| group.get(*path).is_some())
                || metadata.contains_key(*path),
            "{file}: {path} has metadata: {metadata:?}"
        );
    }
    if !python_available() {
        return;
    }
    let entries: Vec<Value> = serde_json::from_slice(&python("container", &container)).unwrap();
    assert_eq!(entries.len(), decoded.files.len() + 1, "{file}: entries");
    for (ours, python) in decoded.files.iter().zip(&entries) {
        assert_eq!(ours.path, python["path"].as_str().unwrap());
        assert!(ours.content == payload_from_json(&python["content"]));
    }
    let last = entries.last().unwrap();
    assert_eq!(last["path"], "files_metadata.json");
    let python_metadata: Value =
        serde_json::from_slice(&payload_from_json(&last["content"])).unwrap();
    assert_eq!(decoded.metadata, python_metadata, "{file}: metadata");
}

/// The container read as a received one is: indexed from a reader, its metadata parsed
/// straight into `T` and its files inflated by offset, equal to the whole decoding.
fn check_indexed<T: serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(
    file: &str,
    typed: impl Fn(serde_json::Value) -> T,
) {
    let dir = session_dir();
    if !capture_available(&dir) {
        return;
    }
    let container = transferred_file(&std::fs::read(dir.join(file)).unwrap());
    let limits = ContainerLimits::default();
    let decoded = decode_container(&container, &limits).unwrap();
    let index = ContainerIndex::scan(std::io::Cursor::new(&container), &limits).unwrap();
    let mut inflater = Inflater::new(&limits);
    let metadata = index.metadata();
    let parsed: T = inflater
        .parse(metadata, ContainerIndex::body(&container, metadata))
        .unwrap();
    assert_eq!(parsed, typed(decoded.metadata), "{file}: typed metadata");
    assert_eq!(index.files().len(), decoded.files.len());
    for (entry, whole) in index.files().iter().zip(&decoded.files) {
        assert_eq!(entry.path, whole.path);
        let body = ContainerIndex::body(&container, entry);
        assert_eq!(inflater.inflate(entry, body).unwrap(), whole.content);
    }
}

#[test]
fn wazuh_containers_read_by_index_match_the_whole_decoding() {
    check_indexed("conn1_w2m.bin", |v| decode_file_table(v).unwrap());
    check_indexed("conn1_m2w.bin", |v| SyncPlan::decode(v).unwrap());
}

#[test]
fn the_workers_integrity_container_decodes() {
    check_container("conn1_w2m.bin", &[]);
}

#[test]
fn the_masters_sync_container_decodes_with_its_three_missing_files() {
    let dir = session_dir();
    if !capture_available(&dir) {
        return;
    }
    let container = transferred_file(&std::fs::read(dir.join("conn1_m2w.bin")).unwrap());
    let decoded = decode_container(&container, &ContainerLimits::default()).unwrap();
    assert_eq!(decoded.files.len(), 3, "{:?}", decoded.files);
    let paths: Vec<&str> = decoded.files.iter().map(|f| f.path.as_str()).collect();
    check_container("conn1_m2w.bin", &paths);
}

/// The rejected session's frames, rebuilt from `header_hex` and the whole payload in
/// `payload_head_hex` (these tokens are short enough to be captured whole).
fn rejected_stream(dir: &Path, direction: &str) -> Vec<u8> {
    let mut stream = Vec::new();
    for line in frame_lines(dir, "wire_rejected_cluster_name.jsonl", direction) {
        let payload = unhex(line["payload_head_hex"].as_str().unwrap());
        assert_eq!(payload.len() as u64, line["payload_len"], "captured whole");
        stream.extend(unhex(line["header_hex"].as_str().unwrap()));
        stream.extend(payload);
    }
    stream
}

#[test]
fn the_captured_rejected_hello_and_its_3030_reply_decode_and_match_ours() {
    let dir = session_dir();
    if !capture_available(&dir) {
        return;
    }
    let hello = messages(&rejected_stream(&dir, "w2m"));
    let reply = messages(&rejected_stream(&dir, "m2w"));
    assert_eq!((hello.len(), reply.len()), (1, 1));
    let (hello, hello_time) = &hello[0];
    let (reply, reply_time) = &reply[0];
    assert_eq!(hello.message.command, names::HELLO);
    assert_eq!(*hello_time, 1_795_702_108);
    assert_eq!(*reply_time, 1_795_702_108);
    let decoded = Hello::decode(&hello.message.payload).unwrap();
    assert_eq!(
        (decoded.name(), decoded.cluster(), decoded.version()),
        ("w-bad", "othercl", "4.9.2")
    );
    assert_eq!(reply.message.command, names::ERR);
    assert_eq!(reply.message.counter, hello.message.counter);
    let ours = WazuhException::cluster(error_codes::OTHER_CLUSTER).to_json();
    assert_eq!(
        ours.as_bytes(),
        &reply.message.payload[..],
        "our 3030 is Wazuh's, byte for byte"
    );
    let theirs = WazuhException::from_err_reply(&reply.message.payload);
    assert_eq!(theirs.code, error_codes::OTHER_CLUSTER);
}

/// The unix time of the capture, as the receiving node's clock.
struct CaptureClock;

impl Clock for CaptureClock {
    fn unix_seconds(&self) -> u64 {
        1_795_701_894
    }
    fn monotonic(&self) -> Duration {
        Duration::ZERO
    }
}

/// Decodes `stream` through a codec with a replay guard on `seen`; the first error, if any.
fn guarded(stream: &[u8], seen: &Arc<SeenTokens>) -> Result<usize, CodecError> {
    let mut codec = MessageCodec::new(
        Some(Fernet::from_cluster_key(KEY).unwrap()),
        Limits::default(),
        Arc::new(CaptureClock),
    )
    .with_replay_guard(ReplayGuard::new(Duration::from_secs(300), seen.clone()));
    let mut buf = BytesMut::from(stream);
    let mut count = 0;
    while codec.decode(&mut buf)?.is_some() {
        count += 1;
    }
    Ok(count)
}

#[test]
fn a_python_peer_passes_the_replay_checks_and_its_replay_does_not() {
    let dir = session_dir();
    if !capture_available(&dir) {
        return;
    }
    for (file, count) in [("conn1_w2m.bin", 14), ("conn1_m2w.bin", 14)] {
        let stream = std::fs::read(dir.join(file)).unwrap();
        let seen = SeenTokens::new();
        assert_eq!(guarded(&stream, &seen).unwrap(), count, "{file}");
        // The recorded bytes again, on a fresh connection of the same node.
        match guarded(&stream, &seen) {
            Err(CodecError::Decode(DecodeError::Replay {
                source: ReplayError::SeenToken { .. },
                ..
            })) => {}
            other => panic!("{file}: the replay was not refused: {other:?}"),
        }
    }
}
