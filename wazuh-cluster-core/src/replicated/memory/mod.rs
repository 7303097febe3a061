//! In-memory Raft storage and network for tests and embedders (feature `testing`): a log store
//! and a state machine that pass openraft's storage conformance suite, and a router that
//! delivers RPCs between `Raft` nodes of one process, with seeded faults (losses, delays,
//! partitions).

mod faults;
mod log_store;
mod network;
mod state_machine;

pub use log_store::MemoryLogStore;
pub use network::MemoryRouter;
pub use state_machine::MemoryStateMachine;
