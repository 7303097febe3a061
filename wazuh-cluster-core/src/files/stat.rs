//! What a [`FileSource`](super::FileSource) tells about a file: size, modification time, hash.

use wazuh_cluster_proto::payload::Blake2bHex;

use super::SyncPath;

/// A modification time as seconds and nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ModTime {
    secs: i64,
    nanos: u32,
}

impl ModTime {
    /// A time `secs` + `nanos` (clamped to under one second) after the Unix epoch.
    pub fn from_unix(secs: i64, nanos: u32) -> Self {
        ModTime {
            secs,
            nanos: nanos.min(999_999_999),
        }
    }

    /// Whole seconds since the Unix epoch.
    pub fn secs(&self) -> i64 {
        self.secs
    }

    /// Nanoseconds past [`secs`](Self::secs).
    pub fn nanos(&self) -> u32 {
        self.nanos
    }

    /// Seconds as a float, as Wazuh's `mod_time` (`os.path.getmtime`).
    pub fn as_f64(&self) -> f64 {
        self.secs as f64 + f64::from(self.nanos) / 1e9
    }
}

/// A synchronized file as listed: no content read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStat {
    /// Where it is.
    pub path: SyncPath,
    /// Size in bytes.
    pub size: u64,
    /// Last modification.
    pub mtime: ModTime,
}

/// A file's content hash, with the size and modification time seen *before* it was read (so a
/// change during the read shows as a different stat next time and is hashed again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashedFile {
    /// Size in bytes.
    pub size: u64,
    /// Last modification.
    pub mtime: ModTime,
    /// BLAKE2b-512 of the content (Wazuh's `hash`).
    pub hash: Blake2bHex,
}
