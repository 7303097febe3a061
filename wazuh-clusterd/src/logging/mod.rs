//! Logs in Wazuh's format to `DIR/logs/cluster.log`, and to stderr in the foreground.
//!
//! Emit events as `tracing::info!(tag = "Worker worker01", subtag = "Integrity check", "text")`;
//! see [`WazuhFormat`] for the convention. Levels: INFO by default, DEBUG with `-d`, and with
//! `-dd` tracing's TRACE, printed as Wazuh's `DEBUG2`. This project's crates log at the chosen
//! level; other crates (sqlx, tokio...) only from WARNING up.
//!
//! The file is a [`ReopenableLog`]: SIGHUP reopens it ([`reopen`], for logrotate's rename) and
//! `<log_rotation>daily</log_rotation>` rotates it as Wazuh does ([`set_rotation`], [`DailyRotation`]).

mod format;
mod reopen;
mod rotate;

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use thiserror::Error;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

use crate::home_path;

pub use reopen::ReopenableLog;
pub use rotate::{DailyRotation, archive_stem};

pub use format::{
    DEFAULT_SUBTAG, DEFAULT_TAG, FixedClock, LocalClock, LogClock, TIME_FORMAT, WazuhFormat,
    level_name, write_line,
};

/// Crates whose events are logged at the level `-d` chooses.
const OWN_TARGETS: [&str; 4] = [
    "wazuh_cluster_proto",
    "wazuh_cluster_core",
    "wazuh_clusterd",
    "cluster_control",
];

/// How the daemon logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogOptions {
    /// The installation folder; the log is `home/logs/cluster.log`.
    pub home: PathBuf,
    /// Also write every line to stderr (`-f`).
    pub foreground: bool,
    /// Number of `-d` flags: 0 INFO, 1 DEBUG, 2 or more DEBUG2.
    pub debug: u8,
}

/// Why logging could not be set up.
#[derive(Debug, Error)]
pub enum LoggingError {
    /// The log folder or file could not be created or opened.
    #[error("cannot open the log file {path}: {source}; check that this user owns the folder")]
    Open {
        /// The folder or file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// A global subscriber was installed before.
    #[error("logging was already set up in this process: {0}")]
    AlreadySet(String),
}

/// The path of the cluster log under `home`.
pub fn log_path(home: &Path) -> PathBuf {
    home.join("logs").join("cluster.log")
}

/// The most verbose level logged for `debug` `-d` flags.
pub fn level_for(debug: u8) -> LevelFilter {
    match debug {
        0 => LevelFilter::INFO,
        1 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    }
}

/// The log the process writes, for [`reopen`].
static INSTALLED: OnceLock<Arc<ReopenableLog>> = OnceLock::new();

/// Reopens the installed `cluster.log` at its path (the daemon does it on SIGHUP, after the file
/// was renamed or rotated away); returns its path, `None` when [`init`] did not install one.
pub fn reopen() -> io::Result<Option<PathBuf>> {
    match INSTALLED.get() {
        Some(log) => log.reopen().map(|()| Some(log.path().to_path_buf())),
        None => Ok(None),
    }
}

/// Turns the daily rotation of the installed `cluster.log` on or off
/// (`<log_rotation>`; no-op before [`init`]).
pub fn set_rotation(rotation: crate::config::LogRotation) {
    if let Some(log) = INSTALLED.get() {
        let daily = (rotation == crate::config::LogRotation::Daily)
            .then(|| DailyRotation::new(log.path(), Arc::new(LocalClock)));
        log.rotate_daily(daily);
    }
}

/// Installs the process-wide logger: `home/logs/cluster.log` (folder created if missing),
/// plus stderr with `foreground`. Returns the log file's path.
pub fn init(options: &LogOptions) -> Result<PathBuf, LoggingError> {
    let path = log_path(&options.home);
    // No link followed below the home: `logs` must be a real folder.
    home_path::real_dir(&options.home, "logs").map_err(|source| LoggingError::Open {
        path: options.home.join("logs"),
        source,
    })?;
    let file = Arc::new(ReopenableLog::new(&path, open_log_file).map_err(|source| {
        LoggingError::Open {
            path: path.clone(),
            source,
        }
    })?);
    let stderr = options
        .foreground
        .then(|| wazuh_layer(io::stderr, LocalClock));
    tracing_subscriber::registry()
        .with(filter(options.debug))
        .with(wazuh_layer(file.clone(), LocalClock))
        .with(stderr)
        .try_init()
        .map_err(|e| LoggingError::AlreadySet(e.to_string()))?;
    let _ = INSTALLED.set(file);
    Ok(path)
}

/// A layer writing Wazuh's lines to `writer`, with the time from `clock`: for embedding and for
/// tests (with [`FixedClock`]).
pub fn wazuh_layer<S, W, C>(
    writer: W,
    clock: C,
) -> tracing_subscriber::fmt::Layer<
    S,
    tracing_subscriber::fmt::format::DefaultFields,
    WazuhFormat<C>,
    W,
>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
    C: LogClock,
{
    tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .event_format(WazuhFormat::new(clock))
        .with_writer(writer)
}

/// This project's crates at the level of `debug`, everything else from WARNING up, but
/// openraft from ERROR up unless `-dd`: it warns at every heartbeat a dead member misses, while
/// the daemon logs each election and step-down itself.
pub fn filter(debug: u8) -> Targets {
    let level = level_for(debug);
    let raft = if debug >= 2 {
        LevelFilter::WARN
    } else {
        LevelFilter::ERROR
    };
    OWN_TARGETS.iter().fold(
        Targets::new()
            .with_default(LevelFilter::WARN)
            .with_target("openraft", raft),
        |t, target| t.with_target(*target, level),
    )
}

/// Opens (creating it 0660) the log file at `path` for appending; a symbolic link there is
/// refused (`O_NOFOLLOW`), also when the file is reopened after a rotation.
fn open_log_file(path: &Path) -> io::Result<File> {
    home_path::open_append(path, 0o660)
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use chrono::NaiveDateTime;
    use tracing_subscriber::fmt::MakeWriter;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    /// Collects what the layer writes.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Buffer {
            self.clone()
        }
    }

    fn logged(debug: u8, emit: impl FnOnce()) -> String {
        let buffer = Buffer::default();
        let time = NaiveDateTime::parse_from_str("2024/10/01 12:00:00", TIME_FORMAT).unwrap();
        let subscriber = tracing_subscriber::registry()
            .with(filter(debug))
            .with(wazuh_layer(buffer.clone(), FixedClock(time)));
        tracing::subscriber::with_default(subscriber, emit);
        let bytes = buffer.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn events_become_wazuh_lines() {
        let text = logged(0, || {
            tracing::info!(
                tag = "Worker worker01",
                subtag = "Integrity check",
                "Finished in 0.012s. Sync not required."
            );
            tracing::warn!("No tag at all.");
            tracing::error!(tag = "Master", files = 3, "Sync failed.");
            tracing::debug!("Not shown without -d.");
        });
        assert_eq!(
            text,
            "2024/10/01 12:00:00 INFO: [Worker worker01] [Integrity check] Finished in 0.012s. Sync not required.\n\
             2024/10/01 12:00:00 WARNING: [Cluster] [Main] No tag at all.\n\
             2024/10/01 12:00:00 ERROR: [Master] [Main] Sync failed. files=3\n"
        );
    }

    #[test]
    fn dd_shows_trace_as_debug2_and_d_does_not() {
        let emit = || {
            tracing::debug!(tag = "Master", subtag = "Keep alive", "Checking.");
            tracing::trace!(tag = "Master", subtag = "Keep alive", "Details.");
        };
        assert_eq!(
            logged(1, emit),
            "2024/10/01 12:00:00 DEBUG: [Master] [Keep alive] Checking.\n"
        );
        assert_eq!(
            logged(2, emit),
            "2024/10/01 12:00:00 DEBUG: [Master] [Keep alive] Checking.\n\
             2024/10/01 12:00:00 DEBUG2: [Master] [Keep alive] Details.\n"
        );
    }

    #[test]
    fn the_log_file_is_created_0660() {
        use std::os::unix::fs::PermissionsExt;
        let home = tempfile::tempdir().unwrap();
        let path = home.path().join("cluster.log");
        ReopenableLog::new(&path, open_log_file).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o007, 0, "no access for others: {mode:o}");
        assert!(path.is_file());
    }
}
