//! The master's recalculation of its table every `recalculate_integrity`, which also opens a new
//! permission cycle (Wazuh clears `integrity_already_executed` at each one).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{MasterIntegrity, lock};
use wazuh_cluster_proto::command::names;

use crate::integrity::RefreshMode;

/// Recalculations that changes ask for start at least this long after the one before: a change
/// after a quiet moment is listed at once, a storm of them (a file every 100 ms in `loadtest`)
/// is listed twice a second instead of after every debounce window. Each listing stats every
/// file and tells every worker to check, which then compares its whole table again.
pub(super) const CHANGE_SPACING: Duration = Duration::from_millis(500);

/// Refreshes the table and opens a permission cycle, forever: every `recalculate_integrity`,
/// or sooner when [`MasterIntegrity::recalculate_now`] asks (but not within
/// [`CHANGE_SPACING`] of the previous start). A whole period without a change also drops the
/// sync containers' bodies that no container used in it.
pub(super) async fn recalculate_forever(integrity: Arc<MasterIntegrity>) {
    loop {
        let started = integrity.clock.now();
        recalculate_once(&integrity).await;
        tokio::select! {
            () = integrity.clock.sleep(integrity.config.recalculate_integrity) => {
                integrity.bodies.sweep();
            }
            () = integrity.recalculate_soon.notified() => {
                let due = started + CHANGE_SPACING;
                let wait = due.saturating_duration_since(integrity.clock.now());
                if !wait.is_zero() {
                    integrity.clock.sleep(wait).await;
                }
            }
        }
    }
}

/// Tells every connected worker that the files changed (`syn_m_chg`), so each checks now; the
/// new permission cycle this recalculation opens grants it.
fn tell_workers(integrity: &MasterIntegrity) {
    for (name, session) in integrity.master.worker_sessions() {
        integrity.spawner.spawn(async move {
            if let Err(error) = session.request(names::SYN_M_CHG, &b""[..]).await {
                tracing::debug!(
                    tag = format!("Worker {name}").as_str(),
                    subtag = "Integrity sync",
                    "The worker did not take the change notice ({error}); it checks on its own schedule."
                );
            }
        });
    }
}

async fn recalculate_once(integrity: &MasterIntegrity) {
    let started = integrity.clock.now();
    let mode = lock(&integrity.schedule).mode_at(started);
    let unchanged = integrity.changes.take_unchanged();
    if mode == RefreshMode::Incremental && unchanged && integrity.is_ready() {
        open_cycle(integrity);
        return;
    }
    // The listing (a stat of every file) is taken before the table is locked: the workers'
    // checks read the table meanwhile and wait only for the hashing of what changed.
    let result = match integrity.files.list().await {
        Ok(listed) => {
            let mut table = integrity.table.write().await;
            let report = table.refresh_listed(&*integrity.files, listed, mode).await;
            if report.changed_content() {
                integrity
                    .bodies
                    .retain(|path, hash| table.get(path).is_some_and(|entry| entry.hash == *hash));
            }
            Ok(report)
        }
        Err(error) => Err(error),
    };
    let secs = (integrity.clock.now() - started).as_secs_f64();
    match result {
        Ok(report) => {
            if !report.unreadable.is_empty() {
                // Looked at again at the next recalculation.
                integrity.changes.changed();
            }
            for (path, error) in &report.unreadable {
                tracing::warn!(
                    tag = "Master",
                    subtag = "Local integrity",
                    "Could not read {path:?}; it keeps its previous metadata: {error}"
                );
            }
            tracing::debug!(
                tag = "Master",
                subtag = "Local integrity",
                "Finished in {secs:.3}s. Calculated metadata of {} files ({} hashed{}).",
                report.files,
                report.hashed,
                if mode == RefreshMode::Full {
                    ", full rehash"
                } else {
                    ""
                }
            );
            integrity.table_files.store(report.files, Ordering::Relaxed);
            integrity.ready.store(true, Ordering::Release);
            if report.changed_content() {
                tell_workers(integrity);
            }
        }
        Err(error) => {
            integrity.changes.changed();
            tracing::error!(
                tag = "Master",
                subtag = "Local integrity",
                "Error calculating local file integrity: {error}. The previous table is kept."
            );
        }
    }
    open_cycle(integrity);
}

/// A new permission cycle: every worker may check once more.
fn open_cycle(integrity: &MasterIntegrity) {
    for worker in lock(&integrity.workers).values_mut() {
        worker.executed_this_cycle = false;
    }
}
