//! Runs `wazuh_peer.py` (Python `cryptography`, `struct`, `zlib` and `json`, as Wazuh's nodes
//! use them) for the tests that compare this crate with Python. Each test file uses a part.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command as Process, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

/// The cluster key of the helper's runs (also the captured session's).
pub const KEY: &str = "abcdefghijklmnopqrstuvwxyz012345";
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/wazuh_peer.py");

/// Whether python3 with `cryptography` can run; false means skip (or panics when
/// `WAZUH_INTEROP_REQUIRED=1`).
pub fn python_available() -> bool {
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
pub fn python(mode: &str, input: &[u8]) -> Vec<u8> {
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
pub fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| ((i * 7 + 3) % 251) as u8).collect()
}

/// A payload as the script reads it.
pub fn payload_json(data: &[u8]) -> Value {
    json!({ "b64": STANDARD.encode(data) })
}

/// A payload as the script writes it.
pub fn payload_from_json(v: &Value) -> Vec<u8> {
    STANDARD.decode(v["b64"].as_str().unwrap()).unwrap()
}
