//! Agent-info, worker → master: the envelope `{"set_data_command":"global sync-agent-info-set",
//! "payload":{},"chunks":["[{\"id\":1,..}]",..]}` sent by string transfer before `syn_a_w_m`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::set_data::{SetDataEnvelope, SetDataError, pack_chunks};

/// The wazuh-db command of agent-info.
pub const AGENT_INFO_COMMAND: &str = "global sync-agent-info-set";

/// Chunk size wazuh-db uses, about 64 KB.
pub const DEFAULT_CHUNK_BYTES: usize = 65_536;

/// One label of an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentLabel {
    /// The agent id.
    pub id: u32,
    /// Label key.
    pub key: String,
    /// Label value.
    pub value: String,
}

/// One agent row as wazuh-db's `sync-agent-info-get` returns it. All but `id` may be absent;
/// fields this type does not name are kept in `extra` and written back unchanged.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AgentInfoRow {
    /// Agent id (`000` is the manager).
    pub id: u32,
    /// Agent name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Registration IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// OS name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_name: Option<String>,
    /// OS version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    /// OS major version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_major: Option<String>,
    /// OS minor version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_minor: Option<String>,
    /// OS codename.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_codename: Option<String>,
    /// OS build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_build: Option<String>,
    /// OS platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_platform: Option<String>,
    /// `uname` text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_uname: Option<String>,
    /// Architecture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_arch: Option<String>,
    /// Agent version, e.g. `Wazuh v4.9.2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Checksum of the agent's configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_sum: Option<String>,
    /// Checksum of the agent's merged group files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_sum: Option<String>,
    /// The manager host the agent reports to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager_host: Option<String>,
    /// The cluster node the agent reports to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    /// Last keepalive, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_keepalive: Option<i64>,
    /// `active`, `disconnected`, `pending` or `never_connected`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_status: Option<String>,
    /// Disconnection time, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disconnection_time: Option<i64>,
    /// Group configuration status (`synced`/`not synced`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_config_status: Option<String>,
    /// Status code of the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<i64>,
    /// Labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<AgentLabel>>,
    /// Fields not named above, kept as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The agent-info envelope with its chunks parsed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AgentInfoSync {
    /// The chunks, each a list of rows.
    pub chunks: Vec<Vec<AgentInfoRow>>,
}

impl AgentInfoSync {
    /// Packs `rows` into chunks of at most `max_chunk_bytes` (see [`DEFAULT_CHUNK_BYTES`]); a
    /// row larger than that alone gets a chunk of its own.
    pub fn from_rows(rows: &[AgentInfoRow], max_chunk_bytes: usize) -> Self {
        let chunks = pack_chunks(rows, max_chunk_bytes);
        Self { chunks }
    }

    /// The envelope as sent through `new_str`/`str_upd`.
    pub fn envelope(&self) -> SetDataEnvelope {
        SetDataEnvelope {
            set_data_command: AGENT_INFO_COMMAND.to_owned(),
            payload: Map::new(),
            chunks: self
                .chunks
                .iter()
                .map(|chunk| serde_json::to_string(chunk).expect("agent rows always serialize"))
                .collect(),
        }
    }

    /// The envelope's JSON text.
    pub fn encode(&self) -> Vec<u8> {
        self.envelope().encode()
    }

    /// Parses the envelope and its chunks, refusing any chunk over `max_chunk_bytes`.
    pub fn decode(bytes: &[u8], max_chunk_bytes: usize) -> Result<Self, SetDataError> {
        let envelope = SetDataEnvelope::decode_for(bytes, AGENT_INFO_COMMAND, &Map::new())?;
        Ok(Self {
            chunks: envelope.parse_chunks(max_chunk_bytes)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: u32) -> AgentInfoRow {
        AgentInfoRow {
            id,
            name: Some(format!("agent{id}")),
            node_name: Some("worker1".into()),
            last_keepalive: Some(1_700_000_000),
            labels: Some(vec![AgentLabel {
                id,
                key: "env".into(),
                value: "prod".into(),
            }]),
            ..AgentInfoRow::default()
        }
    }

    #[test]
    fn envelope_round_trip_and_chunking() {
        let rows: Vec<_> = (1..=300).map(row).collect();
        let sync = AgentInfoSync::from_rows(&rows, 4096);
        assert!(sync.chunks.len() > 1);
        let envelope = sync.envelope();
        assert!(envelope.chunks.iter().all(|c| c.len() <= 4096));
        let bytes = sync.encode();
        assert!(bytes.starts_with(
            br#"{"set_data_command": "global sync-agent-info-set", "payload": {}, "chunks": ["[{"#
        ));
        let back = AgentInfoSync::decode(&bytes, 4096).unwrap();
        assert_eq!(back, sync);
        assert_eq!(back.chunks.concat(), rows);
    }

    #[test]
    fn keeps_unknown_fields_and_refuses_other_commands() {
        let bytes = br#"{"set_data_command":"global sync-agent-info-set","payload":{},"chunks":["[{\"id\":3,\"new_field\":1}]"]}"#;
        let sync = AgentInfoSync::decode(bytes, 1024).unwrap();
        assert_eq!(sync.chunks[0][0].extra["new_field"], 1);
        let other = br#"{"set_data_command":"global set-agent-groups","payload":{},"chunks":[]}"#;
        assert!(matches!(
            AgentInfoSync::decode(other, 1024),
            Err(SetDataError::WrongCommand { .. })
        ));
    }
}
