//! `Hello::decode` over arbitrary bytes: never panics, and an accepted hello re-encodes to bytes
//! that decode to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wazuh_cluster_proto::payload::Hello;

fuzz_target!(|data: &[u8]| {
    match Hello::decode(data) {
        Ok(hello) => {
            let bytes = hello.encode();
            assert_eq!(Hello::decode(&bytes).expect("our own hello decodes"), hello);
        }
        Err(err) => {
            let _ = err.to_exception();
            let _ = err.to_string();
        }
    }
});
