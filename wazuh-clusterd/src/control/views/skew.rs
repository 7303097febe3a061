//! The clock offsets section of `cluster_control -i`, from this node's `get_skew` reply.

use std::fmt::Write;

use crate::control::protocol::skew::SkewReply;

/// `Clock offsets measured by this node (warning over 5s):` and one line per peer, or a line
/// saying none was measured yet.
pub fn skew_section(reply: &SkewReply) -> String {
    let threshold = reply.threshold_seconds;
    let mut out = format!("\nClock offsets measured by this node (warning over {threshold}s):\n");
    if reply.peers.is_empty() {
        out.push_str("    none yet.\n");
        return out;
    }
    for (name, peer) in &reply.peers {
        let offset = peer.offset_seconds;
        let flag = if offset.abs() > threshold {
            " OVER THE THRESHOLD"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "    {name}: {offset:+.1}s ({} samples, last {}){flag}.",
            peer.samples, peer.last_sample,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn shows_each_peer_and_flags_the_far_ones() {
        let reply: SkewReply = serde_json::from_value(json!({"threshold_seconds": 5.0, "peers": {
            "worker01": {"offset_seconds": -30.2, "samples": 16, "last_sample": "2024-10-01T12:00:00.000000Z"},
            "worker02": {"offset_seconds": 0.4, "samples": 3, "last_sample": "2024-10-01T12:00:01.000000Z"}
        }}))
        .unwrap();
        assert_eq!(
            skew_section(&reply),
            "\nClock offsets measured by this node (warning over 5s):\n\
             \x20   worker01: -30.2s (16 samples, last 2024-10-01T12:00:00.000000Z) OVER THE THRESHOLD.\n\
             \x20   worker02: +0.4s (3 samples, last 2024-10-01T12:00:01.000000Z).\n"
        );
        let none: SkewReply =
            serde_json::from_value(json!({"threshold_seconds": 5.0, "peers": {}})).unwrap();
        assert!(skew_section(&none).ends_with("    none yet.\n"));
    }
}
