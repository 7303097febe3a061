//! [`MasterAgents`]: the agent tasks of a master. Construct it, [`install`](MasterAgents::install)
//! it on the [`MasterBuilder`], then run the master (the
//! background task binds its handle; [`bind`](MasterAgents::bind) does it earlier).
//!
//! Handlers: `new_str`, `str_upd`, `sendsync` (registration forwarding), `syn_a_w_m_p`,
//! `syn_a_w_m` (agent-info), `syn_w_g_c` (full agent-groups), and the workers' answers
//! `syn_w_g_e`/`syn_w_g_err`/`syn_wgc_e`/`syn_wgc_err`. Background task (ends with the master):
//! every `sync_agent_groups` after `agent_group_start_delay`, push changed groups with the
//! global hash to every worker, and mark silent agents `disconnected`.
//!
//! The master keeps, per worker, its last agent-info sync and agent-groups sends
//! ([`MasterAgents::sync_stats`], [`MasterAgents::all_sync_stats`]) for `get_health`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use wazuh_cluster_proto::command::names;

use super::agent_groups::{FullResyncHandler, GroupsResultHandler, groups_envelope, push_groups};
use super::agent_info::{InfoHandler, InfoPermissionHandler};
use super::api::{AgentApi, AgentEvent, AgentSummary, Registration};
use super::config::AgentsConfig;
use super::error::AgentError;
use super::forward::SendSyncHandler;
use super::keys_reader::KeysReader;
use super::model::{AgentId, AgentInfoRecord};
use super::registry::{AgentRegistry, unix_secs};
use super::status::row_for_event;
use super::store::AgentStore;
use super::strings::{NewStrHandler, StrUpdHandler, StringInbox};
use super::sync_stats::{GroupsSend, SyncStatsBook, WorkerAgentSync};
use crate::clock::Clock;
use crate::files::FileSource;
use crate::master::{MasterBuilder, MasterHandle};
use crate::session::DuplicateRoute;
use crate::transfer::TaskSet;

struct Inner {
    node_name: String,
    registry: Arc<AgentRegistry>,
    store: Arc<dyn AgentStore>,
    keys: KeysReader,
    clock: Arc<dyn Clock>,
    config: AgentsConfig,
    master: Mutex<Option<MasterHandle>>,
    book: Arc<SyncStatsBook>,
}

/// The agent tasks of a master node.
#[derive(Clone)]
pub struct MasterAgents {
    inner: Arc<Inner>,
    seed: Option<u64>,
}

impl MasterAgents {
    /// The agents of master `node_name`, kept in `store`, written through `files`. `seed`
    /// makes keys and string ids reproducible (tests); `None` seeds from the OS.
    pub fn new(
        node_name: &str,
        store: Arc<dyn AgentStore>,
        files: Arc<dyn FileSource>,
        clock: Arc<dyn Clock>,
        config: AgentsConfig,
        seed: Option<u64>,
    ) -> Self {
        let registry = Arc::new(AgentRegistry::new(
            store.clone(),
            files.clone(),
            clock.clone(),
            seed,
        ));
        Self {
            inner: Arc::new(Inner {
                node_name: node_name.to_owned(),
                registry,
                store,
                keys: KeysReader::new(files),
                clock,
                config,
                master: Mutex::new(None),
                book: Arc::default(),
            }),
            seed,
        }
    }

    /// The registry.
    pub fn registry(&self) -> &Arc<AgentRegistry> {
        &self.inner.registry
    }

    /// Every agent-info row the master holds, ascending by id.
    pub async fn infos(&self) -> Result<Vec<AgentInfoRecord>, AgentError> {
        Ok(self.inner.store.infos().await?)
    }

    /// The last agent-info sync and agent-groups sends with `worker`; `None` when the master
    /// never synced agents with it.
    pub fn sync_stats(&self, worker: &str) -> Option<WorkerAgentSync> {
        self.inner.book.get(worker)
    }

    /// [`sync_stats`](Self::sync_stats) of every worker the master ever synced agents with, by
    /// name.
    pub fn all_sync_stats(&self) -> BTreeMap<String, WorkerAgentSync> {
        self.inner.book.all()
    }

    /// Gives the tasks the running master (to reach its workers). The background task does it
    /// when the master starts running; call it to have the handle before that.
    pub fn bind(&self, master: MasterHandle) {
        *self.inner.master.lock().unwrap_or_else(|p| p.into_inner()) = Some(master);
    }

    /// Adds the handlers and the background task to `builder`. The task, and every task a
    /// handler starts, runs inside the master's [`run`](crate::master::Master::run) and ends
    /// with it; the task also binds the running master's handle.
    pub fn install(&self, builder: MasterBuilder) -> Result<MasterBuilder, DuplicateRoute> {
        let inbox = StringInbox::new(self.seed);
        let (tasks, spawner) = TaskSet::new();
        let this = self.clone();
        builder
            .background(move |master: &MasterHandle| {
                this.bind(master.clone());
                Box::pin(async move {
                    tokio::join!(periodic(this.inner), tasks.run());
                })
            })
            .route(names::NEW_STR, NewStrHandler(inbox.clone()))?
            .route(names::STR_UPD, StrUpdHandler(inbox.clone()))?
            .route(
                names::SENDSYNC,
                SendSyncHandler {
                    registry: self.inner.registry.clone(),
                    spawner: spawner.clone(),
                },
            )?
            .route(names::SYN_A_W_M_P, InfoPermissionHandler)?
            .route(
                names::SYN_A_W_M,
                InfoHandler {
                    inbox,
                    store: self.inner.store.clone(),
                    spawner: spawner.clone(),
                    clock: self.inner.clock.clone(),
                    book: self.inner.book.clone(),
                },
            )?
            .route(
                names::SYN_W_G_C,
                FullResyncHandler {
                    store: self.inner.store.clone(),
                    spawner,
                    clock: self.inner.clock.clone(),
                    book: self.inner.book.clone(),
                },
            )?
            .route(
                names::SYN_W_G_E,
                self.groups_result(GroupsSend::Changed, false),
            )?
            .route(
                names::SYN_W_G_ERR,
                self.groups_result(GroupsSend::Changed, true),
            )?
            .route(
                names::SYN_WGC_E,
                self.groups_result(GroupsSend::Full, false),
            )?
            .route(
                names::SYN_WGC_ERR,
                self.groups_result(GroupsSend::Full, true),
            )
    }

    fn groups_result(&self, send: GroupsSend, refused: bool) -> GroupsResultHandler {
        GroupsResultHandler {
            send,
            refused,
            clock: self.inner.clock.clone(),
            book: self.inner.book.clone(),
        }
    }
}

async fn periodic(inner: Arc<Inner>) {
    if let Err(error) = inner.registry.write_files().await {
        tracing::error!(tag = "Master", subtag = "Agents", "{error}");
    }
    inner
        .clock
        .sleep(inner.config.agent_group_start_delay)
        .await;
    loop {
        let now = unix_secs(inner.clock.wall());
        let cutoff =
            now - i64::try_from(inner.config.disconnect_after.as_secs()).unwrap_or(i64::MAX);
        if let Err(error) = inner.store.mark_silent_disconnected(cutoff, now).await {
            tracing::error!(tag = "Master", subtag = "Agents", "{error}");
        }
        push_changed_groups(&inner).await;
        inner.clock.sleep(inner.config.sync_agent_groups).await;
    }
}

async fn push_changed_groups(inner: &Inner) {
    let master = inner
        .master
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let Some(master) = master else { return };
    let sessions = master.worker_sessions();
    if sessions.is_empty() {
        return;
    }
    let changed = inner.registry.take_changed_groups();
    let all = match inner.store.agent_groups().await {
        Ok(all) => all,
        Err(error) => {
            tracing::error!(tag = "Master", subtag = "Agent-groups send", "{error}");
            return;
        }
    };
    let rows: Vec<_> = all
        .iter()
        .filter(|(id, _)| changed.contains(id))
        .cloned()
        .collect();
    let sync = groups_envelope(&rows, &all);
    for (name, session) in sessions {
        inner
            .book
            .groups_sending(&name, GroupsSend::Changed, inner.clock.wall());
        if let Err(error) = push_groups(&session, names::SYN_G_M_W, &sync).await {
            inner.book.groups_failed(&name, GroupsSend::Changed);
            tracing::error!(
                tag = format!("Worker {name}").as_str(),
                subtag = GroupsSend::Changed.subtag(),
                "{error}"
            );
        }
    }
}

#[async_trait]
impl AgentApi for MasterAgents {
    async fn register(
        &self,
        name: &str,
        ip: &str,
        groups: &[String],
    ) -> Result<Registration, AgentError> {
        self.inner.registry.register(name, ip, groups).await
    }

    async fn delete(&self, id: AgentId) -> Result<(), AgentError> {
        self.inner.registry.delete(id).await
    }

    async fn create_group(&self, group: &str) -> Result<(), AgentError> {
        self.inner.registry.create_group(group).await
    }

    async fn assign_group(&self, id: AgentId, group: &str) -> Result<(), AgentError> {
        self.inner.registry.assign_group(id, group).await
    }

    async fn unassign_group(&self, id: AgentId, group: &str) -> Result<(), AgentError> {
        self.inner.registry.unassign_group(id, group).await
    }

    async fn list_agents(&self) -> Result<Vec<AgentSummary>, AgentError> {
        self.inner.registry.list_agents().await
    }

    async fn list_groups(&self) -> Result<Vec<String>, AgentError> {
        self.inner.registry.list_groups().await
    }

    async fn report(&self, id: AgentId, event: AgentEvent) -> Result<(), AgentError> {
        let keys = self.inner.keys.current().await?;
        if !keys.contains(id) {
            return Err(AgentError::NotInClientKeys {
                id: id.to_string(),
                node: self.inner.node_name.clone(),
            });
        }
        let stored = self.inner.store.infos_of(&[id]).await?.pop();
        let now = unix_secs(self.inner.clock.wall());
        let row = row_for_event(id, event, &self.inner.node_name, now, stored.as_ref());
        self.inner.store.apply_info(&[row]).await?;
        Ok(())
    }
}
