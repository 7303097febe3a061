//! The node's conversation with systemd (`Type=notify`), through `sd_notify(3)` on
//! `$NOTIFY_SOCKET` (nothing happens without it):
//!
//! - `READY=1` once the node serves: a master as soon as it listens, a worker once it is
//!   connected and its first integrity check was answered (it holds the master's files or knows
//!   what to fetch);
//! - `WATCHDOG=1` every half `$WATCHDOG_USEC` when the unit sets `WatchdogSec=`, from the same
//!   runtime that serves the cluster, so a wedged runtime gets the node restarted;
//! - `STOPPING=1` when the node stops on a signal.
//!
//! A failure to notify is logged once and never stops the node.

use std::time::Duration;

use sd_notify::NotifyState;
use tokio::sync::watch;

use crate::control::{ControlContext, ControlNode};

/// How often the worker's readiness is looked at until it is ready.
const READY_POLL: Duration = Duration::from_millis(100);

/// Sends `state`; logs a failure (a missing socket is not one).
fn notify(state: &[NotifyState<'_>]) {
    if let Err(error) = sd_notify::notify(state) {
        tracing::warn!(
            tag = "Cluster",
            subtag = "systemd",
            "Could not notify systemd ({state:?}): {error}"
        );
    }
}

/// Whether the role `node` serves: [`crate::readiness`], shared with `GET /health`.
fn serves(node: &ControlNode) -> bool {
    crate::readiness::is_synchronized(node)
}

/// Says `READY=1` once the running role serves, then keeps the watchdog fed if the unit asks
/// for it; runs until dropped.
pub(super) async fn announce(mut roles: watch::Receiver<ControlContext>) {
    loop {
        if serves(&roles.borrow_and_update().node) {
            break;
        }
        tokio::select! {
            () = tokio::time::sleep(READY_POLL) => {}
            changed = roles.changed() => if changed.is_err() { return },
        }
    }
    notify(&[NotifyState::Ready, NotifyState::Status("serving")]);
    tracing::info!(tag = "Cluster", subtag = "systemd", "Ready.");
    let Some(timeout) = sd_notify::watchdog_enabled() else {
        return std::future::pending().await;
    };
    let mut beat = tokio::time::interval(timeout / 2);
    loop {
        beat.tick().await;
        notify(&[NotifyState::Watchdog]);
    }
}

/// Says `STOPPING=1`.
pub(super) fn stopping() {
    notify(&[NotifyState::Stopping]);
}
