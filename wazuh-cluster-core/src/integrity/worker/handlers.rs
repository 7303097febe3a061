//! The worker's handlers of the integrity commands the master sends.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::oneshot;
use wazuh_cluster_proto::Command;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::{TaskError, WazuhException, error_codes};

use super::{WorkerIntegrity, apply, lock};
use crate::integrity::{ComparisonCounts, IntegrityStats, IntegrityTask, route_integrity};
use crate::session::{DuplicateRoute, Handler, HandlerResult, Reply, Request, Router};
use crate::transfer::{HandOverError, TransferStep, hand_over, new_task_id, receive_blocking};
use crate::worker::WorkerConn;

#[derive(Debug, Clone, Copy)]
enum Kind {
    NotRequired,
    Start,
    End,
    MasterError,
    Cancel,
    MasterChanged,
    Transfer(TransferStep),
}

struct IntegrityHandler {
    integrity: Arc<WorkerIntegrity>,
    kind: Kind,
}

/// Routes every integrity command to its handler.
pub(super) fn install(
    integrity: &Arc<WorkerIntegrity>,
    router: &mut Router<WorkerConn>,
) -> Result<(), DuplicateRoute> {
    let routes: [(Command, Kind); 9] = [
        (names::SYN_M_C_OK, Kind::NotRequired),
        (names::SYN_M_CHG, Kind::MasterChanged),
        (names::SYN_M_C, Kind::Start),
        (names::SYN_M_C_E, Kind::End),
        (names::SYN_M_C_R, Kind::MasterError),
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

/// Logs a refused request and returns the exception sent back.
fn refuse(tag: &str, what: impl std::fmt::Display) -> WazuhException {
    let message = what.to_string();
    tracing::error!(tag, subtag = "Integrity sync", "Refused: {message}");
    WazuhException::cluster(error_codes::CLUSTER).with_extra_message(message)
}

#[async_trait]
impl Handler<WorkerConn> for IntegrityHandler {
    async fn handle(&self, _conn: &WorkerConn, request: Request) -> HandlerResult {
        let integrity = &self.integrity;
        let tag = integrity.tag.as_str();
        match self.kind {
            Kind::NotRequired => {
                finish_check(integrity, false);
                Ok(Some(Reply::ok(&b"Thanks"[..])))
            }
            Kind::Start => Ok(Some(start(integrity, &request))),
            Kind::End => end(integrity, &request.payload)
                .map(Some)
                .map_err(|e| refuse(tag, e)),
            Kind::MasterError => {
                let error = match TaskError::decode(&request.payload) {
                    Ok(task) => task.error,
                    Err(e) => WazuhException::cluster(error_codes::CLUSTER)
                        .with_extra_message(e.to_string()),
                };
                tracing::error!(
                    tag,
                    subtag = "Integrity sync",
                    "Error received from the master: {}",
                    error.message()
                );
                let mut state = lock(&integrity.state);
                if let Some((_, waiting)) = state.receiving.take() {
                    let _ = waiting.send(Err(Box::new(error)));
                }
                integrity.check_ended(&mut state);
                Ok(Some(Reply::ok(&b"Thanks"[..])))
            }
            Kind::Cancel => {
                tracing::warn!(
                    tag,
                    subtag = "Integrity check",
                    "The master cancelled a task: {}",
                    String::from_utf8_lossy(&request.payload[..request.payload.len().min(256)])
                );
                Ok(Some(Reply::ok(&b"Thanks"[..])))
            }
            Kind::MasterChanged => {
                tracing::debug!(
                    tag,
                    subtag = "Integrity check",
                    "The master's files changed; checking now."
                );
                integrity.check_now();
                Ok(Some(Reply::ok(&b"ok"[..])))
            }
            // Written on a blocking thread: a busy disk holds no runtime thread.
            Kind::Transfer(step) => receive_blocking(&integrity.inbox, step, request.payload)
                .await
                .map(|()| Some(Reply::ok(&b"File received"[..])))
                .map_err(|e| refuse(tag, e)),
        }
    }
}

/// Closes the current check with its stats and Wazuh's log line; `required` when the master
/// starts a sync.
fn finish_check(integrity: &WorkerIntegrity, required: bool) {
    let mut state = lock(&integrity.state);
    let Some((started, wall)) = state.check_started else {
        return;
    };
    integrity.check_ended(&mut state);
    let stats = IntegrityStats {
        task: IntegrityTask::Check,
        started: wall,
        finished: integrity.clock.wall(),
        elapsed: integrity.clock.now() - started,
        files: 0,
        counts: ComparisonCounts::default(),
        bytes: 0,
    };
    let message = if required {
        format!(
            "Finished in {:.3}s. Sync required.",
            stats.elapsed.as_secs_f64()
        )
    } else {
        stats.finished_message()
    };
    tracing::info!(
        tag = integrity.tag.as_str(),
        subtag = "Integrity check",
        "{message}"
    );
    crate::telemetry::integrity(
        crate::telemetry::MASTER_PEER,
        &stats,
        crate::telemetry::Direction::Sent,
    );
    state.report.last_check = Some(stats);
}

/// `syn_m_c`: the master will send a container; wait for it.
fn start(integrity: &Arc<WorkerIntegrity>, request: &Request) -> Reply {
    let tid = new_task_id(&mut *lock(&integrity.rng));
    let (tx, rx) = oneshot::channel();
    {
        let mut state = lock(&integrity.state);
        state.busy = true;
        if let Some((_, previous)) = state.receiving.replace((tid.clone(), tx)) {
            let _ = previous.send(Err(Box::new(
                WazuhException::cluster(error_codes::FILE_WAIT_FAILED)
                    .with_extra_message("the master started another sync"),
            )));
        }
    }
    finish_check(integrity, true);
    lock(&integrity.inbox).clear();
    // Subscribed before the reply: the master's `new_file` comes after it.
    let created = integrity.spool.subscribe();
    integrity.spawner.spawn(apply::receive_then_apply(
        integrity.clone(),
        tid.clone(),
        request.session.clone(),
        (rx, created),
    ));
    Reply::ok(tid)
}

/// `syn_m_c_e`: the container is complete; hand it to the waiting task.
fn end(integrity: &WorkerIntegrity, payload: &[u8]) -> Result<Reply, HandOverError> {
    let mut inbox = lock(&integrity.inbox);
    let mut state = lock(&integrity.state);
    hand_over(&mut inbox, &mut state.receiving, payload, "syn_m_c_e")
        .map(|()| Reply::ok(&b"File correctly received"[..]))
}
