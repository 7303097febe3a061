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

/// Reopens `logs/cluster.log` on every SIGHUP (what `systemctl reload` and logrotate's
/// `postrotate` send), forever.
pub(crate) async fn reopen_logs_on_sighup() {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        tracing::error!(
            tag = "Cluster",
            subtag = "Main",
            "Could not install the SIGHUP handler; restart the node to reopen its log."
        );
        return std::future::pending().await;
    };
    while hangups.recv().await.is_some() {
        match crate::logging::reopen() {
            Ok(Some(path)) => tracing::info!(
                tag = "Cluster",
                subtag = "Main",
                "Received SIGHUP: reopened {}.",
                path.display()
            ),
            Ok(None) => {}
            Err(error) => tracing::error!(
                tag = "Cluster",
                subtag = "Main",
                "Received SIGHUP but could not reopen the log: {error}; logging goes on to the previous file."
            ),
        }
    }
}
