//! [`Packed`]: a `BTreeMap` or `BTreeSet` filled in key order with its nodes full.
//!
//! Inserting keys in order into a B-tree leaves every node it splits about half empty: a
//! comparison's 50,000 entries took 13.9 MB of nodes where full ones take about 8. `append`
//! lays a tree out again in full nodes, so entries are gathered in a small tree and appended
//! whenever it reaches a quarter of the whole (at least [`FIRST_APPEND`]): the whole grows by a
//! quarter at each append, so an entry is moved about five times on average, and at the end
//! only the last gathered part was half empty.

use std::collections::{BTreeMap, BTreeSet};

/// Entries gathered before the first append.
const FIRST_APPEND: usize = 1024;

/// A B-tree collection that can take all of another one's entries at once.
pub(crate) trait Appendable: Default {
    /// One entry.
    type Entry;

    /// Adds one entry (a repeated key keeps the last one).
    fn add(&mut self, entry: Self::Entry);

    /// Moves every entry of `other` in, laying the whole out again.
    fn append_all(&mut self, other: &mut Self);

    /// Number of entries.
    fn count(&self) -> usize;
}

impl<K: Ord, V> Appendable for BTreeMap<K, V> {
    type Entry = (K, V);

    fn add(&mut self, (key, value): (K, V)) {
        self.insert(key, value);
    }

    fn append_all(&mut self, other: &mut Self) {
        self.append(other);
    }

    fn count(&self) -> usize {
        self.len()
    }
}

impl<T: Ord> Appendable for BTreeSet<T> {
    type Entry = T;

    fn add(&mut self, entry: T) {
        self.replace(entry);
    }

    fn append_all(&mut self, other: &mut Self) {
        self.append(other);
    }

    fn count(&self) -> usize {
        self.len()
    }
}

/// Builds a B-tree collection whose nodes are full.
#[derive(Debug, Default)]
pub(crate) struct Packed<C> {
    whole: C,
    gathered: C,
}

impl<C: Appendable> Packed<C> {
    /// Adds an entry (a repeated key keeps the last one).
    pub(crate) fn insert(&mut self, entry: C::Entry) {
        self.gathered.add(entry);
        if self.gathered.count() >= FIRST_APPEND.max(self.whole.count() / 4) {
            self.whole.append_all(&mut self.gathered);
        }
    }

    /// The collection.
    pub(crate) fn into_inner(mut self) -> C {
        self.whole.append_all(&mut self.gathered);
        self.whole
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_what_a_map_or_a_set_would_whatever_the_order() {
        let keys: Vec<u32> = (0..10_000u32)
            .map(|i| i.wrapping_mul(7919) % 12_007)
            .collect();
        let mut packed = Packed::<BTreeMap<u32, usize>>::default();
        let mut plain = BTreeMap::new();
        let mut packed_set = Packed::<BTreeSet<u32>>::default();
        for (n, key) in keys.iter().chain(&keys[..50]).enumerate() {
            packed.insert((*key, n));
            plain.insert(*key, n);
            packed_set.insert(*key);
        }
        assert_eq!(packed.into_inner(), plain);
        assert_eq!(
            packed_set.into_inner(),
            plain.keys().copied().collect::<BTreeSet<u32>>()
        );
        assert!(Packed::<BTreeSet<u8>>::default().into_inner().is_empty());
    }
}
