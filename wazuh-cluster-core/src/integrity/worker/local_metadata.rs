//! [`LocalMetadata`]: the worker's table of its files and the last `files_metadata.json`
//! container packed from it, sent again as long as the table did not change.

use std::sync::Arc;

use wazuh_cluster_proto::payload::ContainerEncoder;

use super::error::MetadataPackError;
use crate::files::FileSource;
use crate::integrity::{AppliedFiles, MetadataTable, RefreshMode, RefreshReport, TableEntriesJson};

/// The container of one generation of the table.
#[derive(Debug)]
struct Packed {
    generation: u64,
    bytes: Arc<Vec<u8>>,
}

/// The container a check sends, and what its refresh did (`None` when the files were not
/// listed).
#[derive(Debug)]
pub(super) struct CheckMetadata {
    pub container: Arc<Vec<u8>>,
    pub refresh: Option<RefreshReport>,
}

/// The worker's metadata table and its last container.
#[derive(Debug, Default)]
pub(super) struct LocalMetadata {
    table: MetadataTable,
    packed: Option<Packed>,
}

impl LocalMetadata {
    /// Takes in what an apply changed (see [`MetadataTable::record_applied`]).
    pub fn record_applied(&mut self, applied: AppliedFiles) {
        self.table.record_applied(applied);
    }

    /// The container of `files_metadata.json` for a check. The files are listed (and hashed as
    /// `mode` says) unless `unchanged` says no file changed since the last listing and the
    /// refresh is incremental; the container is packed again only when the table changed, so
    /// an unchanged tree sends the same bytes (which the master recognizes).
    pub async fn container<S: FileSource + ?Sized>(
        &mut self,
        files: &S,
        mode: RefreshMode,
        unchanged: bool,
        max_zip_size: u64,
    ) -> Result<CheckMetadata, MetadataPackError> {
        let listed = mode == RefreshMode::Full || !unchanged || self.packed.is_none();
        let refresh = if listed {
            Some(self.table.refresh(files, mode).await?)
        } else {
            None
        };
        let generation = self.table.generation();
        if let Some(packed) = self.packed.as_ref().filter(|p| p.generation == generation) {
            return Ok(CheckMetadata {
                container: packed.bytes.clone(),
                refresh,
            });
        }
        let container =
            ContainerEncoder::new(max_zip_size).finish(&TableEntriesJson(&self.table))?;
        let bytes = Arc::new(container.bytes);
        self.packed = Some(Packed {
            generation,
            bytes: bytes.clone(),
        });
        Ok(CheckMetadata {
            container: bytes,
            refresh,
        })
    }
}
