//! Captures the core's log events as Wazuh's `[tag] [subtag] message` lines.
//!
//! One global subscriber routes each event to the test running on the event's thread (each
//! `#[tokio::test]` runs its cluster on its own thread), so tests of one binary may run in
//! parallel; a per-thread default subscriber would not do, as tracing caches per call site
//! whether anyone listens.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::ThreadId;

type Sink = Arc<Mutex<Vec<String>>>;

fn sinks() -> &'static Mutex<HashMap<ThreadId, Sink>> {
    static SINKS: OnceLock<Mutex<HashMap<ThreadId, Sink>>> = OnceLock::new();
    SINKS.get_or_init(|| {
        let subscriber = tracing_subscriber::registry()
            .with(Router)
            .with(tracing_subscriber::filter::LevelFilter::DEBUG);
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global subscriber in the flow tests");
        Mutex::new(HashMap::new())
    })
}

struct Router;

use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// The `tag`, `subtag` and message of one event.
#[derive(Default)]
pub struct Fields {
    /// `tag`, such as `Master`.
    pub tag: Option<String>,
    /// `subtag`, such as `Main`.
    pub subtag: Option<String>,
    /// The message.
    pub message: Option<String>,
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

/// The captured lines.
#[derive(Clone, Default)]
pub struct Lines(Sink);

/// Stops the capture of its thread when dropped.
pub struct Capture(ThreadId);

impl Drop for Capture {
    fn drop(&mut self) {
        sinks().lock().unwrap().remove(&self.0);
    }
}

impl Lines {
    /// Captures every event of the current thread until the guard drops.
    pub fn capture() -> (Lines, Capture) {
        let lines = Lines::default();
        let thread = std::thread::current().id();
        sinks().lock().unwrap().insert(thread, lines.0.clone());
        (lines, Capture(thread))
    }

    /// Every line so far.
    pub fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    /// Lines that contain every one of `parts`.
    pub fn matching(&self, parts: &[&str]) -> Vec<String> {
        self.all()
            .into_iter()
            .filter(|l| parts.iter().all(|p| l.contains(p)))
            .collect()
    }
}

impl<S: tracing::Subscriber> Layer<S> for Router {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let Some(sink) = sinks()
            .lock()
            .unwrap()
            .get(&std::thread::current().id())
            .cloned()
        else {
            return;
        };
        let mut fields = Fields::default();
        event.record(&mut fields);
        let line = format!(
            "[{}] [{}] {}",
            fields.tag.unwrap_or_default(),
            fields.subtag.unwrap_or_default(),
            fields.message.unwrap_or_default()
        );
        sink.lock().unwrap().push(line);
    }
}
