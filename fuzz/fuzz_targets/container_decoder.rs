//! `decode_container` over arbitrary bytes with small limits: never panics, never inflates past
//! the budget, and every accepted path is a valid relative path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wazuh_cluster_proto::payload::{ContainerLimits, decode_container, validate_relpath};

fuzz_target!(|data: &[u8]| {
    let limits = ContainerLimits {
        max_decompressed: 1 << 16,
        max_entries: 32,
    };
    match decode_container(data, &limits) {
        Ok(decoded) => {
            let inflated: usize = decoded.files.iter().map(|f| f.content.len()).sum();
            assert!(inflated as u64 <= limits.max_decompressed);
            assert!(decoded.files.len() < limits.max_entries);
            for file in &decoded.files {
                assert!(validate_relpath(&file.path).is_ok(), "{:?}", file.path);
            }
        }
        Err(err) => {
            let _ = err.to_string();
        }
    }
});
