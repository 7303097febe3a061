//! The master's agent registry: registration, deletion and groups, kept in the [`AgentStore`]
//! and rendered to files through the master's [`FileSource`] after every change:
//! `etc/client.keys`, `etc/shared/<group>/agent.conf` for new groups, and one
//! `var/multigroups/<hash>/merged.mg` per distinct list of several groups.
//!
//! Every change runs under one lock, so checks and store writes never interleave; the checks
//! read the registry's index (`RegistryIndex`: the agents and groups in memory, read from the
//! store once and changed beside it), never every agent from the store. Refusals (duplicate
//! name or IP, unknown group...) happen before anything is written. Files are rewritten after
//! the lock is released, once for every change made while a previous rewrite ran (a burst of
//! registrations costs a few rewrites of `client.keys`, not one per agent); a change answers
//! once a rewrite that includes it is written. If writing the files fails after the store
//! changed, the store change is undone and the files are rewritten from it.
//!
//! Ids: a new agent gets the highest id ever seen in the store plus one (at least `001`). A
//! deleted agent's id is not reused while a higher one exists, so leftovers of a deleted agent
//! on a lagging worker are never mistaken for a new agent.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::{MappedMutexGuard, Mutex as AsyncMutex, MutexGuard};

use super::api::{AgentSummary, Registration};
use super::client_keys::CLIENT_KEYS_PATH;
use super::error::AgentError;
use super::groups::{
    DEFAULT_GROUP, EMPTY_AGENT_CONF, GroupFile, MULTIGROUPS_DIR, SHARED_DIR, agent_conf_path,
    render_merged,
};
use super::model::{
    AgentId, AgentIp, AgentKey, AgentRecord, validate_agent_name, validate_group_name,
};
use super::registry_index::RegistryIndex;
use super::store::AgentStore;
use crate::clock::Clock;
use crate::files::FileSource;

/// Largest group file merged into `merged.mg`.
const MAX_GROUP_FILE: u64 = 64 * 1024 * 1024;

/// The master's registry of agents.
pub struct AgentRegistry {
    store: Arc<dyn AgentStore>,
    files: Arc<dyn FileSource>,
    clock: Arc<dyn Clock>,
    rng: Mutex<StdRng>,
    /// The index, read from the store at first use; held by every change.
    index: AsyncMutex<Option<RegistryIndex>>,
    /// Changes made so far (counted under the index lock).
    changes: AtomicU64,
    /// What the files on disk include; held by whoever rewrites them.
    written: AsyncMutex<Written>,
    /// Committed registrations waiting to be stored (one write stores every waiting one).
    pending: Mutex<Vec<AgentRecord>>,
    changed_groups: Mutex<BTreeSet<AgentId>>,
}

fn files_error(action: &'static str, path: &str, error: impl std::fmt::Display) -> AgentError {
    AgentError::Files {
        action,
        path: path.to_owned(),
        reason: error.to_string(),
    }
}

impl AgentRegistry {
    /// A registry over `store`, writing through `files`. Keys come from an OS-seeded generator,
    /// or from `seed` for reproducible tests.
    pub fn new(
        store: Arc<dyn AgentStore>,
        files: Arc<dyn FileSource>,
        clock: Arc<dyn Clock>,
        seed: Option<u64>,
    ) -> Self {
        Self {
            store,
            files,
            clock,
            rng: Mutex::new(match seed {
                Some(seed) => StdRng::seed_from_u64(seed),
                None => StdRng::from_os_rng(),
            }),
            index: AsyncMutex::new(None),
            changes: AtomicU64::new(0),
            written: AsyncMutex::new(Written::default()),
            pending: Mutex::default(),
            changed_groups: Mutex::default(),
        }
    }

    /// The store the registry keeps its agents in.
    pub fn store(&self) -> &Arc<dyn AgentStore> {
        &self.store
    }

    /// The registry clock's time, seconds since the Unix epoch.
    pub(crate) fn now(&self) -> i64 {
        unix_secs(self.clock.wall())
    }

    /// A new agent key from the registry's generator.
    pub(crate) fn fresh_key(&self) -> AgentKey {
        let bytes: [u8; 32] = self
            .rng
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .random();
        AgentKey::from_bytes(bytes)
    }

    fn mark_changed(&self, id: AgentId) {
        self.changed_groups
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(id);
    }

    /// The agents whose groups changed since the last call (what the next `syn_g_m_w` sends).
    pub fn take_changed_groups(&self) -> BTreeSet<AgentId> {
        std::mem::take(
            &mut *self
                .changed_groups
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    /// The index under the registry's lock, read from the store if this is its first use.
    async fn locked(&self) -> Result<MappedMutexGuard<'_, RegistryIndex>, AgentError> {
        let mut guard = self.index.lock().await;
        if guard.is_none() {
            let agents = self.store.agents().await?;
            let groups = self.store.groups().await?;
            *guard = Some(RegistryIndex::new(agents, groups));
        }
        Ok(MutexGuard::map(guard, |index| {
            index.get_or_insert_with(RegistryIndex::default)
        }))
    }

    /// Counts a change (call it under the index lock, after the change); answers its number.
    fn changed(&self) -> u64 {
        self.changes.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Registers an agent: `ip` is `any` or an address; `groups` must exist (none means
    /// `default`). Answers its id and key.
    pub async fn register(
        &self,
        name: &str,
        ip: &str,
        groups: &[String],
    ) -> Result<Registration, AgentError> {
        validate_agent_name(name)?;
        let ip: AgentIp = ip.parse()?;
        for group in groups {
            validate_group_name(group)?;
        }
        let (record, change) = {
            let mut index = self.locked().await?;
            if let Some(other) = index.id_named(name) {
                return Err(AgentError::DuplicateName {
                    name: name.to_owned(),
                    id: other.to_string(),
                });
            }
            if let Some(other) = index.id_with_ip(ip) {
                return Err(AgentError::DuplicateIp {
                    ip: ip.to_string(),
                    id: other.to_string(),
                });
            }
            let groups = self.existing_groups_or_default(&mut index, groups).await?;
            let record = AgentRecord {
                id: index.next_id(),
                name: name.to_owned(),
                ip,
                key: self.fresh_key(),
                groups,
                registered_at: self.now(),
            };
            self.store.insert_agent(&record).await?;
            index.insert(record.clone());
            (record, self.changed())
        };
        let id = record.id;
        if let Err(error) = self.write_changes(change).await {
            let undone = {
                let mut index = self.locked().await?;
                self.store.remove_agent(id).await?;
                index.remove(id);
                self.changed()
            };
            let _ = self.write_changes(undone).await;
            return Err(error);
        }
        self.mark_changed(id);
        tracing::info!(
            tag = "Master",
            subtag = "Agents",
            "Agent {id} ({name}) registered."
        );
        Ok(Registration {
            id,
            name: record.name,
            ip: record.ip.to_string(),
            key: record.key,
        })
    }

    /// Groups that exist, or `default` (created if missing) for an empty list.
    async fn existing_groups_or_default(
        &self,
        index: &mut RegistryIndex,
        groups: &[String],
    ) -> Result<Vec<String>, AgentError> {
        if groups.is_empty() {
            self.ensure_group(index, DEFAULT_GROUP).await?;
            return Ok(vec![DEFAULT_GROUP.to_owned()]);
        }
        let mut unique = Vec::new();
        for group in groups {
            if !index.has_group(group) {
                return Err(AgentError::GroupNotFound {
                    group: group.clone(),
                });
            }
            if !unique.contains(group) {
                unique.push(group.clone());
            }
        }
        Ok(unique)
    }

    async fn ensure_group(
        &self,
        index: &mut RegistryIndex,
        group: &str,
    ) -> Result<bool, AgentError> {
        if index.has_group(group) {
            return Ok(false);
        }
        self.write_file(
            &agent_conf_path(group),
            EMPTY_AGENT_CONF.as_bytes().to_vec(),
        )
        .await?;
        self.store.insert_group(group).await?;
        index.add_group(group);
        Ok(true)
    }

    /// Removes agent `id`: its record, groups and info, and its line of `client.keys`.
    pub async fn delete(&self, id: AgentId) -> Result<(), AgentError> {
        let (record, change) = {
            let mut index = self.locked().await?;
            let Some(record) = index.get(id).cloned() else {
                return Err(AgentError::NotFound { id: id.to_string() });
            };
            self.store.remove_agent(id).await?;
            index.remove(id);
            (record, self.changed())
        };
        if let Err(error) = self.write_changes(change).await {
            let undone = {
                let mut index = self.locked().await?;
                self.store.insert_agent(&record).await?;
                index.insert(record);
                self.changed()
            };
            let _ = self.write_changes(undone).await;
            return Err(error);
        }
        tracing::info!(
            tag = "Master",
            subtag = "Agents",
            "Agent {id} ({}) deleted.",
            record.name
        );
        Ok(())
    }

    /// Creates a group: `etc/shared/<group>/agent.conf`.
    pub async fn create_group(&self, group: &str) -> Result<(), AgentError> {
        validate_group_name(group)?;
        let mut index = self.locked().await?;
        if self.ensure_group(&mut index, group).await? {
            Ok(())
        } else {
            Err(AgentError::GroupExists {
                group: group.to_owned(),
            })
        }
    }

    /// Adds `group` to agent `id`'s groups (last in priority).
    pub async fn assign_group(&self, id: AgentId, group: &str) -> Result<(), AgentError> {
        validate_group_name(group)?;
        self.change_groups(id, group, |groups| {
            if groups.iter().any(|g| g == group) {
                return Err(AgentError::AlreadyInGroup {
                    id: id.to_string(),
                    group: group.to_owned(),
                });
            }
            groups.push(group.to_owned());
            Ok(())
        })
        .await
    }

    /// Removes `group` from agent `id`'s groups; an agent left without groups goes back to
    /// `default`, as Wazuh does.
    pub async fn unassign_group(&self, id: AgentId, group: &str) -> Result<(), AgentError> {
        validate_group_name(group)?;
        self.change_groups(id, group, |groups| {
            let before = groups.len();
            groups.retain(|g| g != group);
            if groups.len() == before {
                return Err(AgentError::NotInGroup {
                    id: id.to_string(),
                    group: group.to_owned(),
                });
            }
            if groups.is_empty() {
                groups.push(DEFAULT_GROUP.to_owned());
            }
            Ok(())
        })
        .await
    }

    async fn change_groups(
        &self,
        id: AgentId,
        group: &str,
        edit: impl FnOnce(&mut Vec<String>) -> Result<(), AgentError>,
    ) -> Result<(), AgentError> {
        let (before, groups, change) = {
            let mut index = self.locked().await?;
            let Some(record) = index.get(id) else {
                return Err(AgentError::NotFound { id: id.to_string() });
            };
            let before = record.groups.clone();
            if !index.has_group(group) {
                return Err(AgentError::GroupNotFound {
                    group: group.to_owned(),
                });
            }
            let mut groups = before.clone();
            edit(&mut groups)?;
            if groups.iter().any(|g| g == DEFAULT_GROUP) {
                self.ensure_group(&mut index, DEFAULT_GROUP).await?;
            }
            self.store.set_agent_groups(id, &groups).await?;
            index.set_groups(id, &groups);
            (before, groups, self.changed())
        };
        if let Err(error) = self.write_changes(change).await {
            let undone = {
                let mut index = self.locked().await?;
                self.store.set_agent_groups(id, &before).await?;
                index.set_groups(id, &before);
                self.changed()
            };
            let _ = self.write_changes(undone).await;
            return Err(error);
        }
        self.mark_changed(id);
        tracing::info!(
            tag = "Master",
            subtag = "Agents",
            "Agent {id} groups: {}.",
            groups.join(",")
        );
        Ok(())
    }

    /// Adopts a registration decided and committed elsewhere (the replicated registry): stores
    /// `record` as it is (replacing an agent with the same id), creates its groups' folders if
    /// missing and rewrites the files. No rule is checked: the committed log already did.
    pub async fn adopt_agent(&self, record: &AgentRecord) -> Result<(), AgentError> {
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(record.clone());
        let change = {
            // Whoever takes the lock first stores every registration waiting by then: a burst
            // costs a few writes, not one per agent. Ours is stored once we hold the lock.
            let mut index = self.locked().await?;
            let batch = std::mem::take(
                &mut *self
                    .pending
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
            );
            if !batch.is_empty() {
                let groups: BTreeSet<&String> = batch.iter().flat_map(|a| &a.groups).collect();
                for group in groups {
                    self.ensure_group(&mut index, group).await?;
                }
                self.store.upsert_agents(&batch).await?;
                for agent in batch {
                    index.insert(agent);
                }
            }
            self.changed()
        };
        self.mark_changed(record.id);
        tracing::info!(
            tag = "Master",
            subtag = "Agents",
            "Agent {} ({}) registered.",
            record.id,
            record.name
        );
        self.write_changes(change).await
    }

    /// Adopts a committed deletion of agent `id` (nothing to do when it is not stored).
    pub async fn adopt_deletion(&self, id: AgentId) -> Result<(), AgentError> {
        let change = {
            let mut index = self.locked().await?;
            let removed = self.store.remove_agent(id).await?;
            index.remove(id);
            removed.then(|| self.changed())
        };
        if let Some(change) = change {
            tracing::info!(tag = "Master", subtag = "Agents", "Agent {id} deleted.");
            self.write_changes(change).await?;
        }
        Ok(())
    }

    /// Adopts a committed change of agent `id`'s groups.
    pub async fn adopt_groups(&self, id: AgentId, groups: &[String]) -> Result<(), AgentError> {
        let change = {
            let mut index = self.locked().await?;
            for group in groups {
                self.ensure_group(&mut index, group).await?;
            }
            self.store.set_agent_groups(id, groups).await?;
            index.set_groups(id, groups);
            self.changed()
        };
        self.mark_changed(id);
        self.write_changes(change).await
    }

    /// Adopts a committed group creation: its folder and `agent.conf` when missing.
    pub async fn adopt_group(&self, group: &str) -> Result<(), AgentError> {
        let mut index = self.locked().await?;
        self.ensure_group(&mut index, group).await?;
        Ok(())
    }

    /// Makes the store and the files hold exactly `agents` and at least `groups` (a node that
    /// becomes master adopts the committed registry whole). Agents the store holds that are
    /// not in `agents` are removed; changed ones replaced.
    pub async fn adopt_all(
        &self,
        agents: &[AgentRecord],
        groups: &BTreeSet<String>,
    ) -> Result<(), AgentError> {
        {
            let mut guard = self.index.lock().await;
            // Read the store afresh: this node's index may predate what it held as a follower.
            let mut index =
                RegistryIndex::new(self.store.agents().await?, self.store.groups().await?);
            for group in groups {
                self.ensure_group(&mut index, group).await?;
            }
            let stored: BTreeMap<AgentId, AgentRecord> =
                index.records().map(|a| (a.id, a.clone())).collect();
            let wanted: BTreeSet<AgentId> = agents.iter().map(|a| a.id).collect();
            for id in stored.keys().filter(|id| !wanted.contains(id)) {
                self.store.remove_agent(*id).await?;
                index.remove(*id);
            }
            let changed: Vec<AgentRecord> = agents
                .iter()
                .filter(|record| stored.get(&record.id) != Some(*record))
                .cloned()
                .collect();
            self.store.upsert_agents(&changed).await?;
            for agent in changed {
                index.insert(agent);
            }
            *guard = Some(index);
            self.changed();
        }
        self.write_files().await
    }

    /// Every agent, ascending by id.
    pub async fn list_agents(&self) -> Result<Vec<AgentSummary>, AgentError> {
        Ok(self
            .locked()
            .await?
            .records()
            .map(AgentSummary::from)
            .collect())
    }

    /// Every group, sorted.
    pub async fn list_groups(&self) -> Result<Vec<String>, AgentError> {
        Ok(self.locked().await?.groups())
    }

    /// Rewrites `etc/client.keys` and every multigroup file (each written atomically;
    /// multigroup folders no agent uses any more are removed).
    pub async fn write_files(&self) -> Result<(), AgentError> {
        let mut written = self.written.lock().await;
        written.multigroups = None;
        self.write_locked(&mut written).await
    }

    /// Rewrites the files unless a rewrite since change number `change` included it.
    async fn write_changes(&self, change: u64) -> Result<(), AgentError> {
        let mut written = self.written.lock().await;
        if written.upto >= change {
            return Ok(());
        }
        self.write_locked(&mut written).await
    }

    /// Writes `client.keys` as the index holds it now, and the multigroup files when the
    /// lists of several groups in use are not those last written.
    async fn write_locked(&self, written: &mut Written) -> Result<(), AgentError> {
        let (upto, keys, multigroups) = {
            let index = self.locked().await?;
            (
                self.changes.load(Ordering::SeqCst),
                index.client_keys(),
                index.multigroups(),
            )
        };
        self.write_file(CLIENT_KEYS_PATH, keys).await?;
        let paths: BTreeSet<String> = multigroups.keys().cloned().collect();
        if written.multigroups.as_ref() != Some(&paths) {
            written.multigroups = None;
            self.write_multigroups(&multigroups).await?;
            written.multigroups = Some(paths);
        }
        written.upto = upto;
        Ok(())
    }

    /// Writes `contents` atomically to the synchronized file `path`.
    async fn write_file(&self, path: &str, contents: Vec<u8>) -> Result<(), AgentError> {
        let confined = self
            .files
            .items()
            .confine(path)
            .map_err(|e| files_error("write", path, e))?;
        self.files
            .write(&confined, contents)
            .await
            .map_err(|e| files_error("write", path, e))
    }

    async fn write_multigroups(
        &self,
        wanted: &BTreeMap<String, Vec<String>>,
    ) -> Result<(), AgentError> {
        let listing = self
            .files
            .list()
            .await
            .map_err(|e| files_error("list", MULTIGROUPS_DIR, e))?;
        let mut group_files: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for stat in &listing {
            let path = stat.path.as_str();
            if let Some(rest) = path.strip_prefix(&format!("{SHARED_DIR}/"))
                && let Some((group, name)) = rest.split_once('/')
                && !name.contains('/')
                && name != "merged.mg"
            {
                group_files
                    .entry(group.to_owned())
                    .or_default()
                    .push(path.to_owned());
            }
        }
        for (path, groups) in wanted {
            let mut merged = Vec::new();
            for group in groups.iter() {
                for file in group_files.get(group).into_iter().flatten() {
                    let confined = self
                        .files
                        .items()
                        .confine(file)
                        .map_err(|e| files_error("read", file, e))?;
                    let contents = self
                        .files
                        .read(&confined, MAX_GROUP_FILE)
                        .await
                        .map_err(|e| files_error("read", file, e))?;
                    merged.push(GroupFile {
                        group: group.clone(),
                        name: confined.file_name().to_owned(),
                        contents,
                    });
                }
            }
            self.write_file(path, render_merged(&merged)).await?;
        }
        for stat in listing {
            let path = stat.path.as_str();
            if path.starts_with(&format!("{MULTIGROUPS_DIR}/")) && !wanted.contains_key(path) {
                self.files
                    .remove(&stat.path)
                    .await
                    .map_err(|e| files_error("remove", path, e))?;
                self.files
                    .prune_empty_dirs(&stat.path)
                    .await
                    .map_err(|e| files_error("remove", path, e))?;
            }
        }
        Ok(())
    }
}

/// What the files on disk include.
#[derive(Debug, Default)]
struct Written {
    /// The number of the last change they include.
    upto: u64,
    /// The `merged.mg` paths last written (`None`: to write).
    multigroups: Option<BTreeSet<String>>,
}

/// Seconds since the Unix epoch (negative before it).
pub(crate) fn unix_secs(time: std::time::SystemTime) -> i64 {
    match time.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}
