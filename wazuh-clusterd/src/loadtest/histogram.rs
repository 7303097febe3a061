//! Task-duration histograms read from a node's Prometheus scrape
//! (`wazuh_cluster_task_duration_seconds`), merged over peers and nodes, and the difference of
//! two scrapes (what happened during one phase).

use std::collections::BTreeMap;

use serde::Serialize;
use wazuh_cluster_core::telemetry::TASK_DURATION_SECONDS;

/// One histogram: cumulative bucket counts by upper bound, the sum and the count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    /// `(le, cumulative count)`, in increasing `le` (`f64::INFINITY` last).
    pub buckets: Vec<(f64, f64)>,
    /// Sum of the observations in seconds.
    pub sum: f64,
    /// Number of observations.
    pub count: f64,
}

impl Histogram {
    fn bucket_mut(&mut self, le: f64) -> &mut f64 {
        let at = match self.buckets.iter().position(|(bound, _)| *bound >= le) {
            Some(i) if self.buckets[i].0 == le => return &mut self.buckets[i].1,
            Some(i) => i,
            None => self.buckets.len(),
        };
        self.buckets.insert(at, (le, 0.0));
        &mut self.buckets[at].1
    }

    /// Adds `other`'s observations to this one.
    pub fn merge(&mut self, other: &Histogram) {
        for (le, n) in &other.buckets {
            *self.bucket_mut(*le) += n;
        }
        self.sum += other.sum;
        self.count += other.count;
    }

    /// The observations of `self` not in `before` (an earlier scrape of the same series).
    pub fn since(&self, before: &Histogram) -> Histogram {
        let mut out = self.clone();
        for (le, n) in &before.buckets {
            *out.bucket_mut(*le) -= n;
        }
        out.sum -= before.sum;
        out.count -= before.count;
        out
    }

    /// The upper bound of the bucket holding the `q` quantile (0..=1), `None` without
    /// observations.
    pub fn quantile_bound(&self, q: f64) -> Option<f64> {
        if self.count <= 0.0 {
            return None;
        }
        let rank = (q * self.count).ceil().max(1.0);
        self.buckets
            .iter()
            .find(|(_, n)| *n >= rank)
            .map(|(le, _)| *le)
    }

    /// What a report shows of it.
    pub fn summary(&self) -> Option<DurationSummary> {
        (self.count > 0.0).then(|| DurationSummary {
            count: self.count as u64,
            mean: self.sum / self.count,
            p99: self.quantile_bound(0.99).unwrap_or(f64::INFINITY),
            max: self.quantile_bound(1.0).unwrap_or(f64::INFINITY),
        })
    }
}

/// Durations of one task over a phase: the mean is exact (sum / count); p99 and max are the
/// upper bounds of the histogram buckets holding them (the buckets double from 1 ms).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DurationSummary {
    /// Observations.
    pub count: u64,
    /// Mean, seconds.
    pub mean: f64,
    /// 99th percentile is at most this, seconds.
    pub p99: f64,
    /// Largest is at most this, seconds.
    pub max: f64,
}

/// Task-duration histograms of a scrape, by `task` label, merged over peers.
pub type TaskHistograms = BTreeMap<String, Histogram>;

/// Reads every `wazuh_cluster_task_duration_seconds` series of a scrape, merged by task.
pub fn parse(scrape: &str) -> TaskHistograms {
    let mut tasks = TaskHistograms::new();
    for line in scrape.lines() {
        let Some(rest) = line.strip_prefix(TASK_DURATION_SECONDS) else {
            continue;
        };
        let Some((kind, rest)) = rest.split_once('{') else {
            continue;
        };
        let Some((labels, value)) = rest.split_once("} ") else {
            continue;
        };
        let Some(value) = value.split(' ').next().and_then(|v| v.parse::<f64>().ok()) else {
            continue;
        };
        let labels = parse_labels(labels);
        let Some(task) = labels.get("task") else {
            continue;
        };
        let entry = tasks.entry(task.clone()).or_default();
        match kind {
            "_bucket" => {
                let le = match labels.get("le").map(String::as_str) {
                    Some("+Inf") => f64::INFINITY,
                    Some(bound) => match bound.parse() {
                        Ok(le) => le,
                        Err(_) => continue,
                    },
                    None => continue,
                };
                *entry.bucket_mut(le) += value;
            }
            "_sum" => entry.sum += value,
            "_count" => entry.count += value,
            _ => {}
        }
    }
    tasks
}

/// `a="x",b="y"` into a map (values without escapes, as the daemon's labels are).
fn parse_labels(text: &str) -> BTreeMap<String, String> {
    text.split(',')
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            Some((name.trim().to_owned(), value.trim_matches('"').to_owned()))
        })
        .collect()
}

/// Merges the histograms of several scrapes (several nodes) task by task.
pub fn merge_all<'a>(scrapes: impl IntoIterator<Item = &'a TaskHistograms>) -> TaskHistograms {
    let mut out = TaskHistograms::new();
    for scrape in scrapes {
        for (task, histogram) in scrape {
            out.entry(task.clone()).or_default().merge(histogram);
        }
    }
    out
}

/// What happened between two merged scrapes, task by task.
pub fn since(after: &TaskHistograms, before: &TaskHistograms) -> TaskHistograms {
    after
        .iter()
        .map(|(task, histogram)| {
            let earlier = before.get(task).cloned().unwrap_or_default();
            (task.clone(), histogram.since(&earlier))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRAPE: &str = "\
# TYPE wazuh_cluster_task_duration_seconds histogram
wazuh_cluster_task_duration_seconds_sum{task=\"integrity_check\",peer=\"w1\"} 0.5
wazuh_cluster_task_duration_seconds_count{task=\"integrity_check\",peer=\"w1\"} 4
wazuh_cluster_task_duration_seconds_bucket{le=\"0.001\",task=\"integrity_check\",peer=\"w1\"} 0
wazuh_cluster_task_duration_seconds_bucket{le=\"0.1\",task=\"integrity_check\",peer=\"w1\"} 3
wazuh_cluster_task_duration_seconds_bucket{le=\"0.2\",task=\"integrity_check\",peer=\"w1\"} 4
wazuh_cluster_task_duration_seconds_bucket{le=\"+Inf\",task=\"integrity_check\",peer=\"w1\"} 4
wazuh_cluster_task_duration_seconds_sum{task=\"integrity_check\",peer=\"w2\"} 1.5
wazuh_cluster_task_duration_seconds_count{task=\"integrity_check\",peer=\"w2\"} 1
wazuh_cluster_task_duration_seconds_bucket{le=\"0.001\",task=\"integrity_check\",peer=\"w2\"} 0
wazuh_cluster_task_duration_seconds_bucket{le=\"0.1\",task=\"integrity_check\",peer=\"w2\"} 0
wazuh_cluster_task_duration_seconds_bucket{le=\"0.2\",task=\"integrity_check\",peer=\"w2\"} 0
wazuh_cluster_task_duration_seconds_bucket{le=\"+Inf\",task=\"integrity_check\",peer=\"w2\"} 1
wazuh_cluster_sync_bytes_total{task=\"integrity_check\",peer=\"w1\",direction=\"sent\"} 9
# EOF
";

    #[test]
    fn peers_merge_and_the_summary_reads_bucket_bounds() {
        let tasks = parse(SCRAPE);
        let check = &tasks["integrity_check"];
        assert_eq!(check.count, 5.0);
        assert_eq!(check.sum, 2.0);
        let summary = check.summary().unwrap();
        assert_eq!(summary.mean, 0.4);
        assert_eq!(summary.p99, f64::INFINITY);
        assert_eq!(check.quantile_bound(0.6), Some(0.1));
        assert_eq!(check.quantile_bound(0.8), Some(0.2));
        assert_eq!(tasks.len(), 1);
    }

    #[test]
    fn a_phase_is_the_difference_of_two_scrapes() {
        let before = parse(SCRAPE);
        let mut more = before.clone();
        more.get_mut("integrity_check").unwrap().buckets =
            vec![(0.001, 0.0), (0.1, 2.0), (0.2, 2.0), (f64::INFINITY, 2.0)];
        more.get_mut("integrity_check").unwrap().sum = 0.1;
        more.get_mut("integrity_check").unwrap().count = 2.0;
        let after = merge_all([&before, &more]);
        let phase = since(&after, &before);
        let summary = phase["integrity_check"].summary().unwrap();
        assert_eq!(summary.count, 2);
        assert!((summary.mean - 0.05).abs() < 1e-9);
        assert_eq!(summary.max, 0.1);
        assert!(
            since(&before, &before)["integrity_check"]
                .summary()
                .is_none()
        );
    }
}
