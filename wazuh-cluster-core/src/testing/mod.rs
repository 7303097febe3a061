//! Test support (feature `testing`): in-memory implementations of every trait, the storage
//! conformance suite, a simulated network and the deterministic multi-node harness.

pub mod clock;
pub mod harness;
pub mod net;
pub mod storage;
pub mod storage_suite;
pub mod sync_state_suite;
pub mod sync_states;
pub mod transport;

pub use clock::VirtualClock;
pub use harness::{SimBuilder, SimCluster};
pub use net::{LinkConfig, SimNet};
pub use storage::MemoryStorage;
pub use sync_states::MemorySyncStates;
pub use transport::memory_pair;
