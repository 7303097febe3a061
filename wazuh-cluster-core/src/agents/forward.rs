//! Registration forwarding, worker → master, in the shape of Wazuh's authd relay:
//!
//! ```text
//! worker: sendsync "<lc_id> {"daemon_name":"authd","message":{"function":"add","arguments":{..}}}"
//! master: ok "Added request to SendSync requests queue"
//! master: new_str/str_upd of the answer, then sendsyn_res "<lc_id> <string id>"
//!         (or sendsyn_err "<lc_id> <text>" when it cannot answer)
//! ```
//!
//! The answer is authd's shape: `{"error":0,"data":..}` or `{"error":<code>,"message":".."}`.
//! Wazuh's authd only knows `add`; the other functions (`remove`, `create_group`,
//! `assign_group`, `unassign_group`, `list_agents`, `list_groups`) are this project's, under the
//! same envelope, so that management works the same from any node.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use wazuh_cluster_proto::Command;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::{WazuhException, error_codes};

use super::error::AgentError;
use super::registry_backend::RegistryBackend;
use super::strings::{StringInbox, send_string};
use crate::session::{Handler, HandlerResult, Reply, Request, SessionHandle};
use crate::transfer::TaskSpawner;

/// `sendsyn_res`: the master's answer to a `sendsync`, by string id.
pub const SENDSYN_RES: Command = Command::from_static("sendsyn_res");
/// `sendsyn_err`: the master could not answer a `sendsync`.
pub const SENDSYN_ERR: Command = Command::from_static("sendsyn_err");

/// The daemon name the relay carries.
pub const AUTHD: &str = "authd";

/// One forwarded request (`message` of the envelope).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "function", content = "arguments", rename_all = "snake_case")]
pub enum AgentRequest {
    /// Register an agent.
    Add {
        /// Name.
        name: String,
        /// `any` or an address.
        ip: String,
        /// Groups (none means `default`).
        #[serde(default)]
        groups: Vec<String>,
    },
    /// Delete an agent.
    Remove {
        /// Its id.
        id: String,
    },
    /// Create a group.
    CreateGroup {
        /// The group.
        group: String,
    },
    /// Add a group to an agent.
    AssignGroup {
        /// The agent.
        id: String,
        /// The group.
        group: String,
    },
    /// Remove a group from an agent.
    UnassignGroup {
        /// The agent.
        id: String,
        /// The group.
        group: String,
    },
    /// List the agents.
    ListAgents,
    /// List the groups.
    ListGroups,
}

#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    daemon_name: String,
    message: AgentRequest,
}

#[derive(Debug, Serialize, Deserialize)]
struct Answer {
    error: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

/// Runs `request` on the master's registry; the answer's `data`.
pub async fn execute(
    registry: &dyn RegistryBackend,
    request: AgentRequest,
) -> Result<Value, AgentError> {
    Ok(match request {
        AgentRequest::Add { name, ip, groups } => {
            let r = registry.register(&name, &ip, &groups).await?;
            json!({"id": r.id.to_string(), "name": r.name, "ip": r.ip, "key": r.key.as_str()})
        }
        AgentRequest::Remove { id } => {
            registry.delete(id.parse()?).await?;
            Value::Null
        }
        AgentRequest::CreateGroup { group } => {
            registry.create_group(&group).await?;
            Value::Null
        }
        AgentRequest::AssignGroup { id, group } => {
            registry.assign_group(id.parse()?, &group).await?;
            Value::Null
        }
        AgentRequest::UnassignGroup { id, group } => {
            registry.unassign_group(id.parse()?, &group).await?;
            Value::Null
        }
        AgentRequest::ListAgents => {
            serde_json::to_value(registry.list_agents().await?).expect("summaries always serialize")
        }
        AgentRequest::ListGroups => json!(registry.list_groups().await?),
    })
}

fn encode_answer(result: Result<Value, AgentError>) -> Vec<u8> {
    let answer = match result {
        Ok(data) => Answer {
            error: 0,
            data: Some(data),
            message: None,
        },
        Err(error) => Answer {
            error: error.code(),
            data: None,
            message: Some(error.to_string()),
        },
    };
    serde_json::to_vec(&answer).expect("answers always serialize")
}

fn decode_answer(bytes: &[u8]) -> Result<Value, AgentError> {
    let answer: Answer = serde_json::from_slice(bytes).map_err(|e| AgentError::Protocol {
        what: "answer of the master",
        reason: e.to_string(),
    })?;
    if answer.error == 0 {
        Ok(answer.data.unwrap_or(Value::Null))
    } else {
        Err(AgentError::Master {
            code: answer.error,
            message: answer.message.unwrap_or_default(),
        })
    }
}

#[allow(clippy::result_large_err)] // the error is what a handler answers (`HandlerResult`)
fn split_lc_id(payload: &[u8]) -> Result<(u32, &[u8]), WazuhException> {
    let bad = || {
        WazuhException::cluster(error_codes::CLUSTER)
            .with_extra_message("expected \"<lc_id> <data>\"")
    };
    let at = payload.iter().position(|&b| b == b' ').ok_or_else(bad)?;
    let id = std::str::from_utf8(&payload[..at])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    Ok((id, &payload[at + 1..]))
}

/// The master's `sendsync` handler: queues the request, answers later with `sendsyn_res`.
pub struct SendSyncHandler {
    /// The registry that executes requests.
    pub registry: Arc<dyn RegistryBackend>,
    /// Runs the request beside the master (it ends with the master).
    pub spawner: TaskSpawner,
    /// Requests executing or answering at once, node-wide ([`MAX_SENDSYNC_IN_FLIGHT`]); a
    /// request past it waits in its session's handler slot, so a flooding worker slows only its
    /// own connection.
    pub in_flight: Arc<tokio::sync::Semaphore>,
}

/// Most `sendsync` requests the master executes or answers at once.
pub const MAX_SENDSYNC_IN_FLIGHT: usize = 256;

#[async_trait]
impl<Ctx: Send + Sync + 'static> Handler<Ctx> for SendSyncHandler {
    async fn handle(&self, _ctx: &Ctx, request: Request) -> HandlerResult {
        let (lc_id, body) = split_lc_id(&request.payload)?;
        let envelope: Envelope = serde_json::from_slice(body).map_err(|e| {
            WazuhException::cluster(error_codes::BAD_JSON).with_extra_message(e.to_string())
        })?;
        let session = request.session.clone();
        let registry = self.registry.clone();
        let Ok(permit) = self.in_flight.clone().acquire_owned().await else {
            return Err(WazuhException::cluster(error_codes::CLUSTER)
                .with_extra_message("the master is stopping; retry on the next master"));
        };
        self.spawner.spawn(async move {
            let _permit = permit;
            let answer = if envelope.daemon_name == AUTHD {
                encode_answer(execute(registry.as_ref(), envelope.message).await)
            } else {
                encode_answer(Err(AgentError::Protocol {
                    what: "sendsync daemon",
                    reason: format!(
                        "{:?} is not served; only \"authd\" is",
                        envelope.daemon_name
                    ),
                }))
            };
            match send_string(&session, &answer).await {
                Ok(sid) => {
                    let _ = session.request(SENDSYN_RES, format!("{lc_id} {sid}")).await;
                }
                Err(error) => {
                    let _ = session
                        .request(SENDSYN_ERR, format!("{lc_id} {error}"))
                        .await;
                }
            }
        });
        Ok(Some(Reply::ok(
            &b"Added request to SendSync requests queue"[..],
        )))
    }
}

type Waiters = HashMap<u32, oneshot::Sender<Result<Vec<u8>, String>>>;

/// The worker's side: sends requests to the master and matches the answers by `lc_id`.
pub struct Forwarder {
    waiters: Mutex<Waiters>,
    next: Mutex<u32>,
    inbox: Arc<StringInbox>,
    timeout: Duration,
}

impl Forwarder {
    /// A forwarder whose answers arrive through `inbox`, waiting at most `timeout` for each.
    pub fn new(inbox: Arc<StringInbox>, timeout: Duration) -> Arc<Self> {
        Arc::new(Self {
            waiters: Mutex::default(),
            next: Mutex::new(0),
            inbox,
            timeout,
        })
    }

    fn waiters(&self) -> MutexGuard<'_, Waiters> {
        self.waiters
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sends `request` to the master over `session` (none: not connected) and waits for its
    /// answer's `data`.
    pub async fn forward(
        &self,
        clock: &dyn crate::clock::Clock,
        session: Option<SessionHandle>,
        request: AgentRequest,
    ) -> Result<Value, AgentError> {
        let unreachable = |reason: String| AgentError::MasterUnreachable { reason };
        let session = session
            .ok_or_else(|| unreachable("the worker is not connected to its master".into()))?;
        let lc_id = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            *next = (*next + 1) % (1 << 20);
            *next
        };
        let (tx, rx) = oneshot::channel();
        self.waiters().insert(lc_id, tx);
        let envelope = Envelope {
            daemon_name: AUTHD.to_owned(),
            message: request,
        };
        let mut payload = format!("{lc_id} ").into_bytes();
        payload.extend(serde_json::to_vec(&envelope).expect("requests always serialize"));
        if let Err(error) = session.request(names::SENDSYNC, payload).await {
            self.waiters().remove(&lc_id);
            return Err(unreachable(error.to_string()));
        }
        let answer = tokio::select! {
            answer = rx => answer.map_err(|_| unreachable("the answer was lost".into()))?,
            () = clock.sleep(self.timeout) => {
                self.waiters().remove(&lc_id);
                return Err(unreachable(format!("no answer within {:?}", self.timeout)));
            }
            () = session.closed() => {
                self.waiters().remove(&lc_id);
                return Err(unreachable("the connection closed before the answer".into()));
            }
        };
        match answer {
            Ok(bytes) => decode_answer(&bytes),
            Err(text) => Err(unreachable(text)),
        }
    }

    fn deliver(&self, lc_id: u32, answer: Result<Vec<u8>, String>) {
        if let Some(waiter) = self.waiters().remove(&lc_id) {
            let _ = waiter.send(answer);
        }
    }
}

/// The worker's `sendsyn_res` handler.
pub struct SendSynResHandler(pub Arc<Forwarder>);

#[async_trait]
impl<Ctx: Send + Sync + 'static> Handler<Ctx> for SendSynResHandler {
    async fn handle(&self, _ctx: &Ctx, request: Request) -> HandlerResult {
        let (lc_id, sid) = split_lc_id(&request.payload)?;
        let (_, data) = self.0.inbox.take(sid)?;
        self.0.deliver(lc_id, Ok(data));
        Ok(Some(Reply::ok(&b"Response forwarded to worker"[..])))
    }
}

/// The worker's `sendsyn_err` handler.
pub struct SendSynErrHandler(pub Arc<Forwarder>);

#[async_trait]
impl<Ctx: Send + Sync + 'static> Handler<Ctx> for SendSynErrHandler {
    async fn handle(&self, _ctx: &Ctx, request: Request) -> HandlerResult {
        let (lc_id, text) = split_lc_id(&request.payload)?;
        self.0
            .deliver(lc_id, Err(String::from_utf8_lossy(text).into_owned()));
        Ok(Some(Reply::ok(&b"SendSync error forwarded to worker"[..])))
    }
}
