//! `etc/client.keys`: one `ID NAME IP KEY` line per agent, ids zero-padded to three digits.
//! Rendered from the registry on the master; read on every node to know which agents it may
//! serve.

use std::collections::BTreeMap;

use super::model::{AgentId, AgentRecord};

/// The relative path of the keys file.
pub const CLIENT_KEYS_PATH: &str = "etc/client.keys";

/// One line of `client.keys`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEntry {
    /// The agent's id.
    pub id: AgentId,
    /// Its name.
    pub name: String,
    /// Its IP text (`any` or an address).
    pub ip: String,
}

/// The agents of a `client.keys` file, by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientKeys {
    entries: BTreeMap<AgentId, KeyEntry>,
}

impl ClientKeys {
    /// Reads the file's text. Lines that are empty, malformed, or whose name starts with `!` or
    /// `#` (Wazuh's marks of a removed agent) are skipped, as Wazuh's readers skip them.
    pub fn parse(text: &[u8]) -> Self {
        let text = String::from_utf8_lossy(text);
        let entries = text
            .lines()
            .filter_map(|line| {
                let mut fields = line.split_whitespace();
                let (id, name, ip, key) = (
                    fields.next()?,
                    fields.next()?,
                    fields.next()?,
                    fields.next()?,
                );
                if fields.next().is_some() || name.starts_with(['!', '#']) || key.is_empty() {
                    return None;
                }
                let id: AgentId = id.parse().ok()?;
                Some((
                    id,
                    KeyEntry {
                        id,
                        name: name.to_owned(),
                        ip: ip.to_owned(),
                    },
                ))
            })
            .collect();
        ClientKeys { entries }
    }

    /// Whether agent `id` has a key.
    pub fn contains(&self, id: AgentId) -> bool {
        self.entries.contains_key(&id)
    }

    /// The entry of agent `id`.
    pub fn get(&self, id: AgentId) -> Option<&KeyEntry> {
        self.entries.get(&id)
    }

    /// Every agent id, ascending.
    pub fn ids(&self) -> impl Iterator<Item = AgentId> + '_ {
        self.entries.keys().copied()
    }

    /// Number of agents.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no agent.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The file's text for these agents, ordered by id, one line each, ending with a newline.
pub fn render_client_keys<'a>(agents: impl IntoIterator<Item = &'a AgentRecord>) -> Vec<u8> {
    let mut agents: Vec<&AgentRecord> = agents.into_iter().collect();
    agents.sort_by_key(|a| a.id);
    let mut out = String::new();
    for agent in agents {
        out.push_str(&agent.key_line());
        out.push('\n');
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::model::{AgentIp, AgentKey};

    #[test]
    fn renders_wazuh_lines_and_reads_them_back() {
        let record = |id, name: &str, ip| AgentRecord {
            id: AgentId(id),
            name: name.into(),
            ip,
            key: AgentKey::from_bytes([id as u8; 32]),
            groups: vec!["default".into()],
            registered_at: 0,
        };
        let agents = [
            record(12, "web", AgentIp::Any),
            record(2, "db", "10.0.0.9".parse().unwrap()),
        ];
        let text = render_client_keys(&agents);
        let text_str = String::from_utf8(text.clone()).unwrap();
        assert!(text_str.starts_with(&format!(
            "002 db 10.0.0.9 {}\n012 web any ",
            "02".repeat(32)
        )));
        let keys = ClientKeys::parse(&text);
        assert_eq!(keys.ids().collect::<Vec<_>>(), [AgentId(2), AgentId(12)]);
        assert_eq!(keys.get(AgentId(12)).unwrap().ip, "any");
    }

    #[test]
    fn skips_removed_and_malformed_lines() {
        let keys = ClientKeys::parse(
            b"001 a any k1\n002 !b any k2\nnot a line\n\n004 d 1.2.3.4 k4 extra\n005 e any k5",
        );
        assert_eq!(keys.ids().collect::<Vec<_>>(), [AgentId(1), AgentId(5)]);
    }
}
