//! Exact task durations of a phase from the daemons' own `Finished in` log lines: the
//! histograms give exact means but only the doubling bucket that holds the largest value, so
//! the rig reads the largest duration of each task from the lines its nodes logged during the
//! phase (`[Worker worker01] [Agent-info sync] Finished in 0.412s. Updated 3 chunks.`). Their
//! count next to the histogram's shows that the logs and the metrics agree.

use std::collections::BTreeMap;

use serde::Serialize;
use wazuh_cluster_core::telemetry::task;

/// The duration lines of one task in a stretch of log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Logged {
    /// `Finished in` lines of the task.
    pub count: u64,
    /// The largest duration they give, seconds.
    pub max: f64,
}

/// The `task` label of a log line's subtag, for the subtags the histograms measure.
fn task_of(subtag: &str) -> Option<&'static str> {
    Some(match subtag {
        "Integrity check" => task::INTEGRITY_CHECK,
        "Integrity sync" => task::INTEGRITY_SYNC,
        "Agent-info sync" => task::AGENT_INFO,
        "Agent-groups send" => task::AGENT_GROUPS,
        "Agent-groups send full" => task::AGENT_GROUPS_FULL,
        _ => return None,
    })
}

/// Duration lines by task label.
pub type LoggedTasks = BTreeMap<&'static str, Logged>;

/// The task and seconds of one `... [Subtag] Finished in 1.234s. ...` line.
fn parse_line(line: &str) -> Option<(&'static str, f64)> {
    let (head, tail) = line.split_once("] Finished in ")?;
    let subtag = &head[head.rfind('[')? + 1..];
    let seconds = tail.split_once("s.")?.0.parse().ok()?;
    Some((task_of(subtag)?, seconds))
}

/// The duration lines of `log` (whole lines), by task label.
pub fn durations(log: &str) -> LoggedTasks {
    let mut out = LoggedTasks::new();
    for (task, seconds) in log.lines().filter_map(parse_line) {
        let entry = out.entry(task).or_default();
        entry.count += 1;
        entry.max = entry.max.max(seconds);
    }
    out
}

/// Adds `more` (another node's lines) into `into`.
pub fn merge(into: &mut LoggedTasks, more: LoggedTasks) {
    for (task, logged) in more {
        let entry = into.entry(task).or_default();
        entry.count += logged.count;
        entry.max = entry.max.max(logged.max);
    }
}

/// The lines of `log` that start in `from..to` (two lengths the log had, taken while the node
/// was writing, so either may fall inside a line): each line belongs to the stretch where it
/// starts.
pub fn lines_between(log: &str, from: usize, to: usize) -> &str {
    let start = |at: usize| {
        let at = at.min(log.len());
        if at == 0 || log.as_bytes()[at - 1] == b'\n' {
            return at;
        }
        log[at..].find('\n').map_or(log.len(), |n| at + n + 1)
    };
    &log[start(from)..start(to).max(start(from))]
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "\
2026/12/04 18:00:00 INFO: [Worker worker01] [Agent-info sync] Finished in 0.412s. Updated 3 chunks.
2026/12/04 18:00:01 INFO: [Worker worker02] [Agent-info sync] Finished in 2.875s. Updated 9 chunks.
2026/12/04 18:00:01 INFO: [Worker worker02] [Integrity check] Finished in 0.012s. Sync not required.
2026/12/04 18:00:02 INFO: [Worker worker01] [Integrity sync] Finished in 0.300s. 1 missing, 0 shared, 0 extra, 2048 bytes.
2026/12/04 18:00:02 INFO: [Worker worker01] [Agent-groups send full] Finished in 0.020s. Updated 1 chunks.
2026/12/04 18:00:03 INFO: [Master] [Local integrity] Finished in 0.140s. Calculated metadata of 10 files (0 hashed).
2026/12/04 18:00:03 INFO: [Worker worker01] [Agent-info sync] Starting.
";

    #[test]
    fn each_measured_task_gets_its_count_and_largest_duration() {
        let logged = durations(LOG);
        assert_eq!(
            logged[task::AGENT_INFO],
            Logged {
                count: 2,
                max: 2.875
            }
        );
        assert_eq!(logged[task::INTEGRITY_CHECK].max, 0.012);
        assert_eq!(logged[task::INTEGRITY_SYNC].max, 0.3);
        assert_eq!(logged[task::AGENT_GROUPS_FULL].count, 1);
        // `Local integrity` has no histogram; `Starting.` is no duration.
        assert_eq!(logged.len(), 4);
    }

    #[test]
    fn nodes_merge_and_a_mark_falls_on_a_line_start() {
        let mut all = durations(LOG);
        merge(
            &mut all,
            durations(
                "x INFO: [Worker w9] [Agent-info sync] Finished in 3.5s. Updated 1 chunks.\n",
            ),
        );
        assert_eq!(all[task::AGENT_INFO], Logged { count: 3, max: 3.5 });
    }

    #[test]
    fn a_line_belongs_to_the_stretch_where_it_starts() {
        let log = "one\ntwo\nthree\n";
        // Marks inside `two` (5) and inside `three` (10): `two` started before the first.
        assert_eq!(lines_between(log, 0, 5), "one\ntwo\n");
        assert_eq!(lines_between(log, 5, 10), "three\n");
        assert_eq!(lines_between(log, 10, log.len()), "");
        assert_eq!(lines_between(log, 4, 8), "two\n");
        assert_eq!(lines_between(log, 8, 100), "three\n");
        assert_eq!(lines_between(log, 9, 4), "");
    }
}
