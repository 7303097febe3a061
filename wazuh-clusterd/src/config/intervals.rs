//! The cluster's timers, with Wazuh 4.9.2's defaults (`cluster.json`), the 3.x `<interval>`
//! mapping, and this project's `<intervals>` overrides.

use std::time::Duration;

/// Every timer the nodes use. Defaults are Wazuh 4.9.2's.
///
/// In `ossec.conf` each can be overridden inside `<cluster><intervals>...</intervals></cluster>`
/// (a project extension, for tests and demos) with a tag of the field's name, e.g.
/// `<keep_alive>2s</keep_alive>`. Durations are a positive number with an optional unit `ms`,
/// `s` (the default), `m` or `h`: `500ms`, `1.5`, `2m`. `max_failed_keepalive_attempts` is a
/// count.
///
/// Three of them are not in Wazuh's `cluster.json`: `agent_group_start_delay` (Wazuh's constant
/// of the same name), `agents_disconnection_time` (the name of Wazuh's `<global>` setting that
/// does the same) and `keys_check_interval` (this project's own worker timer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intervals {
    /// Worker: period of the integrity check (9 s).
    pub sync_integrity: Duration,
    /// Worker: period of the agent-info report (10 s).
    pub sync_agent_info: Duration,
    /// Worker: period of the keepalive (60 s).
    pub keep_alive: Duration,
    /// Worker: wait before reconnecting to the master (10 s).
    pub connection_retry: Duration,
    /// Worker: unanswered keepalives before the worker drops the connection (2).
    pub max_failed_keepalive_attempts: u32,
    /// Master: period of the recomputation of its own integrity (8 s).
    pub recalculate_integrity: Duration,
    /// Master: period of the agent-groups push (10 s).
    pub sync_agent_groups: Duration,
    /// Master: wait before the first agent-groups push after the master starts (30 s).
    pub agent_group_start_delay: Duration,
    /// Master: an active agent silent for longer is marked `disconnected` (10 min; Wazuh's
    /// `agents_disconnection_time`).
    pub agents_disconnection_time: Duration,
    /// Worker: how often it reads its `client.keys` for new and removed agents (2 s).
    pub keys_check_interval: Duration,
    /// Master: period of the check for silent workers (60 s).
    pub check_worker_lastkeepalive: Duration,
    /// Master: silence after which a worker is dropped (120 s).
    pub max_allowed_time_without_keepalive: Duration,
    /// Master: longest time an integrity-sync permission stays granted (1000 s).
    pub max_locked_integrity_time: Duration,
    /// Master: deadline for an agent-info transfer (40 s).
    pub timeout_agent_info: Duration,
    /// Master: deadline for an extra-valid (agent-groups) transfer (40 s).
    pub timeout_extra_valid: Duration,
    /// Both: deadline for the answer to a request (20 s).
    pub timeout_cluster_request: Duration,
    /// Both: deadline for a file transfer to complete (120 s).
    pub timeout_receiving_file: Duration,
}

impl Default for Intervals {
    fn default() -> Self {
        let s = Duration::from_secs;
        Intervals {
            sync_integrity: s(9),
            sync_agent_info: s(10),
            keep_alive: s(60),
            connection_retry: s(10),
            max_failed_keepalive_attempts: 2,
            recalculate_integrity: s(8),
            sync_agent_groups: s(10),
            agent_group_start_delay: s(30),
            agents_disconnection_time: s(600),
            keys_check_interval: s(2),
            check_worker_lastkeepalive: s(60),
            max_allowed_time_without_keepalive: s(120),
            max_locked_integrity_time: s(1000),
            timeout_agent_info: s(40),
            timeout_extra_valid: s(40),
            timeout_cluster_request: s(20),
            timeout_receiving_file: s(120),
        }
    }
}

/// What a duration field allows, for error messages.
pub(crate) const DURATION_ALLOWED: &str =
    "a positive number with an optional unit ms, s (default), m or h, e.g. 500ms, 2s, 1.5m";

/// What the 3.x `<interval>` allows, for error messages.
pub(crate) const INTERVAL_ALLOWED: &str =
    "a positive whole number followed by s or m (Wazuh 3.x format), e.g. 20s or 2m";

/// Outcome of setting one `<intervals>` child.
pub(crate) enum SetOutcome {
    /// The value was taken.
    Set,
    /// No such interval: the tag is unknown.
    UnknownName,
    /// The value is not allowed; the text says what is.
    Invalid(&'static str),
}

impl Intervals {
    /// Applies the Wazuh 3.x `<interval>` (`\d+[sm]`): 3.x had one synchronization period, so it
    /// sets the worker's integrity and agent-info periods and the master's integrity
    /// recomputation. `None` when `text` is not in that format.
    pub(crate) fn apply_legacy_interval(&mut self, text: &str) -> Option<()> {
        let (number, unit) = text.split_at(text.char_indices().last()?.0);
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let count: u64 = number.parse().ok().filter(|n| *n > 0)?;
        let period = match unit {
            "s" => Duration::from_secs(count),
            "m" => Duration::from_secs(count.checked_mul(60)?),
            _ => return None,
        };
        self.sync_integrity = period;
        self.sync_agent_info = period;
        self.recalculate_integrity = period;
        Some(())
    }

    /// Sets the field called `name` from `text`.
    pub(crate) fn set(&mut self, name: &str, text: &str) -> SetOutcome {
        if name == "max_failed_keepalive_attempts" {
            return match text.parse::<u32>() {
                Ok(n) if n > 0 => {
                    self.max_failed_keepalive_attempts = n;
                    SetOutcome::Set
                }
                _ => SetOutcome::Invalid("a whole number from 1 to 4294967295"),
            };
        }
        let Some(slot) = self.duration_mut(name) else {
            return SetOutcome::UnknownName;
        };
        match parse_duration(text) {
            Some(duration) => {
                *slot = duration;
                SetOutcome::Set
            }
            None => SetOutcome::Invalid(DURATION_ALLOWED),
        }
    }

    fn duration_mut(&mut self, name: &str) -> Option<&mut Duration> {
        Some(match name {
            "sync_integrity" => &mut self.sync_integrity,
            "sync_agent_info" => &mut self.sync_agent_info,
            "keep_alive" => &mut self.keep_alive,
            "connection_retry" => &mut self.connection_retry,
            "recalculate_integrity" => &mut self.recalculate_integrity,
            "sync_agent_groups" => &mut self.sync_agent_groups,
            "agent_group_start_delay" => &mut self.agent_group_start_delay,
            "agents_disconnection_time" => &mut self.agents_disconnection_time,
            "keys_check_interval" => &mut self.keys_check_interval,
            "check_worker_lastkeepalive" => &mut self.check_worker_lastkeepalive,
            "max_allowed_time_without_keepalive" => &mut self.max_allowed_time_without_keepalive,
            "max_locked_integrity_time" => &mut self.max_locked_integrity_time,
            "timeout_agent_info" => &mut self.timeout_agent_info,
            "timeout_extra_valid" => &mut self.timeout_extra_valid,
            "timeout_cluster_request" => &mut self.timeout_cluster_request,
            "timeout_receiving_file" => &mut self.timeout_receiving_file,
            _ => return None,
        })
    }
}

/// Parses `500ms`, `2`, `2s`, `1.5m`, `1h` into a positive duration.
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let (number, unit_secs) = if let Some(n) = text.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = text.strip_suffix('h') {
        (n, 3600.0)
    } else {
        (text, 1.0)
    };
    let well_formed = !number.is_empty()
        && !number.starts_with('.')
        && !number.ends_with('.')
        && number.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && number.bytes().filter(|b| *b == b'.').count() <= 1;
    if !well_formed {
        return None;
    }
    let seconds = number.parse::<f64>().ok()? * unit_secs;
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| !d.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_with_units() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.5m"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        for bad in [
            "", "0", "0s", "-1", "1.", ".5", "1.2.3", "2x", "s", "1 s", "1e3",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn legacy_interval_sets_the_sync_periods() {
        let mut intervals = Intervals::default();
        assert_eq!(intervals.apply_legacy_interval("2m"), Some(()));
        assert_eq!(intervals.sync_integrity, Duration::from_secs(120));
        assert_eq!(intervals.sync_agent_info, Duration::from_secs(120));
        assert_eq!(intervals.recalculate_integrity, Duration::from_secs(120));
        assert_eq!(intervals.keep_alive, Duration::from_secs(60));
        for bad in ["", "m", "2", "2h", "2mx", "0s", "-2s", "1.5m", "2é"] {
            assert_eq!(
                Intervals::default().apply_legacy_interval(bad),
                None,
                "{bad:?}"
            );
        }
    }
}
