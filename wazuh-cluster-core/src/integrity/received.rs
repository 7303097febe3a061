//! A container received into a spool file ([`ReceivedContainer`]): indexed in one pass over the
//! file (each entry's path and the offset and length of its compressed body), its metadata
//! parsed straight into a typed value, and each file inflated by offset when it is applied. The
//! node holds the index, never the container or the tree.

use std::io::BufReader;

use serde::de::DeserializeOwned;
use wazuh_cluster_proto::payload::{ContainerError, ContainerIndex, ContainerLimits, Inflater};

use crate::transfer::{ReceivedFile, SpoolReader};

/// Bytes read from the spool at once while indexing.
const SCAN_BUFFER: usize = 256 << 10;

/// A received container, read from its spool file.
#[derive(Debug)]
pub struct ReceivedContainer {
    file: ReceivedFile,
    index: ContainerIndex,
    inflater: Inflater,
}

impl ReceivedContainer {
    /// Indexes the container in `file`, refusing a malformed one; `limits` bound its entries
    /// and, for every later inflation together, its inflated bytes.
    pub fn open(file: ReceivedFile, limits: &ContainerLimits) -> Result<Self, ContainerError> {
        let reader = BufReader::with_capacity(SCAN_BUFFER, SpoolReader::whole(file.data()));
        let index = ContainerIndex::scan(reader, limits)?;
        Ok(Self {
            file,
            index,
            inflater: Inflater::new(limits),
        })
    }

    /// Bytes received (the container's size).
    pub fn received_bytes(&self) -> u64 {
        self.file.len()
    }

    /// How many files it holds (the metadata not counted).
    pub fn len(&self) -> usize {
        self.index.files().len()
    }

    /// Whether it holds no file.
    pub fn is_empty(&self) -> bool {
        self.index.files().is_empty()
    }

    /// The validated relative path of file `index` (panics beyond [`len`](Self::len)).
    pub fn path(&self, index: usize) -> &str {
        &self.index.files()[index].path
    }

    /// Parses `files_metadata.json` into `T` while inflating it.
    pub fn metadata<T: DeserializeOwned>(&mut self) -> Result<T, ContainerError> {
        let entry = self.index.metadata();
        let body = SpoolReader::range(self.file.data(), entry.offset, entry.len);
        self.inflater.parse(entry, body)
    }

    /// Inflates file `index` (panics beyond [`len`](Self::len)).
    pub fn inflate(&mut self, index: usize) -> Result<Vec<u8>, ContainerError> {
        let entry = &self.index.files()[index];
        let body = SpoolReader::range(self.file.data(), entry.offset, entry.len);
        self.inflater.inflate(entry, body)
    }
}
