//! The replicated registry: agents, groups and the file manifest, and the one function that
//! changes them, [`Registry::apply`]. It reads no clock, no randomness and no storage, so every
//! node that applies the same commands in the same order holds the same registry.
//!
//! Rules, as the master's registry applies them today: agent names are unique; IPs are unique
//! unless `any`; a new agent gets the highest id ever given plus one (ids are never reused);
//! groups must exist before an agent joins them, and `default` always exists; an agent
//! without groups is in `default`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::command::{Applied, RegistryCommand};
use super::manifest::{ManifestEntry, check_path};
use super::refusal::CommandRefused;
use crate::agents::groups::DEFAULT_GROUP;
use crate::agents::model::{validate_agent_name, validate_group_name};
use crate::agents::{AgentId, AgentIp, AgentRecord};

/// The highest agent id (`u32::MAX` stays free so that "next id" never overflows).
const MAX_AGENT_ID: u32 = u32::MAX - 1;

/// Everything the Raft log replicates, with lookup indexes for names and IPs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "RegistryData", into = "RegistryData")]
pub struct Registry {
    data: RegistryData,
    by_name: HashMap<String, AgentId>,
    by_ip: HashMap<AgentIp, AgentId>,
}

/// The registry's contents as written in snapshots (the indexes are rebuilt when read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryData {
    /// Every agent, by id.
    pub agents: BTreeMap<AgentId, AgentRecord>,
    /// Every group (always with `default`).
    pub groups: BTreeSet<String>,
    /// The file manifest, by path.
    pub manifest: BTreeMap<String, ManifestEntry>,
    /// The id the next registration without an id gets.
    pub next_id: AgentId,
}

impl Default for RegistryData {
    fn default() -> Self {
        RegistryData {
            agents: BTreeMap::new(),
            groups: BTreeSet::from([DEFAULT_GROUP.to_owned()]),
            manifest: BTreeMap::new(),
            next_id: AgentId(1),
        }
    }
}

impl From<RegistryData> for Registry {
    fn from(data: RegistryData) -> Self {
        let by_name = data
            .agents
            .values()
            .map(|a| (a.name.clone(), a.id))
            .collect();
        let by_ip = data
            .agents
            .values()
            .filter(|a| a.ip != AgentIp::Any)
            .map(|a| (a.ip, a.id))
            .collect();
        Registry {
            data,
            by_name,
            by_ip,
        }
    }
}

impl From<Registry> for RegistryData {
    fn from(registry: Registry) -> Self {
        registry.data
    }
}

impl Default for Registry {
    fn default() -> Self {
        RegistryData::default().into()
    }
}

impl Registry {
    /// The registry's contents.
    pub fn data(&self) -> &RegistryData {
        &self.data
    }

    /// The agent with this id.
    pub fn agent(&self, id: AgentId) -> Option<&AgentRecord> {
        self.data.agents.get(&id)
    }

    /// Applies one command: changes the registry and answers what changed, or changes nothing
    /// and answers why.
    pub fn apply(&mut self, command: &RegistryCommand) -> Result<Applied, CommandRefused> {
        match command {
            RegistryCommand::RegisterAgent {
                id,
                name,
                ip,
                key,
                groups,
                registered_at,
            } => {
                let id = self.check_registration(*id, name, *ip, groups)?;
                let groups = if groups.is_empty() {
                    vec![DEFAULT_GROUP.to_owned()]
                } else {
                    groups.clone()
                };
                self.insert(AgentRecord {
                    id,
                    name: name.clone(),
                    ip: *ip,
                    key: key.clone(),
                    groups,
                    registered_at: *registered_at,
                });
                Ok(Applied::Registered { id })
            }
            RegistryCommand::DeleteAgent { id } => {
                let record = self
                    .data
                    .agents
                    .remove(id)
                    .ok_or(CommandRefused::NotFound { id: *id })?;
                self.by_name.remove(&record.name);
                self.by_ip.remove(&record.ip);
                Ok(Applied::Deleted { id: *id })
            }
            RegistryCommand::CreateGroup { name } => {
                check_group_name(name)?;
                if !self.data.groups.insert(name.clone()) {
                    return Err(CommandRefused::GroupExists {
                        group: name.clone(),
                    });
                }
                Ok(Applied::GroupCreated { name: name.clone() })
            }
            RegistryCommand::AssignGroup { id, group } => self.change_groups(*id, group, |g| {
                if g.contains(group) {
                    return Err(CommandRefused::AlreadyInGroup {
                        id: *id,
                        group: group.clone(),
                    });
                }
                g.push(group.clone());
                Ok(())
            }),
            RegistryCommand::UnassignGroup { id, group } => self.change_groups(*id, group, |g| {
                let before = g.len();
                g.retain(|name| name != group);
                if g.len() == before {
                    return Err(CommandRefused::NotInGroup {
                        id: *id,
                        group: group.clone(),
                    });
                }
                if g.is_empty() {
                    g.push(DEFAULT_GROUP.to_owned());
                }
                Ok(())
            }),
            RegistryCommand::SetManifestEntries { entries } => {
                entries.iter().try_for_each(ManifestEntry::check)?;
                for entry in entries {
                    self.data.manifest.insert(entry.path.clone(), entry.clone());
                }
                Ok(Applied::ManifestSet {
                    paths: entries.iter().map(|e| e.path.clone()).collect(),
                })
            }
            RegistryCommand::RemoveManifestEntries { paths } => {
                paths.iter().try_for_each(|p| check_path(p))?;
                let removed = paths
                    .iter()
                    .filter(|p| self.data.manifest.remove(p.as_str()).is_some())
                    .cloned()
                    .collect();
                Ok(Applied::ManifestRemoved { paths: removed })
            }
        }
    }

    /// The id a registration gets, once every rule holds.
    fn check_registration(
        &self,
        id: Option<AgentId>,
        name: &str,
        ip: AgentIp,
        groups: &[String],
    ) -> Result<AgentId, CommandRefused> {
        if validate_agent_name(name).is_err() {
            return Err(CommandRefused::InvalidName {
                name: name.to_owned(),
            });
        }
        if let Some(&other) = self.by_name.get(name) {
            return Err(CommandRefused::DuplicateName {
                name: name.to_owned(),
                id: other,
            });
        }
        if let Some(&other) = self.by_ip.get(&ip) {
            return Err(CommandRefused::DuplicateIp {
                ip: ip.to_string(),
                id: other,
            });
        }
        for group in groups {
            check_group_name(group)?;
            if !self.data.groups.contains(group) {
                return Err(CommandRefused::GroupNotFound {
                    group: group.clone(),
                });
            }
        }
        let next = self.data.next_id;
        let id = id.unwrap_or(next);
        if id.0 == 0 || id.0 > MAX_AGENT_ID {
            return Err(CommandRefused::IdOutOfRange { id });
        }
        if id < next {
            return Err(CommandRefused::IdNotIncreasing { id, next });
        }
        Ok(id)
    }

    fn insert(&mut self, record: AgentRecord) {
        self.data.next_id = AgentId(record.id.0 + 1);
        self.by_name.insert(record.name.clone(), record.id);
        if record.ip != AgentIp::Any {
            self.by_ip.insert(record.ip, record.id);
        }
        self.data.agents.insert(record.id, record);
    }

    fn change_groups(
        &mut self,
        id: AgentId,
        group: &String,
        edit: impl FnOnce(&mut Vec<String>) -> Result<(), CommandRefused>,
    ) -> Result<Applied, CommandRefused> {
        check_group_name(group)?;
        if !self.data.groups.contains(group) {
            return Err(CommandRefused::GroupNotFound {
                group: group.clone(),
            });
        }
        let record = self
            .data
            .agents
            .get_mut(&id)
            .ok_or(CommandRefused::NotFound { id })?;
        let mut groups = record.groups.clone();
        edit(&mut groups)?;
        record.groups = groups.clone();
        Ok(Applied::GroupsChanged { id, groups })
    }
}

fn check_group_name(name: &str) -> Result<(), CommandRefused> {
    validate_group_name(name).map_err(|_| CommandRefused::InvalidGroupName {
        name: name.to_owned(),
    })
}
