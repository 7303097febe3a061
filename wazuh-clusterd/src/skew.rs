//! [`SkewBook`]: how far each peer's clock is from this node's, from the Fernet timestamps of
//! the messages it sends (keepalives included, so the figure is refreshed at least once per
//! keepalive period).
//!
//! A token's timestamp is the sender's unix time in whole seconds when it encrypted, so one
//! sample `token time - our time at receipt` lies within one second plus the network latency
//! below the true offset. The estimate is the highest sample of the last [`WINDOW`] ones: never
//! above the true offset, and within about a second of it. Positive means the peer's clock is
//! ahead of ours.
//!
//! Over the threshold (`<clock_skew_warning>`, 5 s by default) a warning goes to `cluster.log`
//! once, and again only after the offset came back under half the threshold (logged at INFO).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

/// Samples kept per peer.
pub const WINDOW: usize = 16;

/// What this node knows of one peer's clock.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerOffset {
    /// Estimated offset in seconds (peer minus this node; positive: the peer is ahead).
    pub offset_seconds: f64,
    /// Samples the estimate rests on (at most [`WINDOW`]).
    pub samples: usize,
    /// This node's (calendar) time of the last sample.
    pub last_sample: SystemTime,
}

#[derive(Debug)]
struct Peer {
    samples: VecDeque<f64>,
    last_sample: SystemTime,
    warned: bool,
}

impl Peer {
    fn estimate(&self) -> f64 {
        self.samples
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
    }
}

/// Per-peer clock offsets, shared by every connection of the node.
#[derive(Debug, Clone)]
pub struct SkewBook {
    peers: Arc<Mutex<BTreeMap<String, Peer>>>,
    threshold: Duration,
    tag: Arc<str>,
}

impl SkewBook {
    /// A book warning over `threshold`, logging under `tag` (`Master`, `Worker worker01`).
    pub fn new(threshold: Duration, tag: impl Into<Arc<str>>) -> Self {
        Self {
            peers: Arc::default(),
            threshold,
            tag: tag.into(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Peer>> {
        self.peers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a message from `peer` whose token says `token_time` (unix seconds), received
    /// when this node's calendar clock read `now`; returns the new estimate.
    pub fn sample(&self, peer: &str, token_time: u64, now: SystemTime) -> f64 {
        let ours = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let sample = token_time as f64 - ours;
        let mut peers = self.lock();
        let entry = peers.entry(peer.to_owned()).or_insert_with(|| Peer {
            samples: VecDeque::with_capacity(WINDOW),
            last_sample: now,
            warned: false,
        });
        if entry.samples.len() == WINDOW {
            entry.samples.pop_front();
        }
        entry.samples.push_back(sample);
        entry.last_sample = now;
        let estimate = entry.estimate();
        let limit = self.threshold.as_secs_f64();
        if estimate.abs() > limit && !entry.warned {
            entry.warned = true;
            tracing::warn!(
                tag = &*self.tag,
                subtag = "Clock skew",
                "The clock of {peer} is {estimate:+.1}s off this node's (more than the {limit}s \
                 allowed by <clock_skew_warning>): synchronize the managers' clocks with NTP."
            );
        } else if estimate.abs() < limit / 2.0 && entry.warned {
            entry.warned = false;
            tracing::info!(
                tag = &*self.tag,
                subtag = "Clock skew",
                "The clock of {peer} is back within {limit}s of this node's ({estimate:+.1}s)."
            );
        }
        estimate
    }

    /// Every peer's offset, by name.
    pub fn offsets(&self) -> BTreeMap<String, PeerOffset> {
        self.lock()
            .iter()
            .map(|(name, peer)| {
                (
                    name.clone(),
                    PeerOffset {
                        offset_seconds: peer.estimate(),
                        samples: peer.samples.len(),
                        last_sample: peer.last_sample,
                    },
                )
            })
            .collect()
    }

    /// The warning threshold.
    pub fn threshold(&self) -> Duration {
        self.threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: f64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs_f64(secs)
    }

    #[test]
    fn the_estimate_is_the_highest_recent_sample() {
        let book = SkewBook::new(Duration::from_secs(5), "Master");
        // The peer runs 30 s late; its whole-second stamps and latency pull samples below -30.
        let close = |a: f64, b: f64| (a - b).abs() < 1e-6;
        assert!(close(book.sample("w1", 1_000, at(1_030.7)), -30.7));
        assert!(close(book.sample("w1", 1_001, at(1_031.05)), -30.05));
        assert!(close(book.sample("w1", 1_002, at(1_032.4)), -30.05));
        let offsets = book.offsets();
        assert_eq!(offsets["w1"].samples, 3);
        assert_eq!(offsets["w1"].last_sample, at(1_032.4));
    }

    #[test]
    fn old_samples_leave_the_window() {
        let book = SkewBook::new(Duration::from_secs(5), "Master");
        book.sample("w1", 1_010, at(1_000.0));
        for i in 0..WINDOW as u64 {
            book.sample("w1", 2_000 + i, at(2_000.5 + i as f64));
        }
        assert!((book.offsets()["w1"].offset_seconds + 0.5).abs() < 1e-6);
        assert_eq!(book.offsets()["w1"].samples, WINDOW);
    }
}
