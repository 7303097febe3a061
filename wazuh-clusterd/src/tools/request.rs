//! One request to the daemon of an installation, as the tools make it, and how they report a
//! failure: `ERROR: Cluster is not running.` when no daemon listens, Wazuh's `Error <code> -
//! <message>` when the daemon (or the master behind it) refused.

use std::path::Path;
use std::process::ExitCode;

use serde::Serialize;
use serde::de::DeserializeOwned;
use wazuh_cluster_proto::Command;

use crate::control::client::{self, ClientError};
use crate::control::socket_path;

/// Sends `command` with `args` as JSON to the daemon of `home` and reads its JSON reply.
pub async fn call<A: Serialize, R: DeserializeOwned>(
    home: &Path,
    command: Command,
    args: &A,
) -> Result<R, ClientError> {
    let payload = serde_json::to_string(args).map_err(|source| ClientError::NotJson {
        socket: socket_path(home),
        source,
    })?;
    let reply = client::execute(home, command, payload, client::REPLY_TIMEOUT).await?;
    serde_json::from_slice(&reply).map_err(|source| ClientError::NotJson {
        socket: socket_path(home),
        source,
    })
}

/// Runs `work` on a single-thread runtime; a runtime that cannot start is reported as an I/O
/// failure of the conversation.
pub fn block_on<T>(
    home: &Path,
    work: impl std::future::Future<Output = Result<T, ClientError>>,
) -> Result<T, ClientError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| ClientError::Io {
            socket: socket_path(home),
            source,
        })?
        .block_on(work)
}

/// The line a tool prints for `error`.
pub fn failure_line(error: &ClientError) -> String {
    match error {
        ClientError::NotRunning { .. } => "ERROR: Cluster is not running.".to_owned(),
        ClientError::Daemon(exception) => exception.to_string(),
        other => format!("ERROR: {other}"),
    }
}

/// Prints `error` to stderr and returns exit code 1.
pub fn fail(error: &ClientError) -> ExitCode {
    eprintln!("{}", failure_line(error));
    ExitCode::FAILURE
}
