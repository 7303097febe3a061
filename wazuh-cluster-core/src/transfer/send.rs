//! Sending one file as `new_file`, `file_upd`..., `file_end`, and the names sync containers get.

use std::time::SystemTime;

use rand::Rng;
use wazuh_cluster_proto::payload::{FileSender, FileTransferError, TransferPath};

use crate::session::{RequestError, SessionHandle};

/// A file could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum SendFileError {
    /// The path is not a valid transfer path.
    #[error(transparent)]
    Path(#[from] FileTransferError),
    /// A request of the sequence failed.
    #[error("sending file {path}: {source}")]
    Request {
        /// The file's path.
        path: String,
        /// The failed request.
        #[source]
        source: RequestError,
    },
}

/// `/queue/cluster/<worker>/<worker>-<seconds>-<32 hex>.zip`: where Wazuh puts the containers of
/// worker `worker`'s sync, on both sides; `<seconds>` is `wall` since the Unix epoch.
pub fn sync_file_name(worker: &str, wall: SystemTime, rng: &mut impl Rng) -> String {
    let wall_secs = wall
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    let hex: String = rng
        .random::<[u8; 16]>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("/queue/cluster/{worker}/{worker}-{wall_secs:.6}-{hex}.zip")
}

/// Sends `data` as the file `path` on `session`, one request at a time; returns the bytes sent.
pub async fn send_file(
    session: &SessionHandle,
    path: &str,
    data: &[u8],
) -> Result<u64, SendFileError> {
    let path = TransferPath::new(path)?;
    let name = path.as_str().to_owned();
    for (command, payload) in FileSender::new(path, data) {
        session
            .request(command, payload)
            .await
            .map_err(|source| SendFileError::Request {
                path: name.clone(),
                source,
            })?;
    }
    Ok(data.len() as u64)
}
