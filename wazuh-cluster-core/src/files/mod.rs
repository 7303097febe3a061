//! Files as the integrity sync sees them: the synchronized items ([`ClusterItems`]), the
//! [`FileSource`] trait, confined paths, and (feature `testing`) an in-memory source plus the
//! conformance suite every source must pass.

mod error;
mod items;
mod path;
mod source;
mod staged;
mod stat;

#[cfg(feature = "testing")]
pub mod conformance;
#[cfg(feature = "testing")]
pub mod memory;

pub use error::FileSourceError;
pub use items::{ClusterItem, ClusterItems, Exclusions, FileSelection, ItemsError};
pub use path::{ConfinementError, SyncPath};
pub use source::FileSource;
pub use staged::StagedFile;
pub use stat::{FileStat, HashedFile, ModTime};
