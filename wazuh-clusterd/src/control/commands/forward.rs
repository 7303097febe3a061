//! How a worker answers cluster-wide questions: it asks its master over the cluster connection
//! and returns the master's answer (Wazuh forwards `get_nodes`/`get_health` the same way).

use bytes::Bytes;
use wazuh_cluster_core::WorkerHandle;
use wazuh_cluster_core::session::{HandlerResult, Reply, RequestError};
use wazuh_cluster_proto::Command;
use wazuh_cluster_proto::payload::{WazuhException, error_codes};

/// Sends `command payload` to the master of `worker` and returns its reply as `ok`.
pub(super) async fn to_master(
    worker: &WorkerHandle,
    command: Command,
    payload: Bytes,
) -> HandlerResult {
    let Some(master) = worker.status().master else {
        return Err(
            WazuhException::cluster(error_codes::WORKER_NOT_CONNECTED).with_extra_message(format!(
                "worker {} is not connected to its master now; retry once it is",
                worker.name()
            )),
        );
    };
    match master.request(command, payload).await {
        Ok(reply) => Ok(Some(Reply::ok(reply.payload))),
        Err(RequestError::Peer { error, .. }) => Err(error),
        Err(RequestError::Timeout { .. }) => {
            Err(WazuhException::cluster(error_codes::REQUEST_TIMEOUT)
                .with_extra_message(command.to_str_lossy().into_owned()))
        }
        Err(error @ RequestError::Closed { .. }) => {
            Err(WazuhException::cluster(error_codes::WORKER_NOT_CONNECTED)
                .with_extra_message(error.to_string()))
        }
    }
}
