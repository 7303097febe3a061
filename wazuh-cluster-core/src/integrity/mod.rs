//! File integrity synchronization, master to workers (Wazuh 4.x, protocol section 6): the
//! synchronized items, each node's incremental metadata table, the master's comparison into
//! missing / shared / extra, the bounded sync container with its adaptive size limit, the
//! worker's atomic apply, and the stats record of each task. The network flow (`syn_i_w_m_p`,
//! `syn_m_c`, ...) calls these.

pub mod apply;
pub mod body_cache;
pub mod compare;
pub mod container;
mod local_changes;
pub mod master;
mod master_files;
mod packed;
pub mod plan;
pub mod received;
mod routes;
pub mod schedule;
mod sorted_join;
pub mod staging;
pub mod stats;
pub mod table;
mod table_json;
pub mod worker;
mod worker_files;
pub mod zip_limit;

pub use apply::{AppliedFiles, ApplyError, ApplyErrors, ApplyReport, apply_received, apply_sync};
pub use body_cache::{BodyCache, BodyCacheStats, CachedBody, Lookup};
pub use compare::{CompareError, ComparisonCounts, compare};
pub use container::{
    Deferral, DeferredFile, PieceSink, StreamContainerError, StreamedContainer, SyncContainer,
    SyncContainerError, build_sync_container, stream_sync_container,
};
pub use master::{MasterIntegrity, WorkerIntegrityStatus};
pub use master_files::MasterFiles;
pub use plan::{ContainerPlan, PlannedFile};
pub use received::ReceivedContainer;
pub(crate) use routes::route_integrity;
pub use schedule::FullRehashSchedule;
pub use staging::ContainerStager;
pub use stats::{IntegrityStats, IntegrityTask};
pub use table::{MetadataTable, RefreshMode, RefreshReport, TableEntry};
pub use table_json::TableEntriesJson;
pub use worker::{WorkerIntegrity, WorkerIntegrityReport};
pub use worker_files::WorkerFiles;
pub use zip_limit::{ZipLimit, ZipLimitConfig};
