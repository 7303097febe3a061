//! [`AgentIds`]: the agents sharing one name or one address in the registry's lookups. Almost
//! always a single agent, held without an allocation: a set per name cost the master 64 bytes
//! per agent (a `BTreeSet` node for one id), 3 MB at 50,000 agents.

use std::collections::BTreeSet;

use super::model::AgentId;

/// One or more agent ids, the lowest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AgentIds {
    /// A single agent.
    One(AgentId),
    /// Several agents (never fewer than two).
    Many(BTreeSet<AgentId>),
}

impl AgentIds {
    /// The lowest id.
    pub(crate) fn first(&self) -> Option<AgentId> {
        match self {
            AgentIds::One(id) => Some(*id),
            AgentIds::Many(ids) => ids.first().copied(),
        }
    }

    /// Adds `id`.
    pub(crate) fn insert(&mut self, id: AgentId) {
        match self {
            AgentIds::One(held) if *held == id => {}
            AgentIds::One(held) => *self = AgentIds::Many(BTreeSet::from([*held, id])),
            AgentIds::Many(ids) => {
                ids.insert(id);
            }
        }
    }

    /// Removes `id`; false when no id is left.
    pub(crate) fn remove(&mut self, id: AgentId) -> bool {
        match self {
            AgentIds::One(held) => *held != id,
            AgentIds::Many(ids) => {
                ids.remove(&id);
                if ids.len() <= 1 {
                    match ids.first() {
                        Some(last) => *self = AgentIds::One(*last),
                        None => return false,
                    }
                }
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_id_grows_to_a_set_and_shrinks_back() {
        let mut ids = AgentIds::One(AgentId(7));
        ids.insert(AgentId(7));
        assert_eq!(ids, AgentIds::One(AgentId(7)));
        ids.insert(AgentId(3));
        assert_eq!(ids.first(), Some(AgentId(3)));
        ids.insert(AgentId(9));
        assert!(ids.remove(AgentId(3)));
        assert_eq!(ids.first(), Some(AgentId(7)));
        assert!(ids.remove(AgentId(9)));
        assert_eq!(ids, AgentIds::One(AgentId(7)));
        assert!(!ids.remove(AgentId(7)), "no id left");
    }
}
