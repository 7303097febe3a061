//! The worker's periodic integrity check: ask permission, send the metadata of its files.

use std::sync::Arc;

use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::{
    TaskError, TaskFile, TaskId, WazuhException, error_codes, parse_permission,
};

use super::error::MetadataPackError;
use super::local_metadata::CheckMetadata;
use super::{WorkerIntegrity, lock};
use crate::session::SessionHandle;
use crate::transfer::{send_file, sync_file_name};
use crate::worker::WorkerHandle;

/// Checks while connected and not applying a sync: right after each successful `hello`, when
/// asked ([`WorkerIntegrity::check_now`]), and every `sync_integrity`.
pub(super) async fn check_forever(integrity: Arc<WorkerIntegrity>, worker: WorkerHandle) {
    let mut sessions = worker.sessions();
    loop {
        let status = worker.status();
        if let Some(session) = status.master.filter(|_| status.connected)
            && !integrity.is_busy()
        {
            // The master refuses while it still finishes our previous check: after a change
            // notice, ask again shortly rather than at the next interval (not while a sync
            // from the master is being applied: a check follows it).
            for _ in 0..=NOTICE_RETRIES {
                if check_once(&integrity, &session).await == Checked::Granted
                    || !lock(&integrity.state).notice
                {
                    break;
                }
                integrity.clock.sleep(NOTICE_RETRY_DELAY).await;
                if integrity.is_busy() {
                    break;
                }
            }
        }
        tokio::select! {
            () = integrity.clock.sleep(integrity.config.sync_integrity) => {}
            () = integrity.check_soon.notified() => {}
            () = next_session(&mut sessions) => {
                // A check in flight on the old session will never be answered.
                integrity.check_ended(&mut lock(&integrity.state));
            }
        }
    }
}

/// Returns when the master accepts a new session (never, once the worker is gone).
async fn next_session(sessions: &mut tokio::sync::watch::Receiver<u64>) {
    if sessions.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// How a check went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checked {
    /// The metadata was sent (or failed after the permission was granted).
    Granted,
    /// The master did not grant the permission.
    Refused,
}

/// Times a check refused after a change notice is asked again, [`NOTICE_RETRY_DELAY`] apart.
const NOTICE_RETRIES: u32 = 20;
const NOTICE_RETRY_DELAY: std::time::Duration = std::time::Duration::from_millis(250);

async fn check_once(integrity: &WorkerIntegrity, session: &SessionHandle) -> Checked {
    let tag = integrity.tag.as_str();
    let granted = match session.request(names::SYN_I_W_M_P, &b""[..]).await {
        Ok(reply) => parse_permission(&reply.payload).unwrap_or(false),
        Err(error) => {
            tracing::error!(
                tag,
                subtag = "Integrity check",
                "Error asking for permission: {error}"
            );
            return Checked::Refused;
        }
    };
    if !granted {
        tracing::debug!(
            tag,
            subtag = "Integrity check",
            "Master didn't grant permission to start a new synchronization."
        );
        return Checked::Refused;
    }
    {
        let mut state = lock(&integrity.state);
        if state.busy {
            // A sync from the master started meanwhile: its files must be applied before the
            // worker's metadata means anything (and before its inbox may be cleared).
            state.recheck = true;
            return Checked::Refused;
        }
        state.check_started = Some((integrity.clock.now(), integrity.clock.wall()));
        state.notice = false;
        state.report.checks += 1;
    }
    tracing::info!(
        tag,
        subtag = "Integrity check",
        "Permission to synchronize granted."
    );
    let mut tid = TaskId::None;
    if let Err(error) = send_metadata(integrity, session, &mut tid).await {
        tracing::error!(
            tag,
            subtag = "Integrity check",
            "Error synchronizing integrity: {}",
            error.message()
        );
        {
            let mut state = lock(&integrity.state);
            state.report.failures += 1;
            integrity.check_ended(&mut state);
        }
        let payload = TaskError { tid, error };
        let _ = session.request(names::SYN_I_W_M_R, payload.encode()).await;
    }
    Checked::Granted
}

fn cluster_error(message: impl std::fmt::Display) -> WazuhException {
    WazuhException::cluster(error_codes::CLUSTER).with_extra_message(message.to_string())
}

/// The `files_metadata.json` container of the worker's files now: listed only if they may have
/// changed since the last listing (or on the full rehash schedule), packed again only if the
/// table changed.
pub(super) async fn current_metadata(
    integrity: &WorkerIntegrity,
) -> Result<CheckMetadata, MetadataPackError> {
    let mut local = integrity.local.lock().await;
    let mode = lock(&integrity.schedule).mode_at(integrity.clock.now());
    let unchanged = integrity.changes.take_unchanged();
    let packed = local
        .container(
            &*integrity.files,
            mode,
            unchanged,
            integrity.config.zip_limit.max_zip_size,
        )
        .await;
    // What could not be listed or read is looked at again next time.
    let all_seen = packed
        .as_ref()
        .is_ok_and(|m| m.refresh.as_ref().is_none_or(|r| r.unreadable.is_empty()));
    if !all_seen {
        integrity.changes.changed();
    }
    for (path, error) in packed
        .iter()
        .flat_map(|m| &m.refresh)
        .flat_map(|r| &r.unreadable)
    {
        tracing::warn!(
            tag = integrity.tag.as_str(),
            subtag = "Integrity check",
            "Could not read {path:?}: {error}"
        );
    }
    packed
}

async fn send_metadata(
    integrity: &WorkerIntegrity,
    session: &SessionHandle,
    tid: &mut TaskId,
) -> Result<(), WazuhException> {
    let tag = integrity.tag.as_str();
    let metadata = current_metadata(integrity).await.map_err(cluster_error)?;
    tracing::debug!(
        tag,
        subtag = "Integrity check",
        "Sending 'files_metadata.json' ({}).",
        if metadata.refresh.is_some() {
            "files listed"
        } else {
            "no file changed since the last check"
        }
    );
    let reply = session
        .request(names::SYN_I_W_M, &b""[..])
        .await
        .map_err(cluster_error)?;
    *tid = TaskId::parse(&String::from_utf8_lossy(&reply.payload)).map_err(cluster_error)?;
    let path = sync_file_name(
        &integrity.name,
        integrity.clock.wall(),
        &mut *lock(&integrity.rng),
    );
    send_file(session, &path, &metadata.container)
        .await
        .map_err(cluster_error)?;
    let end = TaskFile {
        tid: tid.clone(),
        relpath: path[1..].to_owned(),
    };
    session
        .request(names::SYN_I_W_M_E, end.encode())
        .await
        .map_err(cluster_error)?;
    Ok(())
}
