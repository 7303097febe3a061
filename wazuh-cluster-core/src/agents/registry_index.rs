//! [`RegistryIndex`]: the master registry's agents and groups in memory, read from the
//! [`AgentStore`](super::store::AgentStore) once and then changed beside it, so that a
//! registration checks names, addresses and ids and renders `client.keys` without reading every
//! agent back from the store (a full read of 50,000 agents took seconds on the daemon's SQLite).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::agent_ids::AgentIds;
use super::client_keys::render_client_keys;
use super::groups::multigroup_path;
use super::model::{AgentId, AgentIp, AgentRecord};

/// The registry's agents by id, with lookups by name and address, the group names and the
/// lists of several groups in use.
#[derive(Debug, Default)]
pub(crate) struct RegistryIndex {
    agents: BTreeMap<AgentId, AgentRecord>,
    names: HashMap<String, AgentIds>,
    ips: HashMap<AgentIp, AgentIds>,
    groups: BTreeSet<String>,
    /// Every list of several groups an agent has, with how many agents have it.
    multigroups: BTreeMap<Vec<String>, usize>,
}

fn link<K: std::hash::Hash + Eq>(map: &mut HashMap<K, AgentIds>, key: K, id: AgentId) {
    map.entry(key)
        .and_modify(|ids| ids.insert(id))
        .or_insert(AgentIds::One(id));
}

fn unlink<K: std::hash::Hash + Eq>(map: &mut HashMap<K, AgentIds>, key: K, id: AgentId) {
    if let Some(ids) = map.get_mut(&key)
        && !ids.remove(id)
    {
        map.remove(&key);
    }
}

impl RegistryIndex {
    /// The index of `agents` and `groups` (what the store holds).
    pub(crate) fn new(agents: Vec<AgentRecord>, groups: Vec<String>) -> Self {
        let mut index = Self {
            groups: groups.into_iter().collect(),
            ..Self::default()
        };
        for agent in agents {
            index.insert(agent);
        }
        index
    }

    /// Agent `id`'s record.
    pub(crate) fn get(&self, id: AgentId) -> Option<&AgentRecord> {
        self.agents.get(&id)
    }

    /// Every record, ascending by id.
    pub(crate) fn records(&self) -> impl Iterator<Item = &AgentRecord> {
        self.agents.values()
    }

    /// The lowest id of an agent named `name`.
    pub(crate) fn id_named(&self, name: &str) -> Option<AgentId> {
        self.names.get(name)?.first()
    }

    /// The lowest id of an agent bound to `ip` (never for `any`).
    pub(crate) fn id_with_ip(&self, ip: AgentIp) -> Option<AgentId> {
        if ip == AgentIp::Any {
            return None;
        }
        self.ips.get(&ip)?.first()
    }

    /// The id a new agent gets: the highest held plus one (at least `001`).
    pub(crate) fn next_id(&self) -> AgentId {
        AgentId(self.agents.keys().next_back().map_or(0, |id| id.0) + 1)
    }

    /// Whether group `name` exists.
    pub(crate) fn has_group(&self, name: &str) -> bool {
        self.groups.contains(name)
    }

    /// Records that group `name` exists.
    pub(crate) fn add_group(&mut self, name: &str) {
        self.groups.insert(name.to_owned());
    }

    /// Every group name, sorted.
    pub(crate) fn groups(&self) -> Vec<String> {
        self.groups.iter().cloned().collect()
    }

    /// Holds `record`, replacing the agent with its id; answers the replaced record.
    pub(crate) fn insert(&mut self, record: AgentRecord) -> Option<AgentRecord> {
        let replaced = self.remove(record.id);
        link(&mut self.names, record.name.clone(), record.id);
        if record.ip != AgentIp::Any {
            link(&mut self.ips, record.ip, record.id);
        }
        self.count_groups(&record.groups, true);
        self.agents.insert(record.id, record);
        replaced
    }

    /// Forgets agent `id`; answers its record.
    pub(crate) fn remove(&mut self, id: AgentId) -> Option<AgentRecord> {
        let record = self.agents.remove(&id)?;
        unlink(&mut self.names, record.name.clone(), id);
        unlink(&mut self.ips, record.ip, id);
        self.count_groups(&record.groups, false);
        Some(record)
    }

    /// Replaces agent `id`'s groups (nothing for an agent without a record: the store keeps
    /// such an assignment, but no line of `client.keys` shows it).
    pub(crate) fn set_groups(&mut self, id: AgentId, groups: &[String]) {
        if let Some(mut record) = self.agents.get(&id).cloned() {
            record.groups = groups.to_vec();
            self.insert(record);
        }
    }

    fn count_groups(&mut self, groups: &[String], add: bool) {
        if groups.len() < 2 {
            return;
        }
        if add {
            *self.multigroups.entry(groups.to_vec()).or_default() += 1;
        } else if let Some(count) = self.multigroups.get_mut(groups) {
            *count -= 1;
            if *count == 0 {
                self.multigroups.remove(groups);
            }
        }
    }

    /// `client.keys` for the agents held.
    pub(crate) fn client_keys(&self) -> Vec<u8> {
        render_client_keys(self.agents.values())
    }

    /// The `merged.mg` path of every list of several groups in use, with that list.
    pub(crate) fn multigroups(&self) -> BTreeMap<String, Vec<String>> {
        self.multigroups
            .keys()
            .map(|groups| (multigroup_path(groups), groups.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::model::AgentKey;

    fn record(id: u32, name: &str, ip: &str, groups: &[&str]) -> AgentRecord {
        AgentRecord {
            id: AgentId(id),
            name: name.into(),
            ip: ip.parse().unwrap(),
            key: AgentKey::from_bytes([1; 32]),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            registered_at: 0,
        }
    }

    #[test]
    fn lookups_follow_inserts_replacements_and_removals() {
        let mut index = RegistryIndex::new(
            vec![
                record(1, "a", "10.0.0.1", &["default"]),
                record(7, "b", "any", &["x", "y"]),
            ],
            vec!["default".into(), "x".into(), "y".into()],
        );
        assert_eq!(index.next_id(), AgentId(8));
        assert_eq!(index.id_named("b"), Some(AgentId(7)));
        assert_eq!(
            index.id_with_ip("10.0.0.1".parse().unwrap()),
            Some(AgentId(1))
        );
        assert_eq!(index.id_with_ip(AgentIp::Any), None);
        assert_eq!(index.multigroups().len(), 1);

        index.insert(record(1, "a2", "10.0.0.2", &["x", "y"]));
        assert_eq!(index.id_named("a"), None);
        assert_eq!(index.id_named("a2"), Some(AgentId(1)));
        assert_eq!(index.id_with_ip("10.0.0.1".parse().unwrap()), None);
        assert_eq!(index.multigroups().values().next().unwrap(), &["x", "y"]);

        index.set_groups(AgentId(7), &["default".into()]);
        index.set_groups(AgentId(99), &["x".into(), "default".into()]);
        assert_eq!(index.multigroups().len(), 1, "agent 1 still has x,y");
        index.remove(AgentId(1));
        assert!(index.multigroups().is_empty());
        assert_eq!(index.next_id(), AgentId(8), "7 is still held");
        index.remove(AgentId(7));
        assert_eq!(index.next_id(), AgentId(1));
        assert!(index.client_keys().is_empty());
    }
}
