//! [`WorkerAgents`]: the agent module of a worker (see [`crate::module`]). Make it with
//! [`WorkerBuilder::module`](crate::WorkerBuilder::module), then run the worker.
//!
//! - Management requests are forwarded to the master (`sendsync`); with no connection the
//!   worker answers [`AgentError::MasterUnreachable`] and does nothing locally.
//! - Status reports are kept locally and the changed rows go to the master every
//!   `sync_agent_info`.
//! - Every `keys_check_interval` the worker reads its `client.keys`; when it changed, whatever
//!   the worker holds for agents no longer listed (agent-info, group assignment, waiting
//!   groups) is removed, and waiting groups of newly listed agents are applied.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use serde_json::Value;
use wazuh_cluster_proto::command::names;

use super::agent_groups::{GroupsHandler, GroupsReceiver};
use super::agent_info::{ThanksHandler, row_from_record, send_agent_info};
use super::api::{AgentApi, AgentEvent, AgentSummary, Registration};
use super::config::AgentsConfig;
use super::error::AgentError;
use super::forward::{
    AgentRequest, Forwarder, SENDSYN_ERR, SENDSYN_RES, SendSynErrHandler, SendSynResHandler,
};
use super::keys_reader::KeysReader;
use super::model::{AgentId, AgentInfoRecord};
use super::registry::unix_secs;
use super::status::{record_reports, row_for_event};
use super::store::AgentStore;
use super::strings::{NewStrHandler, StrUpdHandler, StringInbox};
use crate::clock::Clock;
use crate::files::FileSource;
use crate::module::{Module, ModuleContext};
use crate::session::{DuplicateRoute, RequestError, Router, SessionHandle};
use crate::transfer::{PendingTasks, TaskSpawner};
use crate::worker::{WorkerConn, WorkerHandle, WorkerRole};
use futures_util::future::BoxFuture;

struct Inner {
    node_name: String,
    tag: String,
    store: Arc<dyn AgentStore>,
    keys: Arc<KeysReader>,
    clock: Arc<dyn Clock>,
    config: AgentsConfig,
    worker: WorkerHandle,
    dirty: Mutex<BTreeSet<AgentId>>,
    known_keys: Mutex<Option<BTreeSet<AgentId>>>,
    forwarder: Arc<Forwarder>,
    groups: Arc<GroupsReceiver>,
    inbox: Arc<StringInbox>,
    spawner: TaskSpawner,
    tasks: PendingTasks,
}

impl Inner {
    fn master(&self) -> Option<SessionHandle> {
        self.worker.status().master.filter(|s| !s.is_closed())
    }

    fn dirty(&self) -> MutexGuard<'_, BTreeSet<AgentId>> {
        self.dirty.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The agent tasks of a worker node.
pub struct WorkerAgents {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for WorkerAgents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerAgents")
            .field("node_name", &self.inner.node_name)
            .finish_non_exhaustive()
    }
}

impl WorkerAgents {
    /// The agents of the worker of `ctx`: its own rows and assignments in `store`, its
    /// `client.keys` read through `files`. `seed` makes string ids reproducible (tests); `None`
    /// draws them from the operating system. Add it with
    /// [`WorkerBuilder::module`](crate::WorkerBuilder::module).
    pub fn new(
        ctx: ModuleContext<WorkerRole>,
        store: Arc<dyn AgentStore>,
        files: Arc<dyn FileSource>,
        config: AgentsConfig,
        seed: Option<u64>,
    ) -> Arc<Self> {
        let tag = format!("Worker {}", ctx.node_name);
        let keys = Arc::new(KeysReader::new(files));
        let inbox = StringInbox::new(seed);
        let forwarder = Forwarder::new(inbox.clone(), config.forward_timeout);
        let groups = GroupsReceiver::new(
            store.clone(),
            keys.clone(),
            inbox.clone(),
            config.agent_groups_mismatch_limit,
            tag.clone(),
            ctx.clock.clone(),
        );
        let (tasks, spawner) = PendingTasks::new();
        Arc::new(Self {
            inner: Arc::new(Inner {
                node_name: ctx.node_name,
                tag,
                store,
                keys,
                clock: ctx.clock,
                config,
                worker: ctx.node,
                dirty: Mutex::default(),
                known_keys: Mutex::new(None),
                forwarder,
                groups,
                inbox,
                spawner,
                tasks,
            }),
        })
    }

    /// The agent-info rows this worker holds, ascending by id.
    pub async fn infos(&self) -> Result<Vec<AgentInfoRecord>, AgentError> {
        Ok(self.inner.store.infos().await?)
    }

    /// The group assignments this worker applied, ascending by id.
    pub async fn agent_groups(&self) -> Result<Vec<(AgentId, Vec<String>)>, AgentError> {
        Ok(self.inner.store.agent_groups().await?)
    }

    /// Agents whose groups arrived before their key and wait for it.
    pub fn groups_waiting_for_keys(&self) -> Vec<AgentId> {
        self.inner.groups.pending()
    }

    async fn forward(&self, request: AgentRequest) -> Result<Value, AgentError> {
        let inner = &self.inner;
        inner
            .forwarder
            .forward(inner.clock.as_ref(), inner.master(), request)
            .await
    }
}

impl Module<WorkerRole> for WorkerAgents {
    fn install(self: Arc<Self>, router: &mut Router<WorkerConn>) -> Result<(), DuplicateRoute> {
        let inner = &self.inner;
        router
            .route(names::NEW_STR, NewStrHandler(inner.inbox.clone()))?
            .route(names::STR_UPD, StrUpdHandler(inner.inbox.clone()))?
            .route(SENDSYN_RES, SendSynResHandler(inner.forwarder.clone()))?
            .route(SENDSYN_ERR, SendSynErrHandler(inner.forwarder.clone()))?
            .route(names::SYN_M_A_E, ThanksHandler)?
            .route(names::SYN_M_A_ERR, ThanksHandler)?
            .route(
                names::SYN_G_M_W,
                GroupsHandler {
                    receiver: inner.groups.clone(),
                    full: false,
                    spawner: inner.spawner.clone(),
                },
            )?
            .route(
                names::SYN_G_M_W_C,
                GroupsHandler {
                    receiver: inner.groups.clone(),
                    full: true,
                    spawner: inner.spawner.clone(),
                },
            )?;
        Ok(())
    }

    /// Every task a handler starts, and the periodic one, runs here and ends with the worker.
    fn run(self: Arc<Self>) -> BoxFuture<'static, ()> {
        let inner = self.inner.clone();
        Box::pin(async move { inner.tasks.run_beside(periodic(inner.clone())).await })
    }
}

async fn periodic(inner: Arc<Inner>) {
    let mut next_info = inner.clock.now() + inner.config.sync_agent_info;
    loop {
        if let Err(error) = check_keys(&inner).await {
            tracing::error!(tag = inner.tag.as_str(), subtag = "Agents", "{error}");
        }
        if inner.clock.now() >= next_info {
            next_info = inner.clock.now() + inner.config.sync_agent_info;
            sync_info(&inner).await;
        }
        let wake = next_info.min(inner.clock.now() + inner.config.keys_check_interval);
        inner.clock.sleep_until(wake).await;
    }
}

/// Removes what the worker holds for agents its `client.keys` no longer lists.
async fn check_keys(inner: &Inner) -> Result<(), AgentError> {
    let keys = inner.keys.current().await?;
    let ids: BTreeSet<AgentId> = keys.ids().collect();
    let previous = inner
        .known_keys
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    if previous.as_ref() == Some(&ids) {
        return Ok(());
    }
    let mut held: BTreeSet<AgentId> = inner
        .store
        .agent_groups()
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    held.extend(inner.store.infos().await?.into_iter().map(|i| i.id));
    let gone: BTreeSet<AgentId> = held.difference(&ids).copied().collect();
    for id in &gone {
        inner.store.remove_agent(*id).await?;
        inner.dirty().remove(id);
        tracing::info!(
            tag = inner.tag.as_str(),
            subtag = "Agents",
            "Agent {id} deleted: it left client.keys."
        );
    }
    let removed: BTreeSet<AgentId> = previous
        .map(|p| p.difference(&ids).copied().collect())
        .unwrap_or_default();
    inner.groups.on_keys(&keys, &removed).await?;
    *inner.known_keys.lock().unwrap_or_else(|p| p.into_inner()) = Some(ids);
    Ok(())
}

/// Sends the changed rows to the master; they stay marked if that fails.
async fn sync_info(inner: &Inner) {
    let Some(session) = inner.master() else {
        return;
    };
    let dirty = std::mem::take(&mut *inner.dirty());
    if dirty.is_empty() {
        return;
    }
    let ids: Vec<AgentId> = dirty.iter().copied().collect();
    let rows = match inner.store.infos_of(&ids).await {
        Ok(infos) => infos.iter().map(row_from_record).collect::<Vec<_>>(),
        Err(error) => {
            tracing::error!(
                tag = inner.tag.as_str(),
                subtag = "Agent-info sync",
                "{error}"
            );
            inner.dirty().extend(dirty);
            return;
        }
    };
    match send_agent_info(&session, &rows).await {
        Ok(true) => {}
        Ok(false) => inner.dirty().extend(dirty),
        // The connection ended (the master went away, or this node is stopping): the session
        // logs that; the rows wait for the next connection.
        Err(error @ RequestError::Closed { .. }) => {
            tracing::warn!(
                tag = inner.tag.as_str(),
                subtag = "Agent-info sync",
                "{error}; the {} rows are sent again once connected",
                rows.len()
            );
            inner.dirty().extend(dirty);
        }
        Err(error) => {
            tracing::error!(
                tag = inner.tag.as_str(),
                subtag = "Agent-info sync",
                "{error}"
            );
            inner.dirty().extend(dirty);
        }
    }
}

fn unexpected(what: &'static str, error: impl std::fmt::Display) -> AgentError {
    AgentError::Protocol {
        what,
        reason: error.to_string(),
    }
}

#[async_trait]
impl AgentApi for WorkerAgents {
    async fn register(
        &self,
        name: &str,
        ip: &str,
        groups: &[String],
    ) -> Result<Registration, AgentError> {
        let data = self
            .forward(AgentRequest::Add {
                name: name.to_owned(),
                ip: ip.to_owned(),
                groups: groups.to_vec(),
            })
            .await?;
        let field = |key: &str| {
            data.get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| unexpected("registration answer", format!("no {key:?}")))
        };
        Ok(Registration {
            id: field("id")?.parse()?,
            name: field("name")?,
            ip: field("ip")?,
            key: field("key")?.parse()?,
        })
    }

    async fn delete(&self, id: AgentId) -> Result<(), AgentError> {
        self.forward(AgentRequest::Remove { id: id.to_string() })
            .await
            .map(drop)
    }

    async fn create_group(&self, group: &str) -> Result<(), AgentError> {
        self.forward(AgentRequest::CreateGroup {
            group: group.to_owned(),
        })
        .await
        .map(drop)
    }

    async fn assign_group(&self, id: AgentId, group: &str) -> Result<(), AgentError> {
        self.forward(AgentRequest::AssignGroup {
            id: id.to_string(),
            group: group.to_owned(),
        })
        .await
        .map(drop)
    }

    async fn unassign_group(&self, id: AgentId, group: &str) -> Result<(), AgentError> {
        self.forward(AgentRequest::UnassignGroup {
            id: id.to_string(),
            group: group.to_owned(),
        })
        .await
        .map(drop)
    }

    async fn list_agents(&self) -> Result<Vec<AgentSummary>, AgentError> {
        let data = self.forward(AgentRequest::ListAgents).await?;
        serde_json::from_value(data).map_err(|e| unexpected("agent list", e))
    }

    async fn list_groups(&self) -> Result<Vec<String>, AgentError> {
        let data = self.forward(AgentRequest::ListGroups).await?;
        serde_json::from_value(data).map_err(|e| unexpected("group list", e))
    }

    async fn report(&self, id: AgentId, event: AgentEvent) -> Result<(), AgentError> {
        let inner = &self.inner;
        let keys = inner.keys.current().await?;
        if !keys.contains(id) {
            return Err(AgentError::NotInClientKeys {
                id: id.to_string(),
                node: inner.node_name.clone(),
            });
        }
        let stored = inner.store.infos_of(&[id]).await?.pop();
        let now = unix_secs(inner.clock.wall());
        let row = row_for_event(id, event, &inner.node_name, now, stored.as_ref());
        inner.store.apply_info(&[row]).await?;
        inner.dirty().insert(id);
        Ok(())
    }

    async fn report_many(
        &self,
        ids: &[AgentId],
        event: AgentEvent,
    ) -> Result<Vec<(AgentId, AgentError)>, AgentError> {
        let inner = &self.inner;
        let now = unix_secs(inner.clock.wall());
        let (recorded, refused) = record_reports(
            inner.store.as_ref(),
            &inner.keys,
            &inner.node_name,
            now,
            ids,
            &event,
        )
        .await?;
        inner.dirty().extend(recorded);
        Ok(refused)
    }
}
