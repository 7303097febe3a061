//! The master election section of `cluster_control -i` on a master-eligible node, from its
//! `get_raft` reply: term, leader, commit and apply points, and each member's match index.

use std::fmt::Write;

use crate::control::protocol::raft::RaftReply;

/// `Master election (Raft): ...` and one line per member.
pub fn raft_section(reply: &RaftReply) -> String {
    let name_of = |id: u64| {
        reply
            .members
            .iter()
            .find(|m| m.id == id)
            .map(|m| m.name.clone().unwrap_or_else(|| m.address.clone()))
            .unwrap_or_else(|| format!("member {id}"))
    };
    let leader = reply.leader.map_or("none elected".to_owned(), |id| {
        format!("{} (member {id})", name_of(id))
    });
    let index = |i: Option<u64>| i.map_or("none".to_owned(), |i| i.to_string());
    let mut out = format!(
        "\nMaster election (Raft), as member {} sees it ({}{}):\n    Term: {}. Leader: {leader}.\n    Log: committed {}, applied {}; replicated registry: {} agents, manifest of {} files.\n    Members:\n",
        reply.id,
        reply.state,
        if reply.serving {
            ", serving as master"
        } else {
            ""
        },
        reply.term,
        index(reply.committed),
        index(reply.applied),
        reply.agents,
        reply.manifest_files,
    );
    for member in &reply.members {
        let role = if Some(member.id) == reply.leader {
            " (master)"
        } else {
            ""
        };
        let matched = match member.match_index {
            Some(i) => format!(", match index {i}"),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "        {} {} at {}{matched}{role}.",
            member.id,
            member.name.as_deref().unwrap_or("(name not heard yet)"),
            member.address,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn shows_term_leader_and_each_members_match_index() {
        let reply: RaftReply = serde_json::from_value(json!({
        "id": 1, "state": "Leader", "serving": true, "term": 3, "leader": 1,
        "committed": 42, "applied": 42, "agents": 7, "manifest_files": 12, "members": [
            {"id": 1, "name": "m1", "address": "127.0.0.1:1516", "match_index": 42},
            {"id": 2, "name": "m2", "address": "127.0.0.1:1517", "match_index": 40},
            {"id": 3, "name": null, "address": "127.0.0.1:1518", "match_index": null}
        ]}))
        .unwrap();
        assert_eq!(
            raft_section(&reply),
            "\nMaster election (Raft), as member 1 sees it (Leader, serving as master):\n\
             \x20   Term: 3. Leader: m1 (member 1).\n\
             \x20   Log: committed 42, applied 42; replicated registry: 7 agents, manifest of 12 files.\n\
             \x20   Members:\n\
             \x20       1 m1 at 127.0.0.1:1516, match index 42 (master).\n\
             \x20       2 m2 at 127.0.0.1:1517, match index 40.\n\
             \x20       3 (name not heard yet) at 127.0.0.1:1518.\n"
        );
    }
}
