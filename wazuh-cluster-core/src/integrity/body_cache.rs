//! [`BodyCache`]: the compressed bodies of the master's files, shared by the sync containers of
//! every worker, so a file that 25 workers need is read and compressed about twice instead of
//! 25 times.
//!
//! A body is kept from the second time a container needs it (the same path with the same hash):
//! a single worker's sync, a fresh worker's first one, costs no memory. Bodies are kept within
//! a byte budget and only when the content read hashes to the plan's hash (a file edited after
//! the master's last recalculation is not cached under the old hash). A body that no container
//! used between two [`sweep`](BodyCache::sweep)s is dropped: once every worker holds the tree,
//! the cache gives its memory back (at 10,000 files about 10 MB of a master that is otherwise
//! idle).

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};

use wazuh_cluster_proto::payload::Blake2bHex;

/// A file's compressed body and its raw size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedBody {
    /// Bytes before compression.
    pub raw_len: u64,
    /// The zlib body ([`compress_body`](wazuh_cluster_proto::payload::compress_body)).
    pub body: Arc<[u8]>,
}

/// What the cache answered for a file a container needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The body is cached.
    Hit(CachedBody),
    /// Not cached: read and compress it; offer it back with [`BodyCache::keep`] when `keep`.
    Miss {
        /// Whether the cache would keep the body (needed before, and the budget not reached).
        keep: bool,
    },
}

#[derive(Debug)]
struct Kept {
    hash: Blake2bHex,
    body: CachedBody,
    /// Served or kept since the last sweep.
    used: bool,
}

#[derive(Debug, Default)]
struct State {
    kept: HashMap<String, Kept>,
    bytes: u64,
    /// Fingerprints of (path, hash) asked once and not kept yet.
    asked: HashSet<u64>,
    /// A body was refused for the budget: nothing more is offered (no hashing for nothing)
    /// until [`BodyCache::retain`] frees room.
    full: bool,
    hits: u64,
    misses: u64,
}

/// Compressed bodies by path and content hash, within a byte budget.
#[derive(Debug)]
pub struct BodyCache {
    budget: u64,
    state: Mutex<State>,
}

/// Hits and misses since the cache was made, and what it holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BodyCacheStats {
    /// Bodies taken from the cache.
    pub hits: u64,
    /// Bodies read and compressed.
    pub misses: u64,
    /// Bodies held.
    pub bodies: usize,
    /// Their compressed bytes.
    pub bytes: u64,
}

fn fingerprint(path: &str, hash: &Blake2bHex) -> u64 {
    // SipHash with fixed keys: no randomness; a collision only keeps a body one request early.
    let mut hasher = DefaultHasher::new();
    path.hash(&mut hasher);
    hash.hash(&mut hasher);
    hasher.finish()
}

impl BodyCache {
    /// A cache of at most `budget` compressed bytes (0 keeps nothing).
    pub fn new(budget: u64) -> Self {
        Self {
            budget,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The body of `path` if it is cached with `hash`; otherwise whether to offer it back.
    pub fn lookup(&self, path: &str, hash: &Blake2bHex) -> Lookup {
        let mut state = self.state();
        if let Some(kept) = state.kept.get_mut(path).filter(|k| k.hash == *hash) {
            kept.used = true;
            let body = kept.body.clone();
            state.hits += 1;
            return Lookup::Hit(body);
        }
        state.misses += 1;
        if self.budget == 0 {
            return Lookup::Miss { keep: false };
        }
        let asked_before = !state.asked.insert(fingerprint(path, hash));
        Lookup::Miss {
            keep: asked_before && !state.full,
        }
    }

    /// Keeps the body of `path`, whose content hashes to `hash`, if it fits in the budget
    /// (replacing the body of an older content of the same path).
    pub fn keep(&self, path: &str, hash: &Blake2bHex, body: CachedBody) {
        let mut state = self.state();
        let len = body.body.len() as u64;
        let replaced = state.kept.get(path).map_or(0, |k| k.body.body.len() as u64);
        if state.bytes - replaced + len > self.budget {
            state.full = true;
            return;
        }
        state.asked.remove(&fingerprint(path, hash));
        state.bytes = state.bytes - replaced + len;
        state.kept.insert(
            path.to_owned(),
            Kept {
                hash: *hash,
                body,
                used: true,
            },
        );
    }

    /// Forgets every body whose file no longer has that hash (`current` answers whether
    /// `path` still hashes to `hash`), and what was asked once: call it when the master's
    /// table changed.
    pub fn retain(&self, current: impl Fn(&str, &Blake2bHex) -> bool) {
        let mut state = self.state();
        state.kept.retain(|path, kept| current(path, &kept.hash));
        state.bytes = state.kept.values().map(|k| k.body.body.len() as u64).sum();
        state.asked.clear();
        state.full = false;
    }

    /// Drops every body no container used since the previous sweep, and what was asked once;
    /// call it periodically (the master does after each `recalculate_integrity` period that
    /// went by without a change).
    pub fn sweep(&self) {
        let mut state = self.state();
        state.kept.retain(|_, kept| std::mem::take(&mut kept.used));
        state.bytes = state.kept.values().map(|k| k.body.body.len() as u64).sum();
        state.asked.clear();
        state.full = false;
        if state.kept.is_empty() {
            state.kept = HashMap::new();
            state.asked = HashSet::new();
        }
    }

    /// What the cache did and holds.
    pub fn stats(&self) -> BodyCacheStats {
        let state = self.state();
        BodyCacheStats {
            hits: state.hits,
            misses: state.misses,
            bodies: state.kept.len(),
            bytes: state.bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(data: &[u8]) -> CachedBody {
        CachedBody {
            raw_len: data.len() as u64 * 2,
            body: Arc::from(data),
        }
    }

    #[test]
    fn a_body_is_kept_from_its_second_request_and_served_for_its_hash_only() {
        let cache = BodyCache::new(1 << 20);
        let (v1, v2) = (Blake2bHex::of(b"1"), Blake2bHex::of(b"2"));
        assert_eq!(cache.lookup("a", &v1), Lookup::Miss { keep: false });
        assert_eq!(cache.lookup("a", &v1), Lookup::Miss { keep: true });
        cache.keep("a", &v1, body(b"zz"));
        assert_eq!(cache.lookup("a", &v1), Lookup::Hit(body(b"zz")));
        assert_eq!(cache.lookup("a", &v2), Lookup::Miss { keep: false });
        assert_eq!(cache.lookup("a", &v2), Lookup::Miss { keep: true });
        cache.keep("a", &v2, body(b"yyy"));
        assert_eq!(cache.lookup("a", &v2), Lookup::Hit(body(b"yyy")));
        assert_eq!(cache.lookup("a", &v1), Lookup::Miss { keep: false });
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses), (2, 5));
        assert_eq!((stats.bodies, stats.bytes), (1, 3));
    }

    #[test]
    fn the_budget_bounds_what_is_kept() {
        let cache = BodyCache::new(5);
        let v = Blake2bHex::of(b"v");
        for path in ["a", "b"] {
            cache.lookup(path, &v);
            assert_eq!(cache.lookup(path, &v), Lookup::Miss { keep: true });
            cache.keep(path, &v, body(b"abc"));
        }
        assert!(matches!(cache.lookup("a", &v), Lookup::Hit(_)));
        assert_eq!(
            cache.lookup("b", &v),
            Lookup::Miss { keep: false },
            "once a body did not fit, nothing more is offered"
        );
        assert_eq!(cache.stats().bytes, 3);
        cache.retain(|path, _| path != "a");
        cache.lookup("b", &v);
        assert_eq!(cache.lookup("b", &v), Lookup::Miss { keep: true });
        let none = BodyCache::new(0);
        none.lookup("a", &v);
        assert_eq!(none.lookup("a", &v), Lookup::Miss { keep: false });
    }

    #[test]
    fn a_sweep_drops_the_bodies_unused_since_the_previous_one() {
        let cache = BodyCache::new(1 << 20);
        let v = Blake2bHex::of(b"v");
        for path in ["busy", "idle"] {
            cache.lookup(path, &v);
            cache.lookup(path, &v);
            cache.keep(path, &v, body(b"x"));
        }
        cache.sweep();
        assert_eq!(
            cache.stats().bodies,
            2,
            "both were kept since the last sweep"
        );
        assert!(matches!(cache.lookup("busy", &v), Lookup::Hit(_)));
        cache.sweep();
        assert!(matches!(cache.lookup("busy", &v), Lookup::Hit(_)));
        assert_eq!(cache.lookup("idle", &v), Lookup::Miss { keep: false });
        assert_eq!((cache.stats().bodies, cache.stats().bytes), (1, 1));
        cache.sweep();
        cache.sweep();
        assert_eq!((cache.stats().bodies, cache.stats().bytes), (0, 0));
    }

    #[test]
    fn retain_forgets_changed_and_removed_files() {
        let cache = BodyCache::new(1 << 20);
        let (v1, v2) = (Blake2bHex::of(b"1"), Blake2bHex::of(b"2"));
        for path in ["kept", "changed", "removed"] {
            cache.lookup(path, &v1);
            cache.lookup(path, &v1);
            cache.keep(path, &v1, body(b"x"));
        }
        cache.lookup("asked", &v1);
        cache.retain(|path, hash| match path {
            "kept" => *hash == v1,
            "changed" => *hash == v2,
            _ => false,
        });
        assert!(matches!(cache.lookup("kept", &v1), Lookup::Hit(_)));
        assert_eq!(cache.lookup("changed", &v1), Lookup::Miss { keep: false });
        assert_eq!(cache.lookup("asked", &v1), Lookup::Miss { keep: false });
        assert_eq!((cache.stats().bodies, cache.stats().bytes), (1, 1));
    }
}
