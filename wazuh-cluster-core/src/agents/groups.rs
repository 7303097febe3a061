//! Groups as files: `etc/shared/<group>/agent.conf`, the multigroup folder of an agent in
//! several groups (`var/multigroups/<hash>/merged.mg`) and the hashes Wazuh compares.
//!
//! - A group list's hash is the first 8 hex characters of the SHA-256 of the comma-joined list
//!   (`"default,web"`): Wazuh names the multigroup folder with it, and wazuh-db keeps it per
//!   agent as `group_hash`.
//! - The global groups hash (the one `syn_g_m_w` carries and workers compare) is the SHA-1 of
//!   the agents' group hashes concatenated in id order, as wazuh-db computes it.

use sha1::{Digest, Sha1};
use wazuh_cluster_proto::payload::{GroupsHash, sha256};

use super::model::AgentId;

/// The folder of every group.
pub const SHARED_DIR: &str = "etc/shared";
/// The folder of multigroup merges.
pub const MULTIGROUPS_DIR: &str = "var/multigroups";
/// The group every agent belongs to when it has no other.
pub const DEFAULT_GROUP: &str = "default";
/// The content of a new group's `agent.conf`.
pub const EMPTY_AGENT_CONF: &str =
    "<agent_config>\n\n  <!-- Shared agent configuration here -->\n\n</agent_config>\n";

/// `etc/shared/<group>/agent.conf`.
pub fn agent_conf_path(group: &str) -> String {
    format!("{SHARED_DIR}/{group}/agent.conf")
}

/// The hash of a group list: 8 hex characters of the SHA-256 of `groups` joined with `,`.
pub fn group_list_hash(groups: &[String]) -> String {
    let digest = sha256(groups.join(",").as_bytes());
    digest[..4].iter().map(|b| format!("{b:02x}")).collect()
}

/// `var/multigroups/<hash>/merged.mg` of an agent in several groups.
pub fn multigroup_path(groups: &[String]) -> String {
    format!("{MULTIGROUPS_DIR}/{}/merged.mg", group_list_hash(groups))
}

/// The global groups hash of these assignments (any order; agents without groups are left out),
/// or `None` when no agent has groups, as wazuh-db answers `null`.
pub fn global_groups_hash<'a>(
    assignments: impl IntoIterator<Item = (AgentId, &'a [String])>,
) -> Option<GroupsHash> {
    let mut rows: Vec<(AgentId, &[String])> = assignments
        .into_iter()
        .filter(|(_, groups)| !groups.is_empty())
        .collect();
    if rows.is_empty() {
        return None;
    }
    rows.sort_by_key(|(id, _)| *id);
    let mut sha = Sha1::new();
    for (_, groups) in rows {
        sha.update(group_list_hash(groups).as_bytes());
    }
    let hex: String = sha.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Some(GroupsHash::try_from(hex).expect("a SHA-1 digest is 40 hex characters"))
}

/// One file of a group, as merged into `merged.mg`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupFile {
    /// The group.
    pub group: String,
    /// The file's base name.
    pub name: String,
    /// Its content.
    pub contents: Vec<u8>,
}

/// The merged file of a multigroup: for each group in order, each of its files as
/// `!<size> <name>\n<content>` (Wazuh's merged format).
pub fn render_merged(files: &[GroupFile]) -> Vec<u8> {
    let mut out = Vec::new();
    for file in files {
        out.extend_from_slice(format!("!{} {}\n", file.contents.len(), file.name).as_bytes());
        out.extend_from_slice(&file.contents);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(groups: &[&str]) -> Vec<String> {
        groups.iter().map(|g| (*g).to_owned()).collect()
    }

    #[test]
    fn multigroup_folder_is_eight_hex_of_sha256_of_the_joined_list() {
        // sha256("default,web") computed independently.
        let hash = group_list_hash(&list(&["default", "web"]));
        assert_eq!(hash.len(), 8);
        let expected: String = sha256(b"default,web")[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hash, expected);
        assert_ne!(hash, group_list_hash(&list(&["web", "default"])));
        assert_eq!(
            multigroup_path(&list(&["default", "web"])),
            format!("var/multigroups/{hash}/merged.mg")
        );
    }

    #[test]
    fn global_hash_depends_on_assignments_not_order_of_listing() {
        let a = list(&["default"]);
        let b = list(&["default", "web"]);
        let one = global_groups_hash([(AgentId(1), &a[..]), (AgentId(2), &b[..])]).unwrap();
        let two = global_groups_hash([(AgentId(2), &b[..]), (AgentId(1), &a[..])]).unwrap();
        assert_eq!(one, two);
        let three = global_groups_hash([(AgentId(1), &b[..]), (AgentId(2), &a[..])]).unwrap();
        assert_ne!(one, three);
        assert_eq!(global_groups_hash([]), None);
    }

    #[test]
    fn merged_format() {
        let merged = render_merged(&[GroupFile {
            group: "g".into(),
            name: "agent.conf".into(),
            contents: b"abc".to_vec(),
        }]);
        assert_eq!(merged, b"!3 agent.conf\nabc");
    }
}
