//! Every event of the master, the worker and the session carries the `tag` and `subtag` fields
//! the daemon turns into Wazuh's `[tag] [subtag] message` lines, with Wazuh's wording.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use wazuh_cluster_core::testing::harness::{MASTER_NAME, SimCluster};

#[derive(Default)]
struct Fields {
    tag: Option<String>,
    subtag: Option<String>,
    message: Option<String>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "tag" => self.tag = Some(value.to_owned()),
            "subtag" => self.subtag = Some(value.to_owned()),
            _ => {}
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = Some(format!("{value:?}"));
        }
    }
}

/// Lines as `[tag] [subtag] message`, or `UNTAGGED target: message`.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<String>>>);

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
        self.0.lock().unwrap().push(line);
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

    let lines = lines.0.lock().unwrap().clone();
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
