//! The master's agent registry: registration, deletion and groups, kept in the [`AgentStore`]
//! and rendered to files through the master's [`FileSource`] after every change:
//! `etc/client.keys`, `etc/shared/<group>/agent.conf` for new groups, and one
//! `var/multigroups/<hash>/merged.mg` per distinct list of several groups.
//!
//! Every change runs under one lock, so checks and writes never interleave. Refusals
//! (duplicate name or IP, unknown group...) happen before anything is written. If writing the
//! files fails after the store changed, the store change is undone and the files are rewritten
//! from it.
//!
//! Ids: a new agent gets the highest id ever seen in the store plus one (at least `001`). A
//! deleted agent's id is not reused while a higher one exists, so leftovers of a deleted agent
//! on a lagging worker are never mistaken for a new agent.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::Mutex as AsyncMutex;

use super::api::{AgentSummary, Registration};
use super::client_keys::{CLIENT_KEYS_PATH, render_client_keys};
use super::error::AgentError;
use super::groups::{
    DEFAULT_GROUP, EMPTY_AGENT_CONF, GroupFile, MULTIGROUPS_DIR, SHARED_DIR, agent_conf_path,
    multigroup_path, render_merged,
};
use super::model::{
    AgentId, AgentIp, AgentKey, AgentRecord, validate_agent_name, validate_group_name,
};
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
    lock: AsyncMutex<()>,
    /// Adopted changes so far, and (under the lock) how many the files on disk include.
    adopted: std::sync::atomic::AtomicU64,
    written: AsyncMutex<u64>,
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
            lock: AsyncMutex::new(()),
            adopted: std::sync::atomic::AtomicU64::new(0),
            written: AsyncMutex::new(0),
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
        let _guard = self.lock.lock().await;
        let agents = self.store.agents().await?;
        if let Some(other) = agents.iter().find(|a| a.name == name) {
            return Err(AgentError::DuplicateName {
                name: name.to_owned(),
                id: other.id.to_string(),
            });
        }
        if ip != AgentIp::Any
            && let Some(other) = agents.iter().find(|a| a.ip == ip)
        {
            return Err(AgentError::DuplicateIp {
                ip: ip.to_string(),
                id: other.id.to_string(),
            });
        }
        let groups = self.existing_groups_or_default(groups).await?;
        let id = AgentId(agents.iter().map(|a| a.id.0).max().unwrap_or(0) + 1);
        let record = AgentRecord {
            id,
            name: name.to_owned(),
            ip,
            key: self.fresh_key(),
            groups,
            registered_at: self.now(),
        };
        self.store.insert_agent(&record).await?;
        if let Err(error) = self.write_files().await {
            self.store.remove_agent(id).await?;
            let _ = self.write_files().await;
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
        groups: &[String],
    ) -> Result<Vec<String>, AgentError> {
        if groups.is_empty() {
            self.ensure_group(DEFAULT_GROUP).await?;
            return Ok(vec![DEFAULT_GROUP.to_owned()]);
        }
        let known = self.store.groups().await?;
        let mut unique = Vec::new();
        for group in groups {
            if !known.contains(group) {
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

    async fn ensure_group(&self, group: &str) -> Result<bool, AgentError> {
        if self.store.groups().await?.iter().any(|g| g == group) {
            return Ok(false);
        }
        self.write_file(
            &agent_conf_path(group),
            EMPTY_AGENT_CONF.as_bytes().to_vec(),
        )
        .await?;
        self.store.insert_group(group).await?;
        Ok(true)
    }

    /// Removes agent `id`: its record, groups and info, and its line of `client.keys`.
    pub async fn delete(&self, id: AgentId) -> Result<(), AgentError> {
        let _guard = self.lock.lock().await;
        let agents = self.store.agents().await?;
        let Some(record) = agents.into_iter().find(|a| a.id == id) else {
            return Err(AgentError::NotFound { id: id.to_string() });
        };
        self.store.remove_agent(id).await?;
        if let Err(error) = self.write_files().await {
            self.store.insert_agent(&record).await?;
            let _ = self.write_files().await;
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
        let _guard = self.lock.lock().await;
        if self.ensure_group(group).await? {
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
        let _guard = self.lock.lock().await;
        let agents = self.store.agents().await?;
        let Some(record) = agents.into_iter().find(|a| a.id == id) else {
            return Err(AgentError::NotFound { id: id.to_string() });
        };
        if !self.store.groups().await?.iter().any(|g| g == group) {
            return Err(AgentError::GroupNotFound {
                group: group.to_owned(),
            });
        }
        let mut groups = record.groups.clone();
        edit(&mut groups)?;
        if groups.iter().any(|g| g == DEFAULT_GROUP) {
            self.ensure_group(DEFAULT_GROUP).await?;
        }
        self.store.set_agent_groups(id, &groups).await?;
        if let Err(error) = self.write_files().await {
            self.store.set_agent_groups(id, &record.groups).await?;
            let _ = self.write_files().await;
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
        {
            // Whoever takes the lock first stores every registration waiting by then: a burst
            // costs a few writes, not one per agent. Ours is stored once we hold the lock.
            let _guard = self.lock.lock().await;
            let batch = std::mem::take(
                &mut *self
                    .pending
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
            );
            if !batch.is_empty() {
                let groups: BTreeSet<&String> = batch.iter().flat_map(|a| &a.groups).collect();
                for group in groups {
                    self.ensure_group(group).await?;
                }
                self.store.upsert_agents(&batch).await?;
            }
        }
        self.mark_changed(record.id);
        tracing::info!(
            tag = "Master",
            subtag = "Agents",
            "Agent {} ({}) registered.",
            record.id,
            record.name
        );
        self.write_adopted().await
    }

    /// Rewrites the files after an adopted change, once for every change adopted while a
    /// previous rewrite ran: a burst of registrations costs a few rewrites of `client.keys`,
    /// not one per agent.
    async fn write_adopted(&self) -> Result<(), AgentError> {
        use std::sync::atomic::Ordering;
        let mine = self.adopted.fetch_add(1, Ordering::SeqCst) + 1;
        let mut written = self.written.lock().await;
        if *written >= mine {
            return Ok(());
        }
        let upto = self.adopted.load(Ordering::SeqCst);
        self.write_files().await?;
        *written = upto;
        Ok(())
    }

    /// Adopts a committed deletion of agent `id` (nothing to do when it is not stored).
    pub async fn adopt_deletion(&self, id: AgentId) -> Result<(), AgentError> {
        let removed = {
            let _guard = self.lock.lock().await;
            self.store.remove_agent(id).await?
        };
        if removed {
            tracing::info!(tag = "Master", subtag = "Agents", "Agent {id} deleted.");
            self.write_adopted().await?;
        }
        Ok(())
    }

    /// Adopts a committed change of agent `id`'s groups.
    pub async fn adopt_groups(&self, id: AgentId, groups: &[String]) -> Result<(), AgentError> {
        {
            let _guard = self.lock.lock().await;
            for group in groups {
                self.ensure_group(group).await?;
            }
            self.store.set_agent_groups(id, groups).await?;
        }
        self.mark_changed(id);
        self.write_adopted().await
    }

    /// Adopts a committed group creation: its folder and `agent.conf` when missing.
    pub async fn adopt_group(&self, group: &str) -> Result<(), AgentError> {
        let _guard = self.lock.lock().await;
        self.ensure_group(group).await?;
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
        let _guard = self.lock.lock().await;
        for group in groups {
            self.ensure_group(group).await?;
        }
        let stored: BTreeMap<AgentId, AgentRecord> = self
            .store
            .agents()
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        let wanted: BTreeSet<AgentId> = agents.iter().map(|a| a.id).collect();
        for id in stored.keys().filter(|id| !wanted.contains(id)) {
            self.store.remove_agent(*id).await?;
        }
        let changed: Vec<AgentRecord> = agents
            .iter()
            .filter(|record| stored.get(&record.id) != Some(*record))
            .cloned()
            .collect();
        self.store.upsert_agents(&changed).await?;
        self.write_files().await
    }

    /// Every agent, ascending by id.
    pub async fn list_agents(&self) -> Result<Vec<AgentSummary>, AgentError> {
        Ok(self
            .store
            .agents()
            .await?
            .iter()
            .map(AgentSummary::from)
            .collect())
    }

    /// Every group, sorted.
    pub async fn list_groups(&self) -> Result<Vec<String>, AgentError> {
        Ok(self.store.groups().await?)
    }

    /// Rewrites `etc/client.keys` and the multigroup files from the store (each written
    /// atomically; multigroup folders no agent uses any more are removed).
    pub async fn write_files(&self) -> Result<(), AgentError> {
        let agents = self.store.agents().await?;
        self.write_file(CLIENT_KEYS_PATH, render_client_keys(&agents))
            .await?;
        self.write_multigroups(&agents).await
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

    async fn write_multigroups(&self, agents: &[AgentRecord]) -> Result<(), AgentError> {
        let wanted: BTreeMap<String, &Vec<String>> = agents
            .iter()
            .filter(|a| a.groups.len() > 1)
            .map(|a| (multigroup_path(&a.groups), &a.groups))
            .collect();
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
        for (path, groups) in &wanted {
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

/// Seconds since the Unix epoch (negative before it).
pub(crate) fn unix_secs(time: std::time::SystemTime) -> i64 {
    match time.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}
