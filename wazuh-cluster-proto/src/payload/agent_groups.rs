//! Agent-groups, master → workers: the envelope `{"set_data_command":"global set-agent-groups",
//! "payload":{"mode":"override","sync_status":"synced"},"chunks":["[{\"data\":[{\"id\":1,
//! \"groups\":[\"default\"]}],\"hash\":\"<sha1 hex|null>\"}]",..]}` sent before `syn_g_m_w`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::set_data::{SetDataEnvelope, SetDataError, pack_chunks};

/// The wazuh-db command of agent-groups.
pub const AGENT_GROUPS_COMMAND: &str = "global set-agent-groups";

/// A SHA-1 hex digest (40 lowercase hex characters): wazuh-db's global group hash.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct GroupsHash(String);

/// A string that is not 40 lowercase hex characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("groups hash {value:?} is not 40 lowercase hex characters (a SHA-1 hex digest)")]
pub struct GroupsHashError {
    /// The refused value (at most 64 characters kept).
    pub value: String,
}

impl GroupsHash {
    /// The hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for GroupsHash {
    type Error = GroupsHashError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        if value.len() == 40
            && value
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            Ok(Self(value))
        } else {
            Err(GroupsHashError {
                value: value.chars().take(64).collect(),
            })
        }
    }
}

impl From<GroupsHash> for String {
    fn from(hash: GroupsHash) -> Self {
        hash.0
    }
}

/// The groups of one agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentGroups {
    /// Agent id.
    pub id: u32,
    /// Its groups, in priority order.
    pub groups: Vec<String>,
}

/// One element of a chunk: agents and the global hash after them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentGroupsChunk {
    /// The agents.
    pub data: Vec<AgentGroups>,
    /// The master's global groups hash, or null.
    pub hash: Option<GroupsHash>,
}

/// The agent-groups envelope with its chunks parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AgentGroupsSync {
    /// The chunks; each chunk is a JSON array of [`AgentGroupsChunk`].
    pub chunks: Vec<Vec<AgentGroupsChunk>>,
}

fn groups_payload() -> Map<String, Value> {
    let mut payload = Map::new();
    payload.insert("mode".into(), "override".into());
    payload.insert("sync_status".into(), "synced".into());
    payload
}

impl AgentGroupsSync {
    /// Packs `agents` into chunks of at most about `max_chunk_bytes`, each chunk being
    /// `[{"data": [..], "hash": <hash>}]`.
    pub fn from_agents(
        agents: &[AgentGroups],
        hash: Option<&GroupsHash>,
        max_chunk_bytes: usize,
    ) -> Self {
        let overhead = serde_json::to_string(&[AgentGroupsChunk {
            data: Vec::new(),
            hash: hash.cloned(),
        }])
        .map_or(0, |json| json.len());
        let chunks = pack_chunks(agents, max_chunk_bytes.saturating_sub(overhead - 2))
            .into_iter()
            .map(|data| {
                vec![AgentGroupsChunk {
                    data,
                    hash: hash.cloned(),
                }]
            })
            .collect();
        Self { chunks }
    }

    /// The hash a worker compares with its own: `chunks[-1][0].hash`, as Wazuh reads it.
    pub fn last_hash(&self) -> Option<&GroupsHash> {
        self.chunks.last()?.first()?.hash.as_ref()
    }

    /// The envelope as sent through `new_str`/`str_upd`.
    pub fn envelope(&self) -> SetDataEnvelope {
        SetDataEnvelope {
            set_data_command: AGENT_GROUPS_COMMAND.to_owned(),
            payload: groups_payload(),
            chunks: self
                .chunks
                .iter()
                .map(|chunk| serde_json::to_string(chunk).expect("agent groups always serialize"))
                .collect(),
        }
    }

    /// The envelope's JSON text.
    pub fn encode(&self) -> Vec<u8> {
        self.envelope().encode()
    }

    /// Parses the envelope and its chunks, refusing any chunk over `max_chunk_bytes`.
    pub fn decode(bytes: &[u8], max_chunk_bytes: usize) -> Result<Self, SetDataError> {
        let envelope = SetDataEnvelope::decode_for(bytes, AGENT_GROUPS_COMMAND, &groups_payload())?;
        Ok(Self {
            chunks: envelope.parse_chunks(max_chunk_bytes)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_chunk_decodes() {
        let bytes = br#"{"set_data_command":"global set-agent-groups","payload":{"mode":"override","sync_status":"synced"},"chunks":["[{\"data\":[{\"id\":1,\"groups\":[\"default\",\"g1\"]}],\"hash\":\"da39a3ee5e6b4b0d3255bfef95601890afd80709\"}]"]}"#;
        let sync = AgentGroupsSync::decode(bytes, 65_536).unwrap();
        assert_eq!(sync.chunks[0][0].data[0].groups, ["default", "g1"]);
        assert_eq!(
            sync.last_hash().unwrap().as_str(),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        assert_eq!(
            AgentGroupsSync::decode(&sync.encode(), 65_536).unwrap(),
            sync
        );
    }

    #[test]
    fn chunks_stay_under_the_size() {
        let agents: Vec<_> = (1..=500)
            .map(|id| AgentGroups {
                id,
                groups: vec!["default".into(), format!("group{id}")],
            })
            .collect();
        let hash = GroupsHash::try_from("a".repeat(40)).unwrap();
        let sync = AgentGroupsSync::from_agents(&agents, Some(&hash), 2048);
        assert!(sync.chunks.len() > 1);
        assert!(sync.envelope().chunks.iter().all(|c| c.len() <= 2048));
        let back: Vec<_> = sync.chunks.iter().flat_map(|c| c[0].data.clone()).collect();
        assert_eq!(back, agents);
    }

    #[test]
    fn refuses_bad_hash_and_payload() {
        let bad_hash = br#"{"set_data_command":"global set-agent-groups","payload":{"mode":"override","sync_status":"synced"},"chunks":["[{\"data\":[],\"hash\":\"xyz\"}]"]}"#;
        assert!(matches!(
            AgentGroupsSync::decode(bad_hash, 65_536),
            Err(SetDataError::Json { .. })
        ));
        let bad_payload = br#"{"set_data_command":"global set-agent-groups","payload":{"mode":"append"},"chunks":[]}"#;
        assert!(matches!(
            AgentGroupsSync::decode(bad_payload, 65_536),
            Err(SetDataError::WrongPayload { .. })
        ));
    }
}
