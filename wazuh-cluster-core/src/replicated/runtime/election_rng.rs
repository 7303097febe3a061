//! The random numbers openraft draws (its election timeouts), from a seed this process was given
//! instead of from the operating system: the core reads randomness only through seeded
//! generators, so that a test that seeds it replays the same elections.
//!
//! Every draw takes the next value of one process-wide SplitMix64 sequence and seeds a small
//! generator with it. Nodes in one process draw different values (they take turns in the
//! sequence); nodes in different processes must be given different seeds (the daemon derives
//! one from its own seeded generator and the node name), otherwise their timeouts could match
//! and their elections split again and again.

use std::sync::atomic::{AtomicU64, Ordering};

use rand_openraft::SeedableRng;
use rand_openraft::rngs::SmallRng;

/// The SplitMix64 increment (the golden ratio's fractional bits).
const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// The sequence's state; a fixed start until [`seed_election_rng`] is called.
static STATE: AtomicU64 = AtomicU64::new(0x5eed_0f2a_f700_0000);

/// Starts the process-wide sequence of openraft's random draws at `seed`.
pub fn seed_election_rng(seed: u64) {
    STATE.store(seed, Ordering::Relaxed);
}

/// A generator for one draw: seeded with the next value of the sequence.
pub(super) fn next_rng() -> SmallRng {
    let z = STATE
        .fetch_add(GAMMA, Ordering::Relaxed)
        .wrapping_add(GAMMA);
    let z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    SmallRng::seed_from_u64(z ^ (z >> 31))
}
