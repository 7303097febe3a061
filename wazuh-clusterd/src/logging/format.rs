//! Wazuh's `cluster.log` line: `2024/10/01 12:00:00 INFO: [Worker worker01] [Integrity check] text`.

use std::fmt;

use chrono::{Local, NaiveDateTime};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Tag of events that carry none (`[Cluster]`).
pub const DEFAULT_TAG: &str = "Cluster";
/// Subtag of events that carry none (`[Main]`).
pub const DEFAULT_SUBTAG: &str = "Main";
/// Timestamp format of Wazuh's cluster log, in local time.
pub const TIME_FORMAT: &str = "%Y/%m/%d %H:%M:%S";

/// Where the formatter reads the time from.
pub trait LogClock: Send + Sync + 'static {
    /// The current local wall-clock time.
    fn now(&self) -> NaiveDateTime;
}

/// The machine's local time (what Wazuh writes).
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalClock;

impl LogClock for LocalClock {
    fn now(&self) -> NaiveDateTime {
        Local::now().naive_local()
    }
}

/// Always the same instant: for tests that compare log lines exactly.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub NaiveDateTime);

impl LogClock for FixedClock {
    fn now(&self) -> NaiveDateTime {
        self.0
    }
}

/// Wazuh's name of a level: TRACE is Wazuh's `DEBUG2` (`-dd`), WARN is `WARNING`.
pub fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARNING",
        Level::INFO => "INFO",
        Level::DEBUG => "DEBUG",
        Level::TRACE => "DEBUG2",
    }
}

/// Writes one log line, newline included.
pub fn write_line(
    out: &mut impl fmt::Write,
    time: NaiveDateTime,
    level: &Level,
    tag: &str,
    subtag: &str,
    message: &str,
) -> fmt::Result {
    writeln!(
        out,
        "{} {}: [{tag}] [{subtag}] {message}",
        time.format(TIME_FORMAT),
        level_name(level)
    )
}

/// A `tracing-subscriber` event formatter that writes Wazuh's line.
///
/// Convention: every event carries string fields `tag` (`Worker worker01`, `Master`) and `subtag`
/// (`Integrity check`), and its message is the text; missing ones read `Cluster` and `Main`.
/// Any other field is appended to the text as ` name=value`, so nothing is lost.
#[derive(Debug, Clone, Default)]
pub struct WazuhFormat<C = LocalClock> {
    clock: C,
}

impl<C: LogClock> WazuhFormat<C> {
    /// A formatter reading the time from `clock`.
    pub fn new(clock: C) -> Self {
        WazuhFormat { clock }
    }
}

impl<S, N, C> FormatEvent<S, N> for WazuhFormat<C>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    C: LogClock,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = EventFields::default();
        event.record(&mut fields);
        let tag = fields.tag.take().unwrap_or_else(|| DEFAULT_TAG.to_string());
        let subtag = fields
            .subtag
            .take()
            .unwrap_or_else(|| DEFAULT_SUBTAG.to_string());
        write_line(
            &mut writer,
            self.clock.now(),
            event.metadata().level(),
            &tag,
            &subtag,
            &fields.into_text(),
        )
    }
}

/// The fields of one event, sorted into tag, subtag and text.
#[derive(Default)]
struct EventFields {
    tag: Option<String>,
    subtag: Option<String>,
    text: String,
    extras: String,
}

impl EventFields {
    fn put(&mut self, field: &Field, value: String) {
        match field.name() {
            "tag" => self.tag = Some(value),
            "subtag" => self.subtag = Some(value),
            "message" => self.text = value,
            name => {
                self.extras.push(' ');
                self.extras.push_str(name);
                self.extras.push('=');
                self.extras.push_str(&value);
            }
        }
    }

    /// The message followed by the extra fields.
    fn into_text(self) -> String {
        self.text + &self.extras
    }
}

impl Visit for EventFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, format!("{value:?}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wazuh_line() {
        let time = NaiveDateTime::parse_from_str("2024/10/01 12:00:00", TIME_FORMAT).unwrap();
        let mut line = String::new();
        write_line(
            &mut line,
            time,
            &Level::INFO,
            "Worker worker01",
            "Integrity check",
            "Finished in 0.012s. Sync not required.",
        )
        .unwrap();
        assert_eq!(
            line,
            "2024/10/01 12:00:00 INFO: [Worker worker01] [Integrity check] Finished in 0.012s. Sync not required.\n"
        );
    }

    #[test]
    fn level_names_as_wazuh_prints_them() {
        let names: Vec<_> = [
            Level::ERROR,
            Level::WARN,
            Level::INFO,
            Level::DEBUG,
            Level::TRACE,
        ]
        .iter()
        .map(level_name)
        .collect();
        assert_eq!(names, ["ERROR", "WARNING", "INFO", "DEBUG", "DEBUG2"]);
    }
}
