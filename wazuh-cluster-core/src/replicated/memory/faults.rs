//! Faults a [`super::MemoryRouter`] injects into the messages it carries, drawn from a seeded
//! sequence so that a test replays them: lost messages (the request or the reply), random
//! delays, and partitions (groups of nodes that cannot reach each other).

use std::collections::BTreeMap;
use std::time::Duration;

/// What happens to one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fate {
    /// Delivered after this delay, and its reply too.
    Delivered(Duration),
    /// Lost on the way: the target never sees it.
    RequestLost,
    /// Delivered, but the reply is lost.
    ReplyLost,
}

/// The faults in force and the seeded sequence they are drawn from.
#[derive(Debug)]
pub(super) struct Faults {
    /// SplitMix64 state.
    state: u64,
    drop_rate: f64,
    max_delay: Duration,
    /// The partition group of each node that is in one; nodes not listed are together.
    groups: BTreeMap<u64, usize>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            state: 0x0dd_ba11,
            drop_rate: 0.0,
            max_delay: Duration::ZERO,
            groups: BTreeMap::new(),
        }
    }
}

impl Faults {
    pub(super) fn seed(&mut self, seed: u64) {
        self.state = seed;
    }

    pub(super) fn set_drop_rate(&mut self, rate: f64) {
        self.drop_rate = rate.clamp(0.0, 1.0);
    }

    pub(super) fn set_max_delay(&mut self, delay: Duration) {
        self.max_delay = delay;
    }

    /// Puts each of `groups` in a partition of its own; nodes in no group form one more.
    pub(super) fn partition(&mut self, groups: &[&[u64]]) {
        self.groups = groups
            .iter()
            .enumerate()
            .flat_map(|(i, group)| group.iter().map(move |&id| (id, i + 1)))
            .collect();
    }

    pub(super) fn heal(&mut self) {
        self.groups.clear();
    }

    /// Whether `from` can reach `to` now (an unknown sender reaches everyone).
    pub(super) fn connected(&self, from: Option<u64>, to: u64) -> bool {
        let group = |id| self.groups.get(&id).copied().unwrap_or(0);
        from.is_none_or(|from| group(from) == group(to))
    }

    /// Draws what happens to the next message.
    pub(super) fn fate(&mut self) -> Fate {
        if self.drop_rate > 0.0 && self.unit() < self.drop_rate {
            return if self.next() & 1 == 0 {
                Fate::RequestLost
            } else {
                Fate::ReplyLost
            };
        }
        if self.max_delay.is_zero() {
            return Fate::Delivered(Duration::ZERO);
        }
        Fate::Delivered(self.max_delay.mul_f64(self.unit()))
    }

    /// A draw in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let z = self.state;
        let z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        let z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_separate_groups_and_heal_joins_them() {
        let mut faults = Faults::default();
        faults.partition(&[&[1], &[2, 3]]);
        assert!(!faults.connected(Some(1), 2));
        assert!(faults.connected(Some(2), 3));
        assert!(!faults.connected(Some(4), 1), "unlisted nodes form a group");
        assert!(faults.connected(None, 1));
        faults.heal();
        assert!(faults.connected(Some(1), 2));
    }

    #[test]
    fn the_drop_rate_is_honoured_and_replayed_from_the_seed() {
        let draw = |seed| {
            let mut faults = Faults::default();
            faults.seed(seed);
            faults.set_drop_rate(0.25);
            (0..4000).map(|_| faults.fate()).collect::<Vec<_>>()
        };
        let fates = draw(5);
        assert_eq!(fates, draw(5));
        let lost = fates
            .iter()
            .filter(|f| !matches!(f, Fate::Delivered(_)))
            .count();
        assert!((800..1200).contains(&lost), "{lost} of 4000 lost at 25%");
    }
}
