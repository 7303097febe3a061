//! The `err` payload decoders: `WazuhException::from_err_reply` (JSON exception or plain text),
//! `from_json`, `from_value`, the message text, and re-encoding: an exception decoded from JSON
//! must survive `to_json` and decoding again unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wazuh_cluster_proto::payload::{WazuhException, unknown_command_payload};

fuzz_target!(|data: &[u8]| {
    let reply = WazuhException::from_err_reply(data);
    let _ = reply.to_string();
    let _ = unknown_command_payload(data);
    if let Ok(exception) = WazuhException::from_json(data) {
        let json = exception.to_json();
        let again = WazuhException::from_json(json.as_bytes()).expect("our own JSON decodes");
        assert_eq!(again, exception, "{json}");
        assert_eq!(again.to_json(), json);
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = WazuhException::from_value(value);
    }
});
