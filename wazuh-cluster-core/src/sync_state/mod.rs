//! The master's record, per worker and file, of where the file's synchronization stands: the
//! table `cluster_control -f` shows. Its own trait, [`SyncStateStore`], beside
//! [`Storage`](crate::storage::Storage), so backends of the node table need not change.
//!
//! What the states mean (Wazuh has no acknowledgement of an apply, so the master learns the
//! outcome from the worker's next integrity check):
//! - `pending`: the master sent the file (or the order to delete it) in a sync container, or it
//!   differs and waits for a later round because it did not fit;
//! - `synchronized`: the worker's last check showed the master's hash;
//! - `failed`: the transfer of the container holding it failed (timeout, cancel, refusal), or the
//!   check after it was sent still showed a different hash;
//! - `deleted`: the master no longer has the file and the worker's last check no longer lists it.

mod store;

pub use store::{
    FileSyncState, ParseSyncStateError, SyncStateQuery, SyncStateRecord, SyncStateStore,
};
