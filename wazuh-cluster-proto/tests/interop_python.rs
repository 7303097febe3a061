//! Interop with Python's `cryptography` Fernet and `struct`-built frames, as Wazuh's Python nodes
//! use them (helper script: `tests/python/wazuh_peer.py`).
//!
//! Skipped with a message when `python3` or `cryptography` is missing, unless
//! `WAZUH_INTEROP_REQUIRED=1`, which turns the skip into a failure.

use std::io::Write;
use std::process::{Command as Process, Stdio};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::BytesMut;
use serde_json::{Value, json};
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::division::REQUEST_CHUNK;
use wazuh_cluster_proto::{
    Command, DecodedMessage, Fernet, Limits, Message, MessageDecoder, encode_message,
};

const KEY: &str = "abcdefghijklmnopqrstuvwxyz012345";
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/wazuh_peer.py");

/// Whether python3 with `cryptography` can run; false means skip (or panics when required).
fn python_available() -> bool {
    let ok = Process::new("python3")
        .args(["-c", "import cryptography"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return true;
    }
    let message =
        "python3 with the `cryptography` package is not available (pip install cryptography)";
    if std::env::var("WAZUH_INTEROP_REQUIRED").as_deref() == Ok("1") {
        panic!("{message}, and WAZUH_INTEROP_REQUIRED=1");
    }
    eprintln!("SKIPPED: {message}");
    false
}

/// Runs the helper script in `mode` with `input` on stdin; returns its stdout.
fn python(mode: &str, input: &[u8]) -> Vec<u8> {
    let mut child = Process::new("python3")
        .args([SCRIPT, mode, KEY])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        output.status.success(),
        "wazuh_peer.py {mode} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// The same pattern as the script's `{"pattern": n}`.
fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| ((i * 7 + 3) % 251) as u8).collect()
}

fn payload_json(data: &[u8]) -> Value {
    json!({ "b64": STANDARD.encode(data) })
}

fn payload_from_json(v: &Value) -> Vec<u8> {
    STANDARD.decode(v["b64"].as_str().unwrap()).unwrap()
}

fn samples() -> Vec<Vec<u8>> {
    vec![
        Vec::new(),
        b"keepalive".to_vec(),
        vec![b'x'; 15],
        vec![b'y'; 16],
        vec![0xff, 0x00, 0x80, 0xfe],
        pattern(100_000),
    ]
}

#[test]
fn python_decrypts_our_tokens() {
    if !python_available() {
        return;
    }
    let fernet = Fernet::from_cluster_key(KEY).unwrap();
    let plaintexts = samples();
    let tokens: Vec<String> = plaintexts
        .iter()
        .enumerate()
        .map(|(i, p)| String::from_utf8(fernet.encrypt(p, 1_795_701_891 + i as u64)).unwrap())
        .collect();
    let out: Vec<Value> =
        serde_json::from_slice(&python("decrypt", &serde_json::to_vec(&tokens).unwrap())).unwrap();
    let decrypted: Vec<Vec<u8>> = out.iter().map(payload_from_json).collect();
    assert_eq!(decrypted, plaintexts);
}

#[test]
fn we_decrypt_python_tokens() {
    if !python_available() {
        return;
    }
    let plaintexts = samples();
    let input: Vec<Value> = plaintexts.iter().map(|p| payload_json(p)).collect();
    let tokens: Vec<String> =
        serde_json::from_slice(&python("encrypt", &serde_json::to_vec(&input).unwrap())).unwrap();
    let fernet = Fernet::from_cluster_key(KEY).unwrap();
    for (token, plaintext) in tokens.iter().zip(&plaintexts) {
        assert_eq!(&fernet.decrypt(token.as_bytes()).unwrap(), plaintext);
    }
    let other = Fernet::from_cluster_key("0123456789abcdefghijklmnopqrstuv").unwrap();
    assert!(other.decrypt(tokens[1].as_bytes()).is_err());
}

/// Messages for the frame tests: an 11-byte command, an empty payload and a divided message.
fn frame_messages() -> Vec<(Message, usize)> {
    vec![
        (
            Message::new(2_669_524_356, names::HELLO, "worker1 testcl worker 4.9.2"),
            1,
        ),
        (Message::new(7, names::SYN_I_W_M_P, ""), 1),
        (
            Message::new(u32::MAX, names::GET_HEALTH, pattern(REQUEST_CHUNK + 1000)),
            2,
        ),
        (Message::new(8, names::OK, vec![0x80, 0x81]), 1),
    ]
}

#[test]
fn frames_built_in_python_decode_in_rust() {
    if !python_available() {
        return;
    }
    let expected = frame_messages();
    let spec: Vec<Value> = expected
        .iter()
        .map(|(m, _)| {
            let payload = if m.payload.len() > 1000 {
                json!({ "pattern": m.payload.len() })
            } else {
                payload_json(&m.payload)
            };
            json!({ "counter": m.counter, "command": m.command.to_string(), "payload": payload })
        })
        .collect();
    let stream = python("build", &serde_json::to_vec(&spec).unwrap());
    let fernet = Fernet::from_cluster_key(KEY).unwrap();
    let mut decoder = MessageDecoder::new(Some(fernet), Limits::default());
    let mut got: Vec<DecodedMessage> = Vec::new();
    // Feed in uneven reads so headers and payloads are cut anywhere.
    for chunk in stream.chunks(7919) {
        decoder.push(chunk);
        while let Some(m) = decoder.next_message(Duration::ZERO).unwrap() {
            got.push(m);
        }
    }
    decoder.end_of_stream().unwrap();
    assert_eq!(got.len(), expected.len());
    for (g, (m, frames)) in got.iter().zip(&expected) {
        assert_eq!(
            (g.message.counter, g.message.command),
            (m.counter, m.command)
        );
        assert!(g.message.payload == m.payload, "payload of {}", m.command);
        assert_eq!(g.frames, *frames, "frames of {}", m.command);
    }
}

#[test]
fn our_frames_unpack_in_python() {
    if !python_available() {
        return;
    }
    let fernet = Fernet::from_cluster_key(KEY).unwrap();
    let expected = frame_messages();
    let mut stream = BytesMut::new();
    for (m, _) in &expected {
        encode_message(m, Some(&fernet), 1_795_701_891, &mut stream);
    }
    let out: Vec<Value> = serde_json::from_slice(&python("parse", &stream)).unwrap();
    assert_eq!(out.len(), expected.len());
    for (o, (m, frames)) in out.iter().zip(&expected) {
        assert_eq!(o["counter"].as_u64().unwrap(), u64::from(m.counter));
        let command = Command::new(o["command"].as_str().unwrap().as_bytes()).unwrap();
        assert_eq!(command, m.command);
        assert_eq!(o["frames"].as_u64().unwrap() as usize, *frames);
        assert!(
            payload_from_json(&o["payload"]) == m.payload,
            "payload of {}",
            m.command
        );
    }
}
