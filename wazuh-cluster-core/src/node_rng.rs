//! The randomness of a node (connection counters, task ids, file names): seeded for reproducible
//! runs, else from the operating system.

use rand::SeedableRng;
use rand::rngs::StdRng;

/// The generator of a node built with `seed` (`None`: seeded from the operating system).
pub(crate) fn node_rng(seed: Option<u64>) -> StdRng {
    match seed {
        Some(seed) => StdRng::seed_from_u64(seed),
        None => StdRng::from_os_rng(),
    }
}
