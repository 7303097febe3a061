//! Logs in Wazuh's format to `DIR/logs/cluster.log`, and to stderr in the foreground.
//!
//! Emit events as `tracing::info!(tag = "Worker worker01", subtag = "Integrity check", "text")`;
//! see [`WazuhFormat`] for the convention. Levels: INFO by default, DEBUG with `-d`, and with
//! `-dd` tracing's TRACE, printed as Wazuh's `DEBUG2`. This project's crates log at the chosen
//! level; other crates (sqlx, tokio...) only from WARNING up.

mod format;

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use thiserror::Error;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

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

/// Installs the process-wide logger: `home/logs/cluster.log` (folder created if missing),
/// plus stderr with `foreground`. Returns the log file's path.
pub fn init(options: &LogOptions) -> Result<PathBuf, LoggingError> {
    let path = log_path(&options.home);
    let file = open_log(&path)?;
    let stderr = options
        .foreground
        .then(|| wazuh_layer(io::stderr, LocalClock));
    tracing_subscriber::registry()
        .with(filter(options.debug))
        .with(wazuh_layer(Mutex::new(file), LocalClock))
        .with(stderr)
        .try_init()
        .map_err(|e| LoggingError::AlreadySet(e.to_string()))?;
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

/// This project's crates at the level of `debug`, everything else from WARNING up.
pub fn filter(debug: u8) -> Targets {
    let level = level_for(debug);
    OWN_TARGETS.iter().fold(
        Targets::new().with_default(LevelFilter::WARN),
        |t, target| t.with_target(*target, level),
    )
}

fn open_log(path: &Path) -> Result<File, LoggingError> {
    let open_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LoggingError::Open { path, source }
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(open_error(dir))?;
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o660)
        .open(path)
        .map_err(open_error(path))
}
