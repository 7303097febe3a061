//! The master's sync container: the content of `shared` and `missing` under the current
//! [`ZipLimit`](super::zip_limit::ZipLimit), and the metadata the worker applies, handed to a
//! [`PieceSink`] piece by piece as it is built (never held whole).
//!
//! Files that do not fit (too large alone, the limit reached, unreadable, or whose compressed
//! body holds Wazuh's separator) are left out of the container **and** of the metadata, so the
//! worker neither expects them nor deletes anything because of them; the next comparison finds
//! them again. `extra` travels whole: it does not depend on what fitted.

use std::convert::Infallible;
use std::future::Future;

use thiserror::Error;
use tokio::sync::mpsc;
use wazuh_cluster_proto::payload::{
    AddOutcome, Blake2bHex, BodyCompressor, ContainerError, ContainerStream, SkipReason,
};

use super::body_cache::{BodyCache, CachedBody, Lookup};
use super::plan::{ContainerPlan, PlannedFile};
use super::sorted_join::{Joined, outer_join};
use crate::files::{FileSource, FileSourceError};

/// The container could not be built.
#[derive(Debug, Error)]
pub enum SyncContainerError {
    /// The encoder refused a path or the metadata.
    #[error("cannot build the sync container: {0}")]
    Container(#[from] ContainerError),
    /// The runtime shut down while the metadata was being written.
    #[error("cannot build the sync container: the daemon is stopping")]
    Stopping,
}

/// The container could not be built, or a piece could not be handed over.
#[derive(Debug, Error)]
pub enum StreamContainerError<E> {
    /// Building failed.
    #[error(transparent)]
    Build(#[from] SyncContainerError),
    /// The sink refused a piece.
    #[error(transparent)]
    Sink(E),
}

/// Why a file of the plan was left for a later round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deferral {
    /// The encoder left it out (too large alone, limit reached, separator in its body).
    Skipped(SkipReason),
    /// It could not be read (it vanished, or an I/O error); the text says why.
    Unreadable(String),
}

/// A file of the plan that is not in this container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeferredFile {
    /// Its relative path.
    pub path: String,
    /// Why.
    pub reason: Deferral,
}

/// What a streamed container held besides its metadata (the plan it was given, minus the
/// deferred files).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamedContainer {
    /// Files of `missing`/`shared` that wait for a later round.
    pub deferred: Vec<DeferredFile>,
    /// Raw (uncompressed) bytes of the files inside.
    pub raw_bytes: u64,
    /// Files whose body came from the [`BodyCache`] (compressed for an earlier container).
    pub from_cache: usize,
}

impl StreamedContainer {
    /// Whether any file had to wait (Wazuh logs "Maximum zip size exceeded" for the limit case).
    pub fn is_partial(&self) -> bool {
        !self.deferred.is_empty()
    }
}

/// A container built whole in memory and what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncContainer<E> {
    /// The bytes (`relpath|//@@//|zlib|@@//@@|...files_metadata.json|//@@//|zlib(json)`).
    pub bytes: Vec<u8>,
    /// The metadata inside: the plan minus the deferred files.
    pub plan: ContainerPlan<E>,
    /// Files of `missing`/`shared` that wait for a later round.
    pub deferred: Vec<DeferredFile>,
    /// Raw (uncompressed) bytes of the files inside.
    pub raw_bytes: u64,
}

impl<E> SyncContainer<E> {
    /// Whether any file had to wait (Wazuh logs "Maximum zip size exceeded" for the limit case).
    pub fn is_partial(&self) -> bool {
        !self.deferred.is_empty()
    }
}

/// Where the pieces of a container go as soon as they are cut (a file transfer to the worker,
/// or memory).
pub trait PieceSink {
    /// Why a piece was refused.
    type Error;

    /// Takes the next piece.
    fn piece(&mut self, piece: Vec<u8>) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

impl PieceSink for Vec<u8> {
    type Error = Infallible;

    async fn piece(&mut self, piece: Vec<u8>) -> Result<(), Infallible> {
        self.extend_from_slice(&piece);
        Ok(())
    }
}

/// Files read together (through [`FileSource::read_batch`]) while building a container.
const READ_BATCH: usize = 256;

/// Reads `shared` and `missing` (in path order) from `source` in batches, packs them under
/// `limit` bytes and hands the container to `sink` in pieces of `piece_len` bytes (the last one
/// shorter) as soon as each is full: the next files are read and compressed while a piece is
/// being sent (one piece waits between the two). A file whose body `bodies` holds for its hash is neither read
/// nor compressed, and the bodies compressed here are offered to `bodies` for the next
/// containers. Once the limit is reached the remaining files are deferred without being read
/// (beyond the batch being packed). The plan becomes the metadata without a copy: the deferred
/// files are removed from it. The metadata's JSON and its compression (0.12 s at 50,000
/// files) run on a blocking thread, not on the runtime's.
pub async fn stream_sync_container<S, K, E>(
    source: &S,
    bodies: &BodyCache,
    plan: &mut ContainerPlan<E>,
    limit: u64,
    piece_len: usize,
    sink: &mut K,
) -> Result<StreamedContainer, StreamContainerError<K::Error>>
where
    S: FileSource + ?Sized,
    K: PieceSink + Send,
    E: PlannedFile + Send + Sync + 'static,
{
    let (pieces, mut ready) = mpsc::channel::<Vec<u8>>(1);
    let send = async move {
        while let Some(piece) = ready.recv().await {
            sink.piece(piece).await?;
        }
        Ok(())
    };
    let (built, sent) = tokio::join!(
        build_pieces(source, bodies, plan, limit, piece_len, pieces),
        send
    );
    sent.map_err(StreamContainerError::Sink)?;
    // `None` only when the sender stopped, whose error was returned above.
    Ok(built?.expect("the pieces stop being taken only on a sink error"))
}

/// A file of the batch being packed: its body from the cache, or its content as read.
enum Packed {
    Cached(CachedBody),
    Read {
        content: Result<Vec<u8>, FileSourceError>,
        keep: bool,
    },
    /// Left out: the limit was reached before it.
    Left,
}

/// Takes each file of `batch` from `bodies` or reads it from `source` (nothing once `full`).
async fn pack_batch<S: FileSource + ?Sized>(
    source: &S,
    bodies: &BodyCache,
    batch: &[(&str, &Blake2bHex)],
    limit: u64,
    full: bool,
) -> Vec<Packed> {
    if full {
        return batch.iter().map(|_| Packed::Left).collect();
    }
    let looked: Vec<Lookup> = batch
        .iter()
        .map(|(path, hash)| bodies.lookup(path, hash))
        .collect();
    let to_read = batch
        .iter()
        .zip(&looked)
        .filter(|(_, l)| matches!(l, Lookup::Miss { .. }))
        .map(|((path, _), _)| *path);
    let mut read = read_batch(source, to_read, limit).await.into_iter();
    looked
        .into_iter()
        .map(|lookup| match lookup {
            Lookup::Hit(body) => Packed::Cached(body),
            Lookup::Miss { keep } => Packed::Read {
                content: read.next().expect("one read per file missed"),
                keep,
            },
        })
        .collect()
}

/// Each file of `files` with its hash, in path order.
fn hashes<E: PlannedFile>(files: &[E]) -> impl Iterator<Item = (&str, &Blake2bHex)> {
    files.iter().map(|file| (file.path(), file.hash()))
}

/// Builds the container into `pieces`; `None` when nobody takes them any more.
async fn build_pieces<S: FileSource + ?Sized, E: PlannedFile + Send + Sync + 'static>(
    source: &S,
    bodies: &BodyCache,
    plan: &mut ContainerPlan<E>,
    limit: u64,
    piece_len: usize,
    pieces: mpsc::Sender<Vec<u8>>,
) -> Result<Option<StreamedContainer>, SyncContainerError> {
    let mut encoder = ContainerStream::in_path_order(limit, piece_len);
    let mut compressor = BodyCompressor::new();
    let mut deferred = Vec::new();
    let mut raw_bytes = 0;
    let mut from_cache = 0;
    let mut full = false;
    // `shared` and `missing` (sorted, without a common path) in one path order: the encoder
    // then refuses a repeat by the last path alone.
    let mut wanted =
        outer_join(hashes(&plan.shared), hashes(&plan.missing)).map(|(path, side)| match side {
            Joined::Left(hash) | Joined::Right(hash) | Joined::Both(hash, _) => (path, hash),
        });
    loop {
        let batch: Vec<(&str, &Blake2bHex)> = wanted.by_ref().take(READ_BATCH).collect();
        if batch.is_empty() {
            break;
        }
        let packed = pack_batch(source, bodies, &batch, limit, full).await;
        for (&(path, hash), packed) in batch.iter().zip(packed) {
            let mut defer = |reason| {
                deferred.push(DeferredFile {
                    path: path.to_owned(),
                    reason,
                })
            };
            // The limit reached in this batch leaves the rest of it out too.
            let packed = if full { Packed::Left } else { packed };
            let cached = match packed {
                Packed::Left => {
                    defer(Deferral::Skipped(SkipReason::LimitReached));
                    continue;
                }
                Packed::Cached(cached) => {
                    from_cache += 1;
                    cached
                }
                Packed::Read {
                    content: Ok(content),
                    keep,
                } => {
                    let cached = CachedBody {
                        raw_len: content.len() as u64,
                        body: compressor.compress(&content).into(),
                    };
                    // Kept only under the hash of what was read: the file may have changed
                    // since the master's table was computed.
                    if keep && Blake2bHex::of(&content) == *hash {
                        bodies.keep(path, hash, cached.clone());
                    }
                    cached
                }
                Packed::Read {
                    content: Err(FileSourceError::TooLarge { size, limit, .. }),
                    ..
                } => {
                    defer(Deferral::Skipped(SkipReason::TooLarge { size, limit }));
                    continue;
                }
                Packed::Read {
                    content: Err(error),
                    ..
                } => {
                    defer(Deferral::Unreadable(error.to_string()));
                    continue;
                }
            };
            match encoder.add_compressed(path, cached.raw_len, &cached.body)? {
                AddOutcome::Added => raw_bytes += cached.raw_len,
                AddOutcome::Skipped(reason) => {
                    full = reason == SkipReason::LimitReached;
                    defer(Deferral::Skipped(reason));
                }
            }
        }
        while let Some(piece) = encoder.next_piece() {
            if pieces.send(piece).await.is_err() {
                return Ok(None);
            }
        }
    }
    drop(wanted);
    // Deferred in path order: `shared` and `missing` were walked in one.
    plan.remove_sorted(&deferred.iter().map(|f| f.path.as_str()).collect::<Vec<_>>());
    let metadata = std::mem::take(plan);
    let finishing = tokio::task::spawn_blocking(move || {
        let end = encoder.finish(&metadata);
        (metadata, end)
    });
    let (metadata, end) = match finishing.await {
        Ok(finished) => finished,
        Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        Err(_) => return Err(SyncContainerError::Stopping),
    };
    *plan = metadata;
    let end = end?;
    for piece in end.pieces {
        if pieces.send(piece).await.is_err() {
            return Ok(None);
        }
    }
    Ok(Some(StreamedContainer {
        deferred,
        raw_bytes,
        from_cache,
    }))
}

/// [`stream_sync_container`] into memory: the whole container at once.
pub async fn build_sync_container<S, E>(
    source: &S,
    plan: &ContainerPlan<E>,
    limit: u64,
) -> Result<SyncContainer<E>, SyncContainerError>
where
    S: FileSource + ?Sized,
    E: PlannedFile + Clone + Send + Sync + 'static,
{
    let mut bytes = Vec::new();
    let mut plan = plan.clone();
    let no_cache = BodyCache::new(0);
    let streamed =
        stream_sync_container(source, &no_cache, &mut plan, limit, usize::MAX, &mut bytes)
            .await
            .map_err(|error| match error {
                StreamContainerError::Build(error) => error,
                StreamContainerError::Sink(never) => match never {},
            })?;
    Ok(SyncContainer {
        bytes,
        plan,
        deferred: streamed.deferred,
        raw_bytes: streamed.raw_bytes,
    })
}

/// Reads each path (refused ones answer their refusal), one result per path in order.
async fn read_batch<'a, S: FileSource + ?Sized>(
    source: &S,
    paths: impl Iterator<Item = &'a str>,
    limit: u64,
) -> Vec<Result<Vec<u8>, FileSourceError>> {
    let confined: Vec<_> = paths.map(|p| source.items().confine(p)).collect();
    let readable: Vec<_> = confined
        .iter()
        .filter_map(|c| c.as_ref().ok())
        .cloned()
        .collect();
    let mut read = source.read_batch(&readable, limit).await.into_iter();
    confined
        .into_iter()
        .map(|c| match c {
            Ok(path) => read.next().unwrap_or_else(|| {
                Err(FileSourceError::Io {
                    operation: "read (the source answered fewer files than asked)",
                    path: path.as_str().to_owned(),
                    source: std::io::Error::other("missing answer from read_batch"),
                })
            }),
            Err(refused) => Err(FileSourceError::from(refused)),
        })
        .collect()
}
