//! Hashing files with BLAKE2b-512, read in 64 KiB blocks, stat taken before the read; many
//! files are spread over the blocking pool, one chunk per core.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use blake2::{Blake2b512, Digest};
use wazuh_cluster_core::files::{FileSourceError, HashedFile, SyncPath};
use wazuh_cluster_proto::payload::Blake2bHex;

use super::Inner;
use super::resolve::{io_error, resolve_readable};
use super::walk::mod_time;

const BLOCK: usize = 64 * 1024;

/// Hashes one file.
pub(crate) fn hash_file(
    home: &Path,
    path: &SyncPath,
    buffer: &mut [u8],
) -> Result<HashedFile, FileSourceError> {
    let shown = path.as_str();
    let target = resolve_readable(home, path)?;
    let mut file = File::open(&target).map_err(|e| io_error("open", shown, e))?;
    let meta = file.metadata().map_err(|e| io_error("stat", shown, e))?;
    let mut hasher = Blake2b512::new();
    loop {
        match file.read(buffer) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error("read", shown, e)),
        }
    }
    let hash = Blake2bHex::from_digest(hasher.finalize().into());
    Ok(HashedFile {
        size: meta.len(),
        mtime: mod_time(&meta),
        hash,
    })
}

/// Hashes many files in parallel on the blocking pool, keeping the order.
pub(crate) async fn hash_many(
    inner: &Arc<Inner>,
    paths: &[SyncPath],
) -> Vec<Result<HashedFile, FileSourceError>> {
    if paths.is_empty() {
        return Vec::new();
    }
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(paths.len());
    let chunk = paths.len().div_ceil(workers);
    let tasks: Vec<_> = paths
        .chunks(chunk)
        .map(|part| {
            let inner = Arc::clone(inner);
            let part = part.to_vec();
            tokio::task::spawn_blocking(move || {
                let mut buffer = vec![0u8; BLOCK];
                part.iter()
                    .map(|p| hash_file(&inner.home, p, &mut buffer))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut out = Vec::with_capacity(paths.len());
    for (task, part) in tasks.into_iter().zip(paths.chunks(chunk)) {
        match task.await {
            Ok(results) => out.extend(results),
            Err(join) => out.extend(
                part.iter()
                    .map(|p| FileSourceError::Io {
                        operation: "hash",
                        path: p.as_str().to_owned(),
                        source: std::io::Error::other(join.to_string()),
                    })
                    .map(Err),
            ),
        }
    }
    out
}
