//! [`MasterAgents`]: the agent module of a master (see [`crate::module`]). Make it with
//! [`MasterBuilder::module`](crate::MasterBuilder::module), then run the master.
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
use std::sync::Arc;

use async_trait::async_trait;
use wazuh_cluster_proto::command::names;

use super::agent_groups::{
    FullResyncHandler, GroupsResultHandler, GroupsSyncError, groups_envelope, push_groups,
};
use super::agent_info::{InfoHandler, InfoPermissionHandler};
use super::api::{AgentApi, AgentEvent, AgentSummary, Registration};
use super::config::AgentsConfig;
use super::error::AgentError;
use super::forward::{MAX_SENDSYNC_IN_FLIGHT, SendSyncHandler};
use super::keys_reader::KeysReader;
use super::model::{AgentId, AgentInfoRecord};
use super::registry::{AgentRegistry, unix_secs};
use super::registry_backend::RegistryBackend;
use super::status::{record_reports, row_for_event};
use super::store::AgentStore;
use super::strings::{NewStrHandler, StrUpdHandler, StringInbox};
use super::sync_stats::{GroupsSend, SyncStatsBook, WorkerAgentSync};
use crate::clock::Clock;
use crate::files::FileSource;
use crate::master::{MasterConn, MasterHandle, MasterRole};
use crate::module::{Module, ModuleContext};
use crate::session::{DuplicateRoute, Router};
use crate::transfer::{PendingTasks, TaskSpawner};
use futures_util::future::BoxFuture;

struct Inner {
    node_name: String,
    registry: Arc<AgentRegistry>,
    backend: Arc<dyn RegistryBackend>,
    store: Arc<dyn AgentStore>,
    keys: KeysReader,
    clock: Arc<dyn Clock>,
    config: AgentsConfig,
    master: MasterHandle,
    book: Arc<SyncStatsBook>,
    inbox: Arc<StringInbox>,
    spawner: TaskSpawner,
    tasks: PendingTasks,
}

/// The agent tasks of a master node.
pub struct MasterAgents {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for MasterAgents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterAgents")
            .field("node_name", &self.inner.node_name)
            .finish_non_exhaustive()
    }
}

impl MasterAgents {
    /// The agents of the master of `ctx`, kept in `store`, written through `files`. `seed`
    /// makes keys and string ids reproducible (tests); `None` draws them from the operating
    /// system. Add it with [`MasterBuilder::module`](crate::MasterBuilder::module).
    pub fn new(
        ctx: ModuleContext<MasterRole>,
        store: Arc<dyn AgentStore>,
        files: Arc<dyn FileSource>,
        config: AgentsConfig,
        seed: Option<u64>,
    ) -> Arc<Self> {
        Self::with_backend(ctx, store, files, config, seed, |registry| registry)
    }

    /// As [`new`](Self::new), with the registry operations executed by the backend `backend`
    /// makes from the local registry (the replicated registry with failover: it commits each
    /// change through Raft, then has the local registry adopt it).
    pub fn with_backend(
        ctx: ModuleContext<MasterRole>,
        store: Arc<dyn AgentStore>,
        files: Arc<dyn FileSource>,
        config: AgentsConfig,
        seed: Option<u64>,
        backend: impl FnOnce(Arc<AgentRegistry>) -> Arc<dyn RegistryBackend>,
    ) -> Arc<Self> {
        let registry = Arc::new(AgentRegistry::new(
            store.clone(),
            files.clone(),
            ctx.clock.clone(),
            seed,
        ));
        let backend = backend(registry.clone());
        let (tasks, spawner) = PendingTasks::new();
        Arc::new(Self {
            inner: Arc::new(Inner {
                node_name: ctx.node_name,
                registry,
                backend,
                store,
                keys: KeysReader::new(files),
                clock: ctx.clock,
                config,
                master: ctx.node,
                book: Arc::default(),
                inbox: StringInbox::new(seed),
                spawner,
                tasks,
            }),
        })
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

    fn groups_result(&self, send: GroupsSend, refused: bool) -> GroupsResultHandler {
        GroupsResultHandler {
            send,
            refused,
            clock: self.inner.clock.clone(),
            book: self.inner.book.clone(),
        }
    }
}

impl Module<MasterRole> for MasterAgents {
    fn install(self: Arc<Self>, router: &mut Router<MasterConn>) -> Result<(), DuplicateRoute> {
        let inner = &self.inner;
        router
            .route(names::NEW_STR, NewStrHandler(inner.inbox.clone()))?
            .route(names::STR_UPD, StrUpdHandler(inner.inbox.clone()))?
            .route(
                names::SENDSYNC,
                SendSyncHandler {
                    registry: inner.backend.clone(),
                    spawner: inner.spawner.clone(),
                    in_flight: Arc::new(tokio::sync::Semaphore::new(MAX_SENDSYNC_IN_FLIGHT)),
                },
            )?
            .route(
                names::SYN_A_W_M_P,
                InfoPermissionHandler {
                    book: inner.book.clone(),
                },
            )?
            .route(
                names::SYN_A_W_M,
                InfoHandler {
                    inbox: inner.inbox.clone(),
                    store: inner.store.clone(),
                    spawner: inner.spawner.clone(),
                    clock: inner.clock.clone(),
                    book: inner.book.clone(),
                },
            )?
            .route(
                names::SYN_W_G_C,
                FullResyncHandler {
                    store: inner.store.clone(),
                    spawner: inner.spawner.clone(),
                    clock: inner.clock.clone(),
                    book: inner.book.clone(),
                    envelopes: Arc::default(),
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
            )?;
        Ok(())
    }

    /// Every task a handler starts, and the periodic one, runs here and ends with the master.
    fn run(self: Arc<Self>) -> BoxFuture<'static, ()> {
        let inner = self.inner.clone();
        Box::pin(async move { inner.tasks.run_beside(periodic(inner.clone())).await })
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
    let sessions = inner.master.worker_sessions();
    if sessions.is_empty() {
        return;
    }
    let changed = inner.registry.take_changed_groups();
    let all = match inner.store.agent_groups().await {
        Ok(all) => all,
        Err(error) => {
            GroupsSyncError::from(error).log("Master", "Agent-groups send");
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
            let tag = format!("Worker {name}");
            GroupsSyncError::from(error).log(&tag, GroupsSend::Changed.subtag());
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
        self.inner.backend.register(name, ip, groups).await
    }

    async fn delete(&self, id: AgentId) -> Result<(), AgentError> {
        self.inner.backend.delete(id).await
    }

    async fn create_group(&self, group: &str) -> Result<(), AgentError> {
        self.inner.backend.create_group(group).await
    }

    async fn assign_group(&self, id: AgentId, group: &str) -> Result<(), AgentError> {
        self.inner.backend.assign_group(id, group).await
    }

    async fn unassign_group(&self, id: AgentId, group: &str) -> Result<(), AgentError> {
        self.inner.backend.unassign_group(id, group).await
    }

    async fn list_agents(&self) -> Result<Vec<AgentSummary>, AgentError> {
        self.inner.backend.list_agents().await
    }

    async fn list_groups(&self) -> Result<Vec<String>, AgentError> {
        self.inner.backend.list_groups().await
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

    async fn report_many(
        &self,
        ids: &[AgentId],
        event: AgentEvent,
    ) -> Result<Vec<(AgentId, AgentError)>, AgentError> {
        let inner = &self.inner;
        let now = unix_secs(inner.clock.wall());
        let (_, refused) = record_reports(
            inner.store.as_ref(),
            &inner.keys,
            &inner.node_name,
            now,
            ids,
            &event,
        )
        .await?;
        Ok(refused)
    }
}
