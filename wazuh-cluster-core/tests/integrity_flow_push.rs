//! A fresh worker is synced right after its `hello`, and a change on the master reaches every
//! worker at once (`syn_m_chg`), not at the next `sync_integrity`: with both periods at 600 s,
//! everything below happens within seconds of virtual time.

mod flow;

use std::time::Duration;

use flow::logs::Lines;
use flow::{cluster_with, converge};
use wazuh_cluster_core::IntegrityConfig;
use wazuh_cluster_core::testing::harness::MASTER_NAME;

/// Periods so long that only the immediate paths can explain a sync within seconds.
fn slow_periods() -> IntegrityConfig {
    IntegrityConfig {
        sync_integrity: Duration::from_secs(600),
        recalculate_integrity: Duration::from_secs(600),
        ..IntegrityConfig::default()
    }
}

/// What a worker logs when the master tells it its files changed.
const NOTICE: &str = "The master's files changed; checking now.";

/// Well under either period: the immediate paths, latency and transfers.
const QUICK: Duration = Duration::from_secs(5);

#[tokio::test(start_paused = true)]
async fn fresh_workers_sync_right_after_hello() {
    let sim = cluster_with(80, 3, slow_periods());
    converge(&sim, QUICK, "first sync right after hello").await;
}

#[tokio::test(start_paused = true)]
async fn a_change_on_the_master_reaches_every_worker_at_once() {
    let (lines, _capture) = Lines::capture();
    let sim = cluster_with(81, 3, slow_periods());
    converge(&sim, QUICK, "first sync").await;
    sim.run_for(Duration::from_secs(30)).await;

    let path = "etc/shared/default/agent.conf";
    sim.files(MASTER_NAME)
        .plant(path, b"<agent_config>edited</agent_config>");
    sim.master_integrity().recalculate_now();
    converge(&sim, QUICK, "edited file pushed").await;

    sim.files(MASTER_NAME).unplant("etc/lists/audit-keys");
    sim.master_integrity().recalculate_now();
    converge(&sim, QUICK, "deleted file pushed").await;
    sim.check(
        !lines.matching(&[NOTICE]).is_empty(),
        "workers log the notice",
    );
}

#[tokio::test(start_paused = true)]
async fn a_recalculation_that_changed_nothing_tells_no_worker() {
    let (lines, _capture) = Lines::capture();
    let sim = cluster_with(82, 2, slow_periods());
    converge(&sim, QUICK, "first sync").await;
    sim.run_for(Duration::from_secs(30)).await;
    let notices = lines.matching(&[NOTICE]).len();
    sim.master_integrity().recalculate_now();
    sim.run_for(QUICK).await;
    sim.check(
        lines.matching(&[NOTICE]).len() == notices,
        "an unchanged table sends no notice",
    );
}
