//! Task payloads of the sync flows: results (`syn_m_a_e`, `syn_w_g_e`, `syn_wgc_e`), the
//! `"<tid> <relpath>"` of `syn_i_w_m_e`/`syn_m_c_e`, the `"<tid> <exception JSON>"` of
//! `syn_i_w_m_r`/`syn_m_c_r`/`cancel_task`, and the `True`/`False` permission replies.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::exception::{ExceptionDecodeError, WazuhException};
use super::relpath::{RelPathError, validate_relpath};

/// Why a task payload was refused.
#[derive(Debug, thiserror::Error)]
pub enum TaskPayloadError {
    /// The payload is not UTF-8.
    #[error("{what} payload is not valid UTF-8")]
    InvalidUtf8 {
        /// Which payload.
        what: &'static str,
    },
    /// No space between the task id and the rest.
    #[error("{what} payload has no space after the task id; expected \"<tid> <..>\"")]
    MissingSeparator {
        /// Which payload.
        what: &'static str,
    },
    /// The task id is neither a UUID nor `None`.
    #[error("task id {value:?} is neither a UUID (8-4-4-4-12 hex) nor None")]
    BadTaskId {
        /// The refused id (at most 64 characters kept).
        value: String,
    },
    /// The relative path is invalid.
    #[error("task file path: {0}")]
    Path(#[from] RelPathError),
    /// The exception JSON is invalid.
    #[error("task error: {0}")]
    Exception(#[from] ExceptionDecodeError),
    /// A result JSON is invalid.
    #[error("task result JSON is malformed: {0}")]
    Json(#[from] serde_json::Error),
    /// A permission reply is neither `True` nor `False`.
    #[error("permission reply {value:?} is neither True nor False")]
    BadPermission {
        /// The refused reply (at most 64 characters kept).
        value: String,
    },
}

fn truncated(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(64)]).into_owned()
}

/// A task id: the text of a UUID (Wazuh uses `str(uuid4())`), or `None` when there is no task.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TaskId {
    /// A task's UUID, as sent (36 characters).
    Uuid(String),
    /// `None`: no task (e.g. an error before the task was created).
    None,
}

impl TaskId {
    /// Parses `None` or a hyphenated UUID.
    pub fn parse(text: &str) -> Result<Self, TaskPayloadError> {
        if text == "None" {
            return Ok(Self::None);
        }
        let ok = text.len() == 36
            && text.bytes().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => b == b'-',
                _ => b.is_ascii_hexdigit(),
            });
        if ok {
            Ok(Self::Uuid(text.to_owned()))
        } else {
            Err(TaskPayloadError::BadTaskId {
                value: truncated(text.as_bytes()),
            })
        }
    }

    /// The text on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Uuid(uuid) => uuid,
            Self::None => "None",
        }
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn split_tid<'a>(
    what: &'static str,
    payload: &'a [u8],
) -> Result<(TaskId, &'a str), TaskPayloadError> {
    let text = std::str::from_utf8(payload).map_err(|_| TaskPayloadError::InvalidUtf8 { what })?;
    let (tid, rest) = text
        .split_once(' ')
        .ok_or(TaskPayloadError::MissingSeparator { what })?;
    Ok((TaskId::parse(tid)?, rest))
}

/// `"<tid> <relpath>"` of `syn_i_w_m_e` and `syn_m_c_e`: the received container is ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFile {
    /// The receiver's task id.
    pub tid: TaskId,
    /// The container's path relative to the Wazuh home (no leading `/`).
    pub relpath: String,
}

impl TaskFile {
    /// The payload.
    pub fn encode(&self) -> Vec<u8> {
        format!("{} {}", self.tid, self.relpath).into_bytes()
    }

    /// Parses the payload, validating the path.
    pub fn decode(payload: &[u8]) -> Result<Self, TaskPayloadError> {
        let (tid, relpath) = split_tid("task file", payload)?;
        validate_relpath(relpath)?;
        Ok(Self {
            tid,
            relpath: relpath.to_owned(),
        })
    }
}

/// `"<tid> <exception JSON>"` of `syn_i_w_m_r`, `syn_m_c_r` and `cancel_task`.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskError {
    /// The task the error is about (`None` if there was none).
    pub tid: TaskId,
    /// The error.
    pub error: WazuhException,
}

impl TaskError {
    /// The payload.
    pub fn encode(&self) -> Vec<u8> {
        format!("{} {}", self.tid, self.error.to_json()).into_bytes()
    }

    /// Parses the payload.
    pub fn decode(payload: &[u8]) -> Result<Self, TaskPayloadError> {
        let (tid, json) = split_tid("task error", payload)?;
        Ok(Self {
            tid,
            error: WazuhException::from_json(json.as_bytes())?,
        })
    }
}

/// The result of a wazuh-db sync task (`syn_m_a_e`, `syn_w_g_e`, `syn_wgc_e`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncResult {
    /// Chunks applied.
    pub updated_chunks: u64,
    /// Errors met, as text.
    pub error_messages: Vec<String>,
    /// Seconds spent.
    pub time_spent: f64,
}

impl SyncResult {
    /// The JSON payload.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a struct of numbers and strings always serializes")
    }

    /// Parses the JSON payload (unknown keys are ignored, for later Wazuh versions).
    pub fn decode(payload: &[u8]) -> Result<Self, TaskPayloadError> {
        Ok(serde_json::from_slice(payload)?)
    }
}

/// The reply payload to a permission request (`syn_i_w_m_p`, `syn_a_w_m_p`).
pub fn permission_payload(granted: bool) -> &'static [u8] {
    if granted { b"True" } else { b"False" }
}

/// Parses a permission reply: exactly `True` or `False`.
pub fn parse_permission(payload: &[u8]) -> Result<bool, TaskPayloadError> {
    match payload {
        b"True" => Ok(true),
        b"False" => Ok(false),
        other => Err(TaskPayloadError::BadPermission {
            value: truncated(other),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TID: &str = "0b5a3b8e-5f0e-4c1a-9d2e-3f4a5b6c7d8e";

    #[test]
    fn task_file_round_trip_and_refusals() {
        let payload = format!("{TID} queue/cluster/w1/w1-1.5-ab.zip");
        let file = TaskFile::decode(payload.as_bytes()).unwrap();
        assert_eq!(file.tid, TaskId::Uuid(TID.into()));
        assert_eq!(file.encode(), payload.as_bytes());
        assert!(matches!(
            TaskFile::decode(format!("{TID} ../etc/x").as_bytes()),
            Err(TaskPayloadError::Path(_))
        ));
        assert!(matches!(
            TaskFile::decode(b"1234 queue/x"),
            Err(TaskPayloadError::BadTaskId { .. })
        ));
    }

    #[test]
    fn task_error_with_none() {
        let error = TaskError {
            tid: TaskId::None,
            error: WazuhException::cluster(3039),
        };
        let payload = error.encode();
        assert!(payload.starts_with(b"None {\"__wazuh_exception__\": "));
        assert_eq!(TaskError::decode(&payload).unwrap(), error);
    }

    #[test]
    fn results_and_permissions() {
        let result =
            SyncResult::decode(br#"{"updated_chunks":0,"error_messages":[],"time_spent":0}"#)
                .unwrap();
        assert_eq!(result.time_spent, 0.0);
        assert!(
            SyncResult::decode(br#"{"updated_chunks":-1,"error_messages":[],"time_spent":0}"#)
                .is_err()
        );
        assert!(parse_permission(permission_payload(true)).unwrap());
        assert!(!parse_permission(b"False").unwrap());
        assert!(parse_permission(b"true").is_err());
    }
}
