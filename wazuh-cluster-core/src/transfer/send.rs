//! Sending one file as `new_file`, `file_upd`..., `file_end` (whole, or piece by piece as its
//! bytes are produced), and the names sync containers get.

use std::time::SystemTime;

use rand::Rng;
use wazuh_cluster_proto::command::Command;
use wazuh_cluster_proto::payload::{FileTransferError, PieceSender, TransferPath};

use crate::session::{PendingReply, RequestError, SessionHandle};

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

/// The longest `file_upd` piece sent: 1 MiB rather than the 5 MiB Wazuh fills, since each
/// piece in flight is held about five times over on each side (the piece, the `file_upd`
/// payload, its Fernet token, its frame, and on the receiver the frame read, the token decoded
/// and the plaintext). A worker's integrity file of 50,000 files (about 4 MB) arrived in one
/// piece and raised the master's RSS by 11 MB for its check. Any receiver appends the pieces
/// whatever their length (Wazuh's included), and at 1 MiB the round trip per piece stays small
/// beside its encryption.
pub const MAX_PIECE: usize = 1 << 20;

/// A file sent on a session while its bytes are produced: `new_file` when it starts, one
/// `file_upd` per piece, and `file_end` with the SHA-256 of all pieces. A piece goes out before
/// the answer to the previous one is awaited (two in flight: Wazuh waits for each answer, and
/// on a busy machine a container of ten pieces spent most of its time in those round trips);
/// `file_end` waits for every piece's answer. The receiver appends pieces in arrival order.
#[derive(Debug)]
pub struct FileUpload<'a> {
    session: &'a SessionHandle,
    sender: PieceSender,
    /// The answer to the last piece sent, not awaited yet.
    in_flight: Option<PendingReply>,
}

impl<'a> FileUpload<'a> {
    /// Sends `new_file` for `path` on `session`.
    pub async fn start(session: &'a SessionHandle, path: &str) -> Result<Self, SendFileError> {
        let upload = Self {
            session,
            sender: PieceSender::new(TransferPath::new(path)?),
            in_flight: None,
        };
        upload.send(upload.sender.start()).await?;
        Ok(upload)
    }

    /// The length of a full `file_upd` piece for this path: what Wazuh puts in one request
    /// for it, at most [`MAX_PIECE`].
    pub fn piece_len(&self) -> usize {
        self.sender.path().chunk_len().min(MAX_PIECE)
    }

    /// Bytes of the file sent so far.
    pub fn sent(&self) -> u64 {
        self.sender.sent()
    }

    /// Sends one piece (at most [`piece_len`](Self::piece_len) bytes) as a `file_upd`, then
    /// waits for the answer to the piece before it.
    pub async fn piece(&mut self, piece: &[u8]) -> Result<(), SendFileError> {
        let (command, payload) = self.sender.update(piece);
        let timeout = self.session.request_timeout();
        let sent = self.session.send_request(command, payload, timeout);
        match self.in_flight.replace(sent) {
            Some(previous) => self.answered(previous).await,
            None => Ok(()),
        }
    }

    /// Sends `file_end` once every piece is answered; returns the bytes sent.
    pub async fn end(mut self) -> Result<u64, SendFileError> {
        if let Some(last) = self.in_flight.take() {
            self.answered(last).await?;
        }
        let sent = self.sent();
        let session = self.session;
        let path = self.sender.path().as_str().to_owned();
        let (command, payload) = self.sender.end();
        request(session, &path, command, payload).await?;
        Ok(sent)
    }

    async fn send(&self, (command, payload): (Command, Vec<u8>)) -> Result<(), SendFileError> {
        request(self.session, self.sender.path().as_str(), command, payload).await
    }

    async fn answered(&self, piece: PendingReply) -> Result<(), SendFileError> {
        piece.wait().await.map(drop).map_err(|e| self.failed(e))
    }

    fn failed(&self, source: RequestError) -> SendFileError {
        failed(self.sender.path().as_str(), source)
    }
}

fn failed(path: &str, source: RequestError) -> SendFileError {
    SendFileError::Request {
        path: path.to_owned(),
        source,
    }
}

async fn request(
    session: &SessionHandle,
    path: &str,
    command: Command,
    payload: Vec<u8>,
) -> Result<(), SendFileError> {
    session
        .request(command, payload)
        .await
        .map(drop)
        .map_err(|source| failed(path, source))
}

/// Sends `data` as the file `path` on `session`, one request at a time; returns the bytes sent.
pub async fn send_file(
    session: &SessionHandle,
    path: &str,
    data: &[u8],
) -> Result<u64, SendFileError> {
    let mut upload = FileUpload::start(session, path).await?;
    for piece in data.chunks(upload.piece_len()) {
        upload.piece(piece).await?;
    }
    upload.end().await
}
