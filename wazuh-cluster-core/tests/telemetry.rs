//! What the core reports through the `metrics` facade during a real sync on the harness: a
//! duration per check and sync on both sides, bytes and files per peer. The recorder is local
//! to the test's thread (the harness runs on one thread), so tests never see each other's
//! figures.

mod flow;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use flow::{ROUND, cluster, converge};
use metrics::{
    Counter, CounterFn, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};
use wazuh_cluster_core::telemetry::{
    SYNC_BYTES_TOTAL, SYNC_FILES_TOTAL, TASK_DURATION_SECONDS, task,
};

/// Sums counters and counts histogram observations by `name{label=value,...}`.
#[derive(Default)]
struct Tally(Mutex<BTreeMap<String, Arc<AtomicU64>>>);

struct Cell(Arc<AtomicU64>);

impl CounterFn for Cell {
    fn increment(&self, value: u64) {
        self.0.fetch_add(value, Ordering::Relaxed);
    }
    fn absolute(&self, value: u64) {
        self.0.store(value, Ordering::Relaxed);
    }
}

impl HistogramFn for Cell {
    fn record(&self, _value: f64) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

impl Tally {
    fn cell(&self, key: &Key) -> Arc<AtomicU64> {
        let labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        let name = format!("{}{{{}}}", key.name(), labels.join(","));
        self.0.lock().unwrap().entry(name).or_default().clone()
    }

    fn get(&self, series: &str) -> u64 {
        self.0
            .lock()
            .unwrap()
            .get(series)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }
}

impl Recorder for Tally {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(Arc::new(Cell(self.cell(key))))
    }
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(Arc::new(Cell(self.cell(key))))
    }
}

#[tokio::test(start_paused = true)]
async fn a_sync_reports_durations_bytes_and_files_on_both_sides() {
    let tally = Tally::default();
    let _recording = metrics::set_default_local_recorder(&tally);
    let sim = cluster(43, 2);
    converge(&sim, Duration::from_secs(5) + ROUND * 2, "initial sync").await;
    for worker in sim.worker_names() {
        let checks = tally.get(&format!(
            "{TASK_DURATION_SECONDS}{{task={},peer={worker}}}",
            task::INTEGRITY_CHECK
        ));
        sim.check(checks >= 1, format!("{worker}: {checks} checks timed"));
        let sent = tally.get(&format!(
            "{SYNC_BYTES_TOTAL}{{task={},peer={worker},direction=sent}}",
            task::INTEGRITY_SYNC
        ));
        sim.check(sent > 0, format!("{worker}: {sent} bytes sent"));
        let files = tally.get(&format!(
            "{SYNC_FILES_TOTAL}{{peer={worker},direction=sent}}"
        ));
        sim.check(files >= 9, format!("{worker}: {files} files sent"));
    }
    // Both workers run in this process: their figures about the master add up.
    let applied = tally.get(&format!(
        "{SYNC_FILES_TOTAL}{{peer=master,direction=received}}"
    ));
    sim.check(
        applied >= 18,
        format!("{applied} files applied by the workers"),
    );
    let worker_syncs = tally.get(&format!(
        "{TASK_DURATION_SECONDS}{{task={},peer=master}}",
        task::INTEGRITY_SYNC
    ));
    sim.check(
        worker_syncs >= 2,
        format!("{worker_syncs} syncs timed by the workers"),
    );
}
