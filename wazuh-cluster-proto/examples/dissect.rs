//! Prints the messages of a raw Wazuh cluster stream, one JSON line each.
//!
//! ```text
//! cargo run -p wazuh-cluster-proto --example dissect -- --key KEY < stream.bin
//! cargo run -p wazuh-cluster-proto --example dissect -- --plain < local_socket.bin
//! ```
//!
//! Each line is `{"counter","command","divided": <frames>,"payload": text}`, with `payload_b64`
//! instead of `payload` when the plaintext is not UTF-8. A wrong key or a broken or truncated
//! stream prints `error: ...` on stderr and exits with status 1; bad arguments exit with 2.

use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use wazuh_cluster_proto::{DecodedMessage, Fernet, Limits, MessageDecoder};

const USAGE: &str = "usage: dissect (--key <32-character cluster key> | --plain) < stream.bin";

/// What the arguments ask for: a key, or `None` for an unencrypted stream.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Fernet>, String> {
    let mut fernet = None;
    let mut plain = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--key" => {
                let key = args.next().ok_or("--key needs a value")?;
                fernet = Some(Fernet::from_cluster_key(&key).map_err(|e| e.to_string())?);
            }
            "--plain" => plain = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    match (fernet, plain) {
        (Some(_), true) => Err("give either --key or --plain, not both".into()),
        (None, false) => Err("give --key KEY, or --plain for the local unix socket".into()),
        (fernet, _) => Ok(fernet),
    }
}

fn json_line(decoded: &DecodedMessage) -> serde_json::Value {
    let m = &decoded.message;
    let mut line = json!({
        "counter": m.counter,
        "command": m.command.to_string(),
        "divided": decoded.frames,
    });
    match std::str::from_utf8(&m.payload) {
        Ok(text) => line["payload"] = json!(text),
        Err(_) => line["payload_b64"] = json!(STANDARD.encode(&m.payload)),
    }
    line
}

/// Decodes stdin to stdout; returns a readable error.
fn dissect(fernet: Option<Fernet>) -> Result<(), String> {
    let mut decoder = MessageDecoder::new(fernet, Limits::default());
    let mut stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    let mut buf = vec![0u8; 64 * 1024];
    let mut offset = 0usize;
    loop {
        let n = stdin
            .read(&mut buf)
            .map_err(|e| format!("reading stdin: {e}"))?;
        if n == 0 {
            break;
        }
        decoder.push(&buf[..n]);
        offset += n;
        while let Some(decoded) = decoder
            .next_message(Duration::ZERO)
            .map_err(|e| format!("{e} (stream read up to byte {offset})"))?
        {
            writeln!(stdout, "{}", json_line(&decoded))
                .map_err(|e| format!("writing stdout: {e}"))?;
        }
    }
    decoder
        .end_of_stream()
        .map_err(|e| format!("{e} (at end of stream, byte {offset})"))
}

fn main() -> ExitCode {
    let fernet = match parse_args(std::env::args().skip(1)) {
        Ok(fernet) => fernet,
        Err(problem) => {
            if !problem.is_empty() {
                eprintln!("error: {problem}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match dissect(fernet) {
        Ok(()) => ExitCode::SUCCESS,
        Err(problem) => {
            eprintln!("error: {problem}");
            ExitCode::FAILURE
        }
    }
}
