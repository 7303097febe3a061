//! Agents: the registry on the master, registration forwarding from workers, agent-info from
//! the workers to the master and agent-groups from the master to the workers.
//!
//! (filled in below as modules land)

pub mod api;
pub mod client_keys;
pub mod error;
pub mod groups;
#[cfg(feature = "testing")]
pub mod memory_store;
pub mod model;
pub mod registry;
pub mod store;
#[cfg(feature = "testing")]
pub mod store_suite;

pub use api::{AgentApi, AgentEvent, AgentSummary, Registration};
pub use error::AgentError;
pub use model::{AgentId, AgentInfoRecord, AgentIp, AgentKey, AgentRecord, ConnectionStatus};
pub use registry::AgentRegistry;
pub use store::AgentStore;
