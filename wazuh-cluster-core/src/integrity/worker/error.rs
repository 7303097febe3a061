//! Why the worker gave up applying the master's sync container.

use wazuh_cluster_proto::payload::{ContainerError, MetadataError};

use crate::integrity::ApplyError;

/// Why the worker did not apply the master's sync container (logged and sent in `syn_i_w_m_r`).
#[derive(Debug, thiserror::Error)]
pub(super) enum ApplyTaskError {
    /// The container did not arrive; the text is the master's or the wait's exception.
    #[error("{0}")]
    NotReceived(String),
    /// The container is not a valid container.
    #[error("refused the master's sync container: {0}")]
    Container(ContainerError),
    /// The container's metadata is not a valid sync plan.
    #[error("refused the master's files_metadata.json: {0}")]
    Plan(MetadataError),
    /// Applying the container failed.
    #[error(transparent)]
    Apply(#[from] ApplyError),
}

/// Why the worker could not pack the metadata of its files for a check.
#[derive(Debug, thiserror::Error)]
pub(super) enum MetadataPackError {
    /// The synchronized files could not be listed.
    #[error("cannot list the synchronized files: {0}")]
    List(#[from] crate::files::FileSourceError),
    /// The metadata did not fit in a container.
    #[error("cannot pack files_metadata.json: {0}")]
    Pack(#[from] ContainerError),
}
