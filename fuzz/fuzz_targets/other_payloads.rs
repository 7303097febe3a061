//! The remaining payload decoders, picked by the first byte: file transfer (`new_file`,
//! `file_upd`, `file_end` and a whole `FileReceiver` run), string transfer (`new_str`,
//! `str_upd`, string ids), task payloads (`syn_*_e`, `syn_*_r`, `syn_m_a_e`, permission),
//! agent-info and agent-groups envelopes, and the `files_metadata.json` table and sync plan.
//! None may panic; values that decode and re-encode must decode to themselves.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wazuh_cluster_proto::payload::{
    AgentGroupsSync, AgentInfoSync, FileEnd, FileReceiver, FileUpdate, StringStore, SyncPlan,
    SyncResult, TaskError, TaskFile, TransferPath, decode_file_table, parse_new_str,
    parse_permission, parse_str_upd, parse_string_id,
};

/// Largest chunk accepted by the set-data decoders here (small, to exercise the limit).
const MAX_CHUNK: usize = 512;

fuzz_target!(|data: &[u8]| {
    let Some((&which, payload)) = data.split_first() else {
        return;
    };
    match which % 12 {
        0 => {
            if let Ok(path) = TransferPath::decode(payload) {
                assert_eq!(
                    TransferPath::decode(&path.encode()).expect("own path"),
                    path
                );
                let _ = path.relative();
            }
        }
        1 => {
            let _ = FileUpdate::decode(payload);
        }
        2 => {
            let _ = FileEnd::decode(payload);
        }
        3 => file_receiver(payload),
        4 => {
            let _ = parse_new_str(payload);
            let _ = parse_string_id(payload);
        }
        5 => string_store(payload),
        6 => {
            if let Ok(task) = TaskFile::decode(payload) {
                assert_eq!(TaskFile::decode(&task.encode()).expect("own task"), task);
            }
            let _ = parse_permission(payload);
        }
        7 => {
            if let Ok(error) = TaskError::decode(payload) {
                assert_eq!(
                    TaskError::decode(&error.encode()).expect("own error"),
                    error
                );
            }
        }
        8 => {
            if let Ok(result) = SyncResult::decode(payload) {
                assert_eq!(
                    SyncResult::decode(&result.encode()).expect("own result"),
                    result
                );
            }
        }
        9 => {
            if let Ok(sync) = AgentInfoSync::decode(payload, MAX_CHUNK) {
                let again = AgentInfoSync::decode(&sync.encode(), usize::MAX).expect("own info");
                assert_eq!(again, sync);
            }
        }
        10 => {
            if let Ok(sync) = AgentGroupsSync::decode(payload, MAX_CHUNK) {
                let again =
                    AgentGroupsSync::decode(&sync.encode(), usize::MAX).expect("own groups");
                assert_eq!(again, sync);
            }
        }
        _ => {
            if let Ok(value) = serde_json::from_slice::<serde_json::Value>(payload) {
                let table = decode_file_table(value.clone());
                let plan = SyncPlan::decode(value);
                if let (Ok(table), Ok(_)) = (table, plan) {
                    assert!(SyncPlan::compare(&table, &table).is_empty());
                }
            }
        }
    }
});

/// A `new_file` path, then `file_upd` payloads and a `file_end` payload, one per line.
fn file_receiver(payload: &[u8]) {
    let mut parts = payload.split(|&b| b == b'\n');
    let Some(path) = parts.next().and_then(|p| TransferPath::decode(p).ok()) else {
        return;
    };
    let mut receiver = FileReceiver::new(path, 256);
    let mut parts: Vec<&[u8]> = parts.collect();
    let Some(end) = parts.pop() else {
        return;
    };
    for update in parts {
        if receiver.update(update).is_err() {
            return;
        }
        assert!(receiver.received() <= 256);
    }
    let _ = receiver.end(end);
}

/// `new_str` sizes and `str_upd` pieces, one per line, into a small `StringStore`.
fn string_store(payload: &[u8]) {
    let mut store = StringStore::new(128, 512);
    for (id, line) in payload.split(|&b| b == b'\n').enumerate() {
        let id = id as u32 % 4;
        if let Ok(declared) = parse_new_str(line) {
            let _ = store.start(id, declared);
        } else if let Ok((updated, _)) = parse_str_upd(line)
            && store.update(line).is_ok()
            && store.is_complete(updated)
        {
            assert!(store.take(updated).is_some());
        }
    }
}
