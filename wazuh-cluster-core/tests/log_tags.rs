//! Every event of the master, the worker and the session carries the `tag` and `subtag` fields
//! the daemon turns into Wazuh's `[tag] [subtag] message` lines, with Wazuh's wording.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use wazuh_cluster_core::testing::LinkConfig;
use wazuh_cluster_core::testing::harness::{MASTER_NAME, SimCluster};

mod flow;

use flow::logs::Fields;

/// Lines as `[tag] [subtag] message`, or `UNTAGGED target: message`.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<(std::time::Instant, String)>>>);

impl<S: tracing::Subscriber> Layer<S> for Lines {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let target = event.metadata().target();
        let ours = ["master", "worker", "session"]
            .iter()
            .any(|m| target.starts_with(&format!("wazuh_cluster_core::{m}")));
        if !ours {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let message = fields.message.unwrap_or_default();
        let line = match (fields.tag, fields.subtag) {
            (Some(tag), Some(subtag)) => format!("[{tag}] [{subtag}] {message}"),
            _ => format!("UNTAGGED {target}: {message}"),
        };
        let at = tokio::time::Instant::now().into_std();
        self.0.lock().unwrap().push((at, line));
    }
}

#[tokio::test(start_paused = true)]
async fn events_carry_wazuh_tags_and_wording() {
    let lines = Lines::default();
    let subscriber = tracing_subscriber::registry()
        .with(lines.clone())
        .with(tracing_subscriber::filter::LevelFilter::DEBUG);
    let _guard = tracing::subscriber::set_default(subscriber);

    let sim = SimCluster::builder(SimCluster::seed_from_env(40))
        .workers(2)
        .worker_config(|i, config| {
            if i == 1 {
                config.version = "4.8.0".to_owned();
            }
        })
        .build();
    sim.run_for(Duration::from_secs(70)).await;
    sim.partition("worker01", MASTER_NAME);
    sim.run_for(Duration::from_secs(200)).await;

    let lines: Vec<String> = lines
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|(_, l)| l.clone())
        .collect();
    let untagged: Vec<&String> = lines.iter().filter(|l| l.starts_with("UNTAGGED")).collect();
    sim.check(
        untagged.is_empty(),
        format!("events without tag/subtag: {untagged:?}"),
    );
    for expected in [
        "[Worker worker01] [Main] Successfully connected to master.",
        "[Worker worker01] [Keep Alive] Successful response from master: keepalive",
        "[Worker worker02] [Main] Could not connect to master: Error 3031 - Worker and master versions are not the same.",
        "[Master] [Keep alive] No keep alives have been received from worker01 in the last minute. Disconnecting",
        "[Worker worker01] [Keep Alive] Maximum number of failed keep alives reached. Disconnecting.",
    ] {
        sim.check(
            lines.iter().any(|l| l == expected),
            format!("missing line {expected:?} in {lines:#?}"),
        );
    }
}

/// Runs a lossy, jittery scenario with faults and returns its event log with virtual timestamps.
async fn lossy_run(seed: u64) -> Vec<String> {
    let lines = Lines::default();
    let subscriber = tracing_subscriber::registry()
        .with(lines.clone())
        .with(tracing_subscriber::filter::LevelFilter::DEBUG);
    let _guard = tracing::subscriber::set_default(subscriber);
    let base = tokio::time::Instant::now().into_std();
    let mut sim = SimCluster::builder(seed)
        .workers(3)
        .link(LinkConfig {
            latency: Duration::from_millis(3),
            jitter: Duration::from_millis(40),
            loss: 0.2,
        })
        .build();
    sim.run_for(Duration::from_secs(150)).await;
    sim.partition("worker02", MASTER_NAME);
    sim.crash("worker03");
    sim.start("worker03");
    sim.run_for(Duration::from_secs(200)).await;
    sim.heal_all();
    sim.restart(MASTER_NAME);
    sim.run_for(Duration::from_secs(300)).await;
    drop(sim);
    let lines = lines.0.lock().unwrap();
    lines
        .iter()
        .map(|(at, line)| format!("{:?} {line}", *at - base))
        .collect()
}

#[test]
fn the_same_seed_replays_the_same_run_and_another_seed_does_not() {
    let run = |seed| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap()
            .block_on(lossy_run(seed))
    };
    let first = run(99);
    assert!(first.len() > 50, "the scenario produced events: {first:#?}");
    assert_eq!(
        first,
        run(99),
        "same seed, same events at the same virtual instants"
    );
    assert_ne!(first, run(100), "another seed takes other random choices");
}
