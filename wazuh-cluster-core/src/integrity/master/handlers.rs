//! The master's handlers of the integrity commands a worker sends.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::oneshot;
use wazuh_cluster_proto::Command;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::{
    TaskError, TaskId, WazuhException, error_codes, permission_payload,
};

use super::error::RequestRefused;
use super::worker_state::Lease;
use super::{MasterIntegrity, lock, sync};
use crate::integrity::route_integrity;
use crate::master::MasterConn;
use crate::session::{DuplicateRoute, Handler, HandlerResult, Reply, Request, Router};
use crate::sync_state::FileSyncState;
use crate::transfer::{TransferStep, hand_over, new_task_id, receive_blocking};

#[derive(Debug, Clone, Copy)]
enum Kind {
    Permission,
    Start,
    End,
    WorkerError,
    Cancel,
    Transfer(TransferStep),
}

struct IntegrityHandler {
    integrity: Arc<MasterIntegrity>,
    kind: Kind,
}

/// Routes every integrity command to its handler.
pub(super) fn install(
    integrity: &Arc<MasterIntegrity>,
    router: &mut Router<MasterConn>,
) -> Result<(), DuplicateRoute> {
    let routes: [(Command, Kind); 8] = [
        (names::SYN_I_W_M_P, Kind::Permission),
        (names::SYN_I_W_M, Kind::Start),
        (names::SYN_I_W_M_E, Kind::End),
        (names::SYN_I_W_M_R, Kind::WorkerError),
        (names::CANCEL_TASK, Kind::Cancel),
        (names::NEW_FILE, Kind::Transfer(TransferStep::NewFile)),
        (names::FILE_UPD, Kind::Transfer(TransferStep::FileUpdate)),
        (names::FILE_END, Kind::Transfer(TransferStep::FileEnd)),
    ];
    let handlers = routes.map(|(command, kind)| {
        let integrity = integrity.clone();
        (command, IntegrityHandler { integrity, kind })
    });
    route_integrity(router, handlers)
}

/// Logs a refused request of worker `tag` and returns the exception sent back.
fn refuse(tag: &str, subtag: &str, what: impl std::fmt::Display) -> WazuhException {
    let message = what.to_string();
    tracing::error!(tag, subtag, "Refused: {message}");
    WazuhException::cluster(error_codes::CLUSTER).with_extra_message(message)
}

#[async_trait]
impl Handler<MasterConn> for IntegrityHandler {
    async fn handle(&self, conn: &MasterConn, request: Request) -> HandlerResult {
        let Some(name) = conn.worker_name() else {
            return Err(refuse(
                "Master",
                "Integrity check",
                format!(
                    "{} from {} before a valid hello; integrity commands need a registered worker",
                    request.command, conn.peer
                ),
            ));
        };
        let tag = conn.tag();
        let integrity = &self.integrity;
        match self.kind {
            Kind::Permission => Ok(Some(Reply::ok(permission(integrity, &name, &tag)))),
            Kind::Start => start(integrity, &name, &tag, &request)
                .map(Some)
                .map_err(|e| refuse(&tag, "Integrity check", e)),
            Kind::End => end(integrity, &name, &request.payload)
                .map(Some)
                .map_err(|e| refuse(&tag, "Integrity check", e)),
            Kind::WorkerError => Ok(Some(worker_error(integrity, &name, &tag, &request.payload))),
            Kind::Cancel => Ok(Some(cancel(integrity, &name, &tag, &request.payload))),
            Kind::Transfer(step) => {
                // The inbox is taken out of the workers' lock: its write to the spool runs on
                // a blocking thread, holding neither that lock nor a runtime thread.
                let inbox = integrity.with_worker(&name, |w| {
                    // Files come only for a task started with syn_i_w_m.
                    match w.receiving {
                        Some(_) => Ok(w.inbox.clone()),
                        None => Err(RequestRefused::NoTaskWaiting {
                            command: request.command.to_string(),
                        }),
                    }
                });
                let received = match inbox {
                    Ok(inbox) => receive_blocking(&inbox, step, request.payload)
                        .await
                        .map_err(RequestRefused::from),
                    Err(refused) => Err(refused),
                };
                received
                    .map(|()| Some(Reply::ok(&b"File received"[..])))
                    .map_err(|e| refuse(&tag, "Integrity check", e))
            }
        }
    }
}

/// `syn_i_w_m_p`: `True` once per cycle while the lock is free; an expired lease is released.
fn permission(integrity: &MasterIntegrity, name: &str, tag: &str) -> &'static [u8] {
    let now = integrity.clock.now();
    let max = integrity.config.max_locked_integrity_time;
    let ready = integrity.is_ready();
    let (granted, expired) = integrity.with_worker(name, |w| {
        let mut expired = None;
        if let Some(lease) = w.lease.as_ref().filter(|l| now - l.since > max) {
            expired = Some((lease.tid.clone(), now - lease.since));
            w.lease = None;
            if let Some((_, waiting)) = w.receiving.take() {
                let _ = waiting.send(Err(Box::new(
                    WazuhException::cluster(error_codes::FILE_TIMEOUT)
                        .with_extra_message("the integrity lock expired"),
                )));
            }
        }
        let granted = ready && !w.executed_this_cycle && w.lease.is_none();
        if granted {
            w.executed_this_cycle = true;
        }
        (granted, expired)
    });
    if let Some((tid, held)) = expired {
        tracing::warn!(
            tag,
            subtag = "Integrity check",
            "Integrity lock of task {tid} held for {:.0}s, more than max_locked_integrity_time ({}s): releasing it.",
            held.as_secs_f64(),
            max.as_secs()
        );
    }
    permission_payload(granted)
}

/// `syn_i_w_m`: takes the lock and starts waiting for the worker's metadata.
fn start(
    integrity: &Arc<MasterIntegrity>,
    name: &str,
    tag: &str,
    request: &Request,
) -> Result<Reply, RequestRefused> {
    let tid = new_task_id(&mut *lock(&integrity.rng));
    let now = integrity.clock.now();
    let max = integrity.config.max_locked_integrity_time;
    let waiting = integrity.with_worker(name, |w| {
        if let Some(lease) = w.lease.as_ref().filter(|l| now - l.since <= max) {
            return Err(RequestRefused::Locked {
                tid: lease.tid.clone(),
                worker: name.to_owned(),
            });
        }
        w.lease = Some(Lease {
            tid: tid.clone(),
            since: now,
        });
        {
            let mut inbox = lock(&w.inbox);
            inbox.clear();
            inbox.set_limits(integrity.worker_file_limits().0);
        }
        let (tx, rx) = oneshot::channel();
        w.receiving = Some((tid.clone(), tx));
        Ok(rx)
    });
    let waiting = waiting?;
    tracing::info!(tag, subtag = "Integrity check", "Starting.");
    integrity.spawner.spawn(sync::receive_then_sync(
        integrity.clone(),
        name.to_owned(),
        tid.clone(),
        request.session.clone(),
        waiting,
    ));
    Ok(Reply::ok(tid))
}

/// `syn_i_w_m_e`: the worker's file is complete; hand it to the waiting task.
fn end(integrity: &MasterIntegrity, name: &str, payload: &[u8]) -> Result<Reply, RequestRefused> {
    integrity
        .with_worker(name, |w| {
            hand_over(
                &mut lock(&w.inbox),
                &mut w.receiving,
                payload,
                "syn_i_w_m_e",
            )
        })
        .map(|()| Reply::ok(&b"File correctly received"[..]))
        .map_err(RequestRefused::from)
}

/// `syn_i_w_m_r`: the worker gave up its check; release its lock.
fn worker_error(integrity: &MasterIntegrity, name: &str, tag: &str, payload: &[u8]) -> Reply {
    let error = match TaskError::decode(payload) {
        Ok(task) => task.error,
        Err(e) => WazuhException::cluster(error_codes::CLUSTER).with_extra_message(e.to_string()),
    };
    tracing::error!(
        tag,
        subtag = "Integrity check",
        "Error received from the worker: {}",
        error.message()
    );
    integrity.with_worker(name, |w| {
        w.lease = None;
        if let Some((_, waiting)) = w.receiving.take() {
            let _ = waiting.send(Err(Box::new(error)));
        }
    });
    Reply::ok(&b"Thanks"[..])
}

/// `cancel_task`: the worker stopped waiting for our container; shrink its limit.
fn cancel(integrity: &Arc<MasterIntegrity>, name: &str, tag: &str, payload: &[u8]) -> Reply {
    let task = match TaskError::decode(payload) {
        Ok(task) => task,
        Err(e) => {
            refuse(tag, "Integrity sync", e);
            return Reply::ok(&b"Thanks"[..]);
        }
    };
    tracing::error!(
        tag,
        subtag = "Integrity sync",
        "The worker cancelled task {}: {}",
        task.tid,
        task.error.message()
    );
    let cancelled = integrity.with_worker(name, |w| {
        let last = w
            .last_send
            .take_if(|s| TaskId::Uuid(s.worker_tid.clone()) == task.tid)?;
        w.zip_limit.after_cancelled(last.bytes);
        Some((w.zip_limit.current(), std::mem::take(&mut w.last_sent)))
    });
    if let Some((limit, sent)) = cancelled {
        tracing::info!(
            tag,
            subtag = "Integrity sync",
            "Decreasing sync size limit to {:.2} MB.",
            limit as f64 / (1024.0 * 1024.0)
        );
        let paths: Vec<String> = sent.into_paths().map(|path| path.to_string()).collect();
        integrity.spawner.spawn(sync::mark(
            integrity.clone(),
            name.to_owned(),
            paths,
            FileSyncState::Failed,
        ));
    }
    Reply::ok(&b"Thanks"[..])
}
