//! What `wazuh-clusterd` does at startup: `-t` checks, and the start sequence up to [`runtime::run`].

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tracing::{debug, error, info, warn};

use crate::config::{self, Cluster, ClusterConfig, ConfigError, LoadedConfig, SystemAddresses};
use crate::logging::{self, LogOptions};
use crate::pidfile::PidFile;
use crate::runtime::{self, NodeContext};

/// What the daemon starts with (from the command line).
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// Installation folder: logs in `home/logs`, pid file in `home/var/run`.
    pub home: PathBuf,
    /// The configuration file to load.
    pub config_path: PathBuf,
    /// Stay in the foreground and copy the log to stderr.
    pub foreground: bool,
    /// Number of `-d` flags (log detail).
    pub debug: u8,
}

/// `-t`: loads `path`, prints warnings and every problem on stderr, a summary on stdout; the
/// `<tls>` files are read (relative to `home`) and this node's certificate checked against its
/// name. Exit 0 when valid (also when the cluster is disabled), 1 otherwise.
pub fn test_config(path: &Path, home: &Path) -> ExitCode {
    match config::load(path, &SystemAddresses) {
        Ok(LoadedConfig { cluster, warnings }) => {
            for warning in &warnings {
                eprintln!("WARNING: {}: {warning}", path.display());
            }
            match cluster {
                Cluster::Disabled(by) => {
                    println!(
                        "{}: configuration OK; the cluster is disabled ({by})",
                        path.display()
                    );
                }
                Cluster::Enabled(config) => {
                    if let Err(e) = crate::net::ClusterTls::from_config(&config, home) {
                        eprintln!("ERROR: {}: {e}", path.display());
                        return ExitCode::FAILURE;
                    }
                    println!("{}: configuration OK; {}", path.display(), summary(&config));
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            for warning in e.warnings() {
                eprintln!("WARNING: {}: {warning}", path.display());
            }
            for problem in problem_lines(path, &e) {
                eprintln!("ERROR: {problem}");
            }
            ExitCode::FAILURE
        }
    }
}

/// Starts the daemon: logging, configuration, pid file, then [`runtime::run`] until it returns.
pub fn start(options: &DaemonOptions) -> ExitCode {
    let log_options = LogOptions {
        home: options.home.clone(),
        foreground: options.foreground,
        debug: options.debug,
    };
    let log_path = match logging::init(&log_options) {
        Ok(path) => path,
        Err(e) => {
            eprintln!("ERROR: {e}");
            return ExitCode::FAILURE;
        }
    };
    // In the background only the log file sees events: say the decisive ones on stderr too.
    let tell = |line: &str| {
        if !options.foreground {
            eprintln!("{line}");
        }
    };
    let config_path = options.config_path.clone();
    debug!("Logging to {}", log_path.display());
    debug!("Loading configuration from {}", config_path.display());
    let loaded = match config::load(&config_path, &SystemAddresses) {
        Ok(loaded) => loaded,
        Err(e) => {
            for problem in problem_lines(&config_path, &e) {
                error!("{problem}");
                tell(&format!("ERROR: {problem}"));
            }
            return ExitCode::FAILURE;
        }
    };
    for warning in &loaded.warnings {
        warn!("{}: {warning}", config_path.display());
    }
    let config = match loaded.cluster {
        Cluster::Disabled(by) => {
            let line = format!("Cluster disabled: {by}. Exiting...");
            info!("{line}");
            tell(&line);
            return ExitCode::SUCCESS;
        }
        Cluster::Enabled(config) => *config,
    };
    logging::set_rotation(config.operations.log_rotation);
    let pid_file = match PidFile::create(&options.home) {
        Ok(pid_file) => pid_file,
        Err(e) => {
            error!("{e}");
            tell(&format!("ERROR: {e}"));
            return ExitCode::FAILURE;
        }
    };
    info!("Starting node: {}", summary(&config));
    debug!("PID file {}", pid_file.path().display());
    let context = NodeContext {
        home: options.home.clone(),
        config_path,
        debug: options.debug,
    };
    let code = match runtime::run(config, context) {
        Ok(()) => {
            info!("Cluster node stopped.");
            ExitCode::SUCCESS
        }
        Err(e) => {
            error!("{e}");
            tell(&format!("ERROR: {e}"));
            ExitCode::FAILURE
        }
    };
    drop(pid_file);
    code
}

/// Every problem of `error` as a line naming the file (a read error names it already).
fn problem_lines(path: &Path, error: &ConfigError) -> Vec<String> {
    match error {
        ConfigError::Read { .. } => vec![error.to_string()],
        _ => error
            .problems()
            .into_iter()
            .map(|problem| format!("{}: {problem}", path.display()))
            .collect(),
    }
}

/// One line describing an enabled node.
fn summary(config: &ClusterConfig) -> String {
    let nodes: Vec<String> = config.nodes.iter().map(ToString::to_string).collect();
    let metrics = config
        .operations
        .metrics_listen
        .map_or_else(String::new, |addr| format!(", metrics on http://{addr}"));
    format!(
        "cluster {}, node {} ({}), {}:{}, master {}, nodes [{}], announcing Wazuh {} (version check {}), failover {}, {}, {}{metrics}",
        config.name,
        config.node_name,
        config.node_type,
        config.bind_addr,
        config.port,
        if config.failover {
            "elected among the nodes".to_string()
        } else {
            config.master_address().to_string()
        },
        nodes.join(", "),
        config.version,
        config.version_check,
        if config.failover { "yes" } else { "no" },
        config.max_message_age.map_or_else(
            || "message age not checked".to_owned(),
            |age| format!("messages older than {}s refused", age.as_secs())
        ),
        if config.tls.is_some() {
            "mutual TLS"
        } else {
            "plain TCP"
        }
    )
}
