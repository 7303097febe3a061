//! Helpers shared by the benchmarks in `benches/`: the comparison against Python and OpenSSL.

pub mod compare;
