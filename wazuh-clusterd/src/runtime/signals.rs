//! Waiting for the signals that stop the node.

/// Completes on SIGTERM or SIGINT and returns the signal's name. If the handlers cannot be
/// installed, the node runs until it is killed.
pub(crate) async fn stop_requested() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!(
            tag = "Cluster",
            subtag = "Main",
            "Could not install the SIGTERM/SIGINT handlers; stop the node with SIGKILL."
        );
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}
