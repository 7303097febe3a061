//! Keepalive on the worker: `echo-c keepalive` every `keep_alive`; after
//! `max_failed_keepalive_attempts` consecutive failures the worker disconnects.

use wazuh_cluster_proto::command::names;

use super::WorkerShared;
use crate::session::SessionHandle;

/// Sends keepalives on `session` until the limit of failures is reached; returns then, after
/// closing the session.
pub(crate) async fn keep_alive(shared: &WorkerShared, session: &SessionHandle) {
    let tag = shared.tag.as_str();
    let mut failures = 0u32;
    loop {
        shared.clock.sleep(shared.config.keep_alive).await;
        match session.request(names::ECHO_C, &b"keepalive"[..]).await {
            Ok(reply) => {
                failures = 0;
                shared.status.lock().last_keepalive_reply = Some(shared.clock.wall());
                tracing::info!(
                    tag,
                    subtag = "Keep Alive",
                    "Successful response from master: {}",
                    String::from_utf8_lossy(&reply.payload)
                );
            }
            Err(error) => {
                failures += 1;
                tracing::error!(
                    tag,
                    subtag = "Keep Alive",
                    "Error sending keep alive: {error}"
                );
                if failures >= shared.config.max_failed_keepalive_attempts {
                    tracing::error!(
                        tag,
                        subtag = "Keep Alive",
                        "Maximum number of failed keep alives reached. Disconnecting."
                    );
                    session.close();
                    return;
                }
            }
        }
    }
}
