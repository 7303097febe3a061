//! Interop with Python's `cryptography` Fernet and `struct`-built frames, as Wazuh's Python nodes
//! use them (helper script: `tests/python/wazuh_peer.py`, run by `tests/python/mod.rs`).
//!
//! Skipped with a message when `python3` or `cryptography` is missing, unless
//! `WAZUH_INTEROP_REQUIRED=1`, which turns the skip into a failure.

mod python;

use std::time::Duration;

use bytes::BytesMut;
use python::{KEY, pattern, payload_from_json, payload_json, python, python_available};
use serde_json::{Value, json};
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::division::REQUEST_CHUNK;
use wazuh_cluster_proto::payload::{ExceptionClass, WazuhException, error_codes};
use wazuh_cluster_proto::{
    Command, DecodedMessage, Fernet, Limits, Message, MessageDecoder, encode_message,
};

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

/// Exceptions whose JSON must be exactly what Python's `json.dumps` writes: every class, null
/// and set extras, text Python escapes (non-ASCII as `\\uXXXX`, astral characters as surrogate
/// pairs, control characters, quotes, backslashes, U+2028) and nested `dapi_errors`.
fn exceptions() -> Vec<WazuhException> {
    let mut dapi = WazuhException::cluster(error_codes::CLUSTER)
        .with_extra_message("nodo caído: 😀 \"quoted\" back\\slash\n\t\u{1}\u{7f}\u{2028}/");
    dapi.extra_remediation = Some("日本語 \u{e9}".to_owned());
    dapi.cmd_error = true;
    dapi.dapi_errors = serde_json::from_str(
        r#"{"worker1": {"error": "Timeout \u00e9", "logfile": "WAZUH_HOME/logs/api.log"}, "n": [1, -2, true, null]}"#,
    )
    .unwrap();
    let mut with_ids = WazuhException::error(1701).with_extra_message("agent 001");
    with_ids.ids = Some(vec![json!("001"), json!(2)]);
    vec![
        WazuhException::cluster(error_codes::VERSION_MISMATCH),
        WazuhException::cluster(error_codes::OTHER_CLUSTER),
        WazuhException::cluster(error_codes::DUPLICATE_WORKER).with_extra_message("worker1"),
        WazuhException::internal(1000).with_extra_message(""),
        dapi,
        with_ids,
    ]
}

/// What the helper needs to rebuild `e` in Python.
fn exception_spec(e: &WazuhException) -> Value {
    let mut spec = json!({
        "class": e.class.name(),
        "type": e.kind,
        "title": e.title,
        "code": e.code,
        "extra_message": e.extra_message,
        "extra_remediation": e.extra_remediation,
        "cmd_error": e.cmd_error,
        "dapi_errors": e.dapi_errors,
    });
    if let Some(ids) = &e.ids {
        spec["ids"] = json!(ids);
    }
    spec
}

#[test]
fn error_payloads_are_byte_identical_to_python_json_dumps() {
    if !python_available() {
        return;
    }
    let exceptions = exceptions();
    let specs: Vec<Value> = exceptions.iter().map(exception_spec).collect();
    let dumped: Vec<String> =
        serde_json::from_slice(&python("exception", &serde_json::to_vec(&specs).unwrap())).unwrap();
    assert_eq!(dumped.len(), exceptions.len());
    for (e, python) in exceptions.iter().zip(&dumped) {
        assert_eq!(&e.to_json(), python, "{}", e.code);
        assert_eq!(&WazuhException::from_json(python.as_bytes()).unwrap(), e);
    }
    assert_eq!(
        exceptions[0].class,
        ExceptionClass::Cluster,
        "the first is the plain 3031 of a version mismatch"
    );
}
