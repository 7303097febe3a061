//! Keepalive on the master: `echo-c` is answered with `ok-m` and the payload echoed, and it is the
//! only traffic that refreshes a worker's last keepalive. Every `check_worker_lastkeepalive` the
//! reaper disconnects workers silent for longer than `max_allowed_time_without_keepalive`, so a
//! silent worker is gone 120-180 s after its last keepalive with Wazuh's defaults.

use std::sync::Arc;

use async_trait::async_trait;
use wazuh_cluster_proto::command::names;

use super::conn::{MasterConn, MasterShared};
use crate::session::{Handler, HandlerResult, Reply, Request};

/// Handler of `echo-c`.
pub(crate) struct EchoHandler;

#[async_trait]
impl Handler<MasterConn> for EchoHandler {
    async fn handle(&self, conn: &MasterConn, request: Request) -> HandlerResult {
        if let Some(name) = conn.worker_name() {
            let shared = &conn.shared;
            let (now, wall) = (shared.clock.now(), shared.clock.wall());
            shared.registry().touch(&name, conn.conn_id, now, wall);
        }
        Ok(Some(Reply::new(names::OK_M, request.payload)))
    }
}

/// Runs the reaper forever.
pub(crate) async fn reap_silent_workers(shared: Arc<MasterShared>) {
    loop {
        shared
            .clock
            .sleep(shared.config.check_worker_lastkeepalive)
            .await;
        let now = shared.clock.now();
        let silent = shared
            .registry()
            .take_silent(now, shared.config.max_allowed_time_without_keepalive);
        for (name, entry) in silent {
            tracing::error!(
                tag = "Master",
                subtag = "Keep alive",
                "No keep alives have been received from {name} in the last minute. Disconnecting"
            );
            entry.session.close();
            if let Err(error) = shared.storage.remove_node(&name).await {
                tracing::error!(tag = "Master", subtag = "Keep alive", "{error}");
            }
        }
    }
}
