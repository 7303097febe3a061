//! `<max_message_age>`: how old a received message's Fernet token may be before it is refused
//! as a possible replay (see `wazuh_cluster_proto::replay`).
//!
//! Default: twice the longest request timeout of [`Intervals`] (a request and its answer each
//! take at most that long) plus Fernet's 60 s clock-skew allowance, 300 s with Wazuh's timers.
//! `no` turns the age check off (for nodes whose clocks cannot be kept within 60 s); tokens seen
//! twice and repeated request counters are refused either way.

use std::time::Duration;

use wazuh_cluster_proto::fernet::MAX_CLOCK_SKEW;

use super::intervals::{Intervals, parse_duration};

/// What `<max_message_age>` allows, for error messages.
pub(crate) const MESSAGE_AGE_ALLOWED: &str = "no, or a duration of at least 1s with an optional unit ms, s (default), m or h, e.g. 300s or 5m";

/// The default maximum age for `intervals`.
pub fn default_max_message_age(intervals: &Intervals) -> Duration {
    let longest = [
        intervals.timeout_cluster_request,
        intervals.timeout_agent_info,
        intervals.timeout_extra_valid,
        intervals.timeout_receiving_file,
    ]
    .into_iter()
    .max()
    .unwrap_or_default();
    longest * 2 + Duration::from_secs(MAX_CLOCK_SKEW)
}

/// The value of `<max_message_age>`: `Ok(None)` for `no`, `Err(())` when not allowed.
pub(crate) fn parse_max_message_age(text: &str) -> Result<Option<Duration>, ()> {
    if text == "no" {
        return Ok(None);
    }
    match parse_duration(text) {
        Some(age) if age >= Duration::from_secs(1) => Ok(Some(age)),
        _ => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_twice_the_longest_timeout_plus_the_skew() {
        assert_eq!(
            default_max_message_age(&Intervals::default()),
            Duration::from_secs(2 * 120 + 60)
        );
        let intervals = Intervals {
            timeout_cluster_request: Duration::from_secs(500),
            ..Intervals::default()
        };
        assert_eq!(
            default_max_message_age(&intervals),
            Duration::from_secs(1060)
        );
    }

    #[test]
    fn values() {
        assert_eq!(parse_max_message_age("no"), Ok(None));
        assert_eq!(
            parse_max_message_age("5m"),
            Ok(Some(Duration::from_secs(300)))
        );
        assert_eq!(parse_max_message_age("500ms"), Err(()));
        assert_eq!(parse_max_message_age("yes"), Err(()));
    }
}
