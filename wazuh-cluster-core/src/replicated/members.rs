//! [`MemberDirectory`]: which node name each Raft member id has. Every Raft request carries its
//! sender's name and every reply its answerer's, so within one heartbeat the leader knows its
//! followers' names and the followers the leader's: what `cluster_control` shows and what a
//! standby names in the redirection it answers a worker.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Member id to node name, shared by the Raft transport and whoever shows the members.
#[derive(Debug, Clone)]
pub struct MemberDirectory {
    own: (u64, String),
    names: Arc<Mutex<BTreeMap<u64, String>>>,
}

impl MemberDirectory {
    /// The directory of member `id`, named `name` (this node).
    pub fn new(id: u64, name: impl Into<String>) -> Self {
        let name = name.into();
        MemberDirectory {
            names: Arc::new(Mutex::new(BTreeMap::from([(id, name.clone())]))),
            own: (id, name),
        }
    }

    /// This node's member id.
    pub fn own_id(&self) -> u64 {
        self.own.0
    }

    /// This node's name.
    pub fn own_name(&self) -> &str {
        &self.own.1
    }

    fn names(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, String>> {
        self.names.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Notes that member `id` calls itself `name` (this node's own entry never changes).
    pub fn note(&self, id: u64, name: &str) {
        if id == self.own.0 {
            return;
        }
        let mut names = self.names();
        if names.get(&id).map(String::as_str) != Some(name) {
            names.insert(id, name.to_owned());
        }
    }

    /// The name of member `id`, when known.
    pub fn name(&self, id: u64) -> Option<String> {
        self.names().get(&id).cloned()
    }

    /// Every known name, by member id.
    pub fn all(&self) -> BTreeMap<u64, String> {
        self.names().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_learned_and_the_own_entry_is_fixed() {
        let directory = MemberDirectory::new(1, "master-1");
        directory.note(2, "master-2");
        directory.note(1, "impostor");
        directory.note(2, "master-2b");
        assert_eq!(directory.name(1).as_deref(), Some("master-1"));
        assert_eq!(directory.name(2).as_deref(), Some("master-2b"));
        assert_eq!(directory.name(3), None);
        assert_eq!(directory.all().len(), 2);
    }
}
