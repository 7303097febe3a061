//! The wazuh-db envelope sent by string transfer for agent-info and agent-groups:
//! `{"set_data_command": .., "payload": {..}, "chunks": ["<json array>", ..]}`, and the packing
//! of rows into chunks under a byte size.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::python_json::to_python_json;

/// Why an agent-info or agent-groups payload was refused.
#[derive(Debug, thiserror::Error)]
pub enum SetDataError {
    /// The envelope or a chunk is not JSON of the expected shape.
    #[error("{what} is malformed JSON: {source}")]
    Json {
        /// The envelope, or which chunk.
        what: String,
        /// What serde_json found.
        source: serde_json::Error,
    },
    /// The envelope names another wazuh-db command.
    #[error("set_data_command is {found:?}; expected {expected:?}")]
    WrongCommand {
        /// The expected command.
        expected: &'static str,
        /// The received command.
        found: String,
    },
    /// The envelope's `payload` differs from the one this command uses.
    #[error("payload of {command:?} is {found}; expected {expected}")]
    WrongPayload {
        /// The command.
        command: &'static str,
        /// The expected payload.
        expected: String,
        /// The received payload.
        found: String,
    },
    /// A chunk is larger than the caller's limit.
    #[error("chunk {index} is {len} bytes; the limit is {max}")]
    ChunkTooLarge {
        /// Which chunk.
        index: usize,
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// The envelope, with chunks still as JSON text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetDataEnvelope {
    /// The wazuh-db command to run on each chunk.
    pub set_data_command: String,
    /// Extra arguments of that command.
    pub payload: Map<String, Value>,
    /// Chunks: each a JSON array as text.
    pub chunks: Vec<String>,
}

impl SetDataEnvelope {
    /// The JSON text, as Python's `json.dumps` writes it.
    pub fn encode(&self) -> Vec<u8> {
        to_python_json(self).into_bytes()
    }

    /// Parses the envelope, checking its command and payload.
    pub(crate) fn decode_for(
        bytes: &[u8],
        command: &'static str,
        payload: &Map<String, Value>,
    ) -> Result<Self, SetDataError> {
        let envelope: Self =
            serde_json::from_slice(bytes).map_err(|source| SetDataError::Json {
                what: "set-data envelope".to_owned(),
                source,
            })?;
        if envelope.set_data_command != command {
            return Err(SetDataError::WrongCommand {
                expected: command,
                found: envelope.set_data_command,
            });
        }
        if &envelope.payload != payload {
            return Err(SetDataError::WrongPayload {
                command,
                expected: Value::Object(payload.clone()).to_string(),
                found: Value::Object(envelope.payload).to_string(),
            });
        }
        Ok(envelope)
    }

    /// Parses every chunk as a JSON array of `T`, refusing a chunk over `max_chunk` bytes.
    pub(crate) fn parse_chunks<T: DeserializeOwned>(
        &self,
        max_chunk: usize,
    ) -> Result<Vec<Vec<T>>, SetDataError> {
        self.chunks
            .iter()
            .enumerate()
            .map(|(index, chunk)| {
                if chunk.len() > max_chunk {
                    return Err(SetDataError::ChunkTooLarge {
                        index,
                        len: chunk.len(),
                        max: max_chunk,
                    });
                }
                serde_json::from_str(chunk).map_err(|source| SetDataError::Json {
                    what: format!("chunk {index}"),
                    source,
                })
            })
            .collect()
    }
}

/// Groups `items` so that each group, written as a compact JSON array, takes at most
/// `max_bytes` (wazuh-db uses about 64 KB). An item larger than `max_bytes` on its own gets a
/// group of its own; no group is empty.
pub fn pack_chunks<T: Serialize + Clone>(items: &[T], max_bytes: usize) -> Vec<Vec<T>> {
    let mut chunks = Vec::new();
    let mut current = Vec::new();
    let mut current_len = 2; // "[" and "]"
    for item in items {
        let len = serde_json::to_string(item).map_or(0, |json| json.len());
        let separator = usize::from(!current.is_empty());
        if !current.is_empty() && current_len + separator + len > max_bytes {
            chunks.push(std::mem::take(&mut current));
            current_len = 2;
        }
        current_len += usize::from(!current.is_empty()) + len;
        current.push(item.clone());
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}
