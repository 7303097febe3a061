//! Reads a node's current `client.keys` through its [`FileSource`], parsing again only when the
//! content changed.

use std::sync::{Arc, Mutex};

use super::client_keys::{CLIENT_KEYS_PATH, ClientKeys};
use super::error::AgentError;
use crate::files::{FileSource, FileSourceError};

/// Largest `client.keys` read (Wazuh's file for 100k agents is about 10 MB).
const MAX_KEYS_FILE: u64 = 256 * 1024 * 1024;

/// The current `client.keys` of a node.
pub struct KeysReader {
    files: Arc<dyn FileSource>,
    last: Mutex<Option<(Vec<u8>, Arc<ClientKeys>)>>,
}

impl KeysReader {
    /// A reader of `files`' `etc/client.keys`.
    pub fn new(files: Arc<dyn FileSource>) -> Self {
        Self {
            files,
            last: Mutex::new(None),
        }
    }

    /// The agents of the file now (none if the file does not exist).
    pub async fn current(&self) -> Result<Arc<ClientKeys>, AgentError> {
        let path = self
            .files
            .items()
            .confine(CLIENT_KEYS_PATH)
            .map_err(|e| read_error(e.to_string()))?;
        let bytes = match self.files.read(&path, MAX_KEYS_FILE).await {
            Ok(bytes) => bytes,
            Err(FileSourceError::NotFound { .. }) => Vec::new(),
            Err(error) => return Err(read_error(error.to_string())),
        };
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((seen, keys)) = last.as_ref()
            && *seen == bytes
        {
            return Ok(keys.clone());
        }
        let keys = Arc::new(ClientKeys::parse(&bytes));
        *last = Some((bytes, keys.clone()));
        Ok(keys)
    }
}

fn read_error(reason: String) -> AgentError {
    AgentError::Files {
        action: "read",
        path: CLIENT_KEYS_PATH.to_owned(),
        reason,
    }
}
