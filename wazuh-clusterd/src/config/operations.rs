//! The operations settings of `<cluster>` (this project's extensions): the Prometheus and
//! load-balancer endpoint, the clock skew warning threshold and the rotation of `cluster.log`.
//!
//! ```xml
//! <metrics><listen>127.0.0.1:9516</listen></metrics>  <!-- off when absent -->
//! <clock_skew_warning>5s</clock_skew_warning>          <!-- default 5 s -->
//! <log_rotation>daily</log_rotation>                   <!-- none (default) or daily -->
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use super::error::{ConfigWarning, FieldError};
use super::intervals::parse_duration;
use super::parse::RawField;

/// Default of `<clock_skew_warning>`.
pub const DEFAULT_CLOCK_SKEW_WARNING: Duration = Duration::from_secs(5);

/// Leaf tags of `<cluster>` read here.
pub(crate) const OPERATIONS_TAGS: [&str; 2] = ["clock_skew_warning", "log_rotation"];

/// How `logs/cluster.log` is rotated by the daemon itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogRotation {
    /// Never (an external `logrotate` renames the file and sends SIGHUP).
    #[default]
    None,
    /// At the first line after local midnight, as Wazuh's cluster does: the day's file moves to
    /// `logs/cluster/YYYY/Mon/cluster-DD.log.gz`.
    Daily,
}

/// The operations settings, defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operations {
    /// Where `GET /metrics` and `GET /health` are served (`<metrics><listen>`); `None`: off.
    pub metrics_listen: Option<SocketAddr>,
    /// A peer whose clock is further off than this gets a warning in `cluster.log`.
    pub clock_skew_warning: Duration,
    /// The daemon's own rotation of `cluster.log`.
    pub log_rotation: LogRotation,
}

impl Default for Operations {
    fn default() -> Self {
        Self {
            metrics_listen: None,
            clock_skew_warning: DEFAULT_CLOCK_SKEW_WARNING,
            log_rotation: LogRotation::None,
        }
    }
}

/// Reads the operations settings from the last of each `<cluster>` leaf (`fields`) and the
/// children of `<metrics>`; problems go to `errors`, repeats to `warnings`.
pub(crate) fn operations(
    fields: &HashMap<&str, &RawField>,
    metrics: &[RawField],
    warnings: &mut Vec<ConfigWarning>,
    errors: &mut Vec<FieldError>,
) -> Option<Operations> {
    let before = errors.len();
    let mut operations = Operations::default();
    let mut listen_seen = false;
    for field in metrics {
        if std::mem::replace(&mut listen_seen, true) {
            warnings.push(ConfigWarning::Repeated {
                tag: "metrics/listen".to_owned(),
                line: field.line,
            });
        }
        match field.text.parse::<SocketAddr>() {
            Ok(addr) => operations.metrics_listen = Some(addr),
            Err(_) => errors.push(FieldError::Invalid {
                field: "metrics/listen".to_owned(),
                value: field.text.clone(),
                line: field.line,
                allowed: "an IP address and a port, e.g. 127.0.0.1:9516 or [::1]:9516".to_owned(),
            }),
        }
    }
    if let Some(field) = fields.get("clock_skew_warning") {
        match parse_duration(&field.text) {
            Some(threshold) => operations.clock_skew_warning = threshold,
            None => errors.push(FieldError::Invalid {
                field: field.tag.clone(),
                value: field.text.clone(),
                line: field.line,
                allowed: "a positive duration such as 5s, 500ms or 1m".to_owned(),
            }),
        }
    }
    if let Some(field) = fields.get("log_rotation") {
        match field.text.as_str() {
            "none" => operations.log_rotation = LogRotation::None,
            "daily" => operations.log_rotation = LogRotation::Daily,
            _ => errors.push(FieldError::Invalid {
                field: field.tag.clone(),
                value: field.text.clone(),
                line: field.line,
                allowed: "none or daily".to_owned(),
            }),
        }
    }
    (errors.len() == before).then_some(operations)
}
