//! The agent registry's values: ids, names, addresses, keys and records, each checked when built.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::AgentError;

/// An agent id. `000` is the manager itself; agents start at `001`. Shown zero-padded to three
/// digits, as in `client.keys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AgentId(pub u32);

impl fmt::Display for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:03}", self.0)
    }
}

impl FromStr for AgentId {
    type Err = AgentError;

    /// Parses `"7"`, `"007"`; refuses anything but 1 to 9 decimal digits.
    fn from_str(s: &str) -> Result<Self, AgentError> {
        if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AgentError::InvalidId {
                value: s.chars().take(32).collect(),
            });
        }
        Ok(AgentId(s.parse().map_err(|_| AgentError::InvalidId {
            value: s.to_owned(),
        })?))
    }
}

/// Checks an agent name as Wazuh does: 2 to 128 characters among letters, digits, `.`, `_`, `-`.
pub fn validate_agent_name(name: &str) -> Result<(), AgentError> {
    let ok = (2..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(AgentError::InvalidName {
            name: name.chars().take(140).collect(),
        })
    }
}

/// Checks a group name as Wazuh does: 1 to 255 characters among letters, digits, `.`, `_`, `-`,
/// and neither `.` nor `..`.
pub fn validate_group_name(name: &str) -> Result<(), AgentError> {
    let ok = (1..=255).contains(&name.len())
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(AgentError::InvalidGroupName {
            name: name.chars().take(260).collect(),
        })
    }
}

/// The address an agent may connect from: `any`, or one IP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgentIp {
    /// Any address (`any` in `client.keys`; what authd registers by default).
    Any,
    /// Only this address.
    Addr(IpAddr),
}

impl fmt::Display for AgentIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentIp::Any => f.write_str("any"),
            AgentIp::Addr(ip) => write!(f, "{ip}"),
        }
    }
}

impl FromStr for AgentIp {
    type Err = AgentError;

    /// `any` (any case) or an IPv4/IPv6 address.
    fn from_str(s: &str) -> Result<Self, AgentError> {
        if s.eq_ignore_ascii_case("any") {
            return Ok(AgentIp::Any);
        }
        s.parse()
            .map(AgentIp::Addr)
            .map_err(|_| AgentError::InvalidIp {
                value: s.chars().take(64).collect(),
            })
    }
}

/// Written as its `client.keys` text (`any` or the address).
impl Serialize for AgentIp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Read from its `client.keys` text, checked as [`AgentIp::from_str`] does.
impl<'de> Deserialize<'de> for AgentIp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// An agent key: 64 lowercase hex characters.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AgentKey(String);

impl fmt::Debug for AgentKey {
    /// Never prints the secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AgentKey(..)")
    }
}

impl AgentKey {
    /// The key made of these 32 random bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        AgentKey(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for AgentKey {
    type Err = AgentError;

    /// 64 hex characters (any case; kept as written).
    fn from_str(s: &str) -> Result<Self, AgentError> {
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(AgentKey(s.to_owned()))
        } else {
            Err(AgentError::InvalidKey)
        }
    }
}

/// Written as its hex text (the replicated registry carries keys in its log and snapshots).
impl Serialize for AgentKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Read from its hex text, checked as [`AgentKey::from_str`] does.
impl<'de> Deserialize<'de> for AgentKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One registered agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRecord {
    /// Its id.
    pub id: AgentId,
    /// Its unique name.
    pub name: String,
    /// The address it may connect from.
    pub ip: AgentIp,
    /// Its key.
    pub key: AgentKey,
    /// Its groups, in priority order (never empty: `default` when nothing else).
    pub groups: Vec<String>,
    /// When it was registered, seconds since the Unix epoch.
    pub registered_at: i64,
}

impl AgentRecord {
    /// Its `client.keys` line: `ID NAME IP KEY`.
    pub fn key_line(&self) -> String {
        format!(
            "{} {} {} {}",
            self.id,
            self.name,
            self.ip,
            self.key.as_str()
        )
    }
}

/// How an agent is connected, as wazuh-db names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionStatus {
    /// Sending keepalives.
    Active,
    /// Said goodbye, or silent for longer than the limit.
    Disconnected,
    /// Registered, never seen.
    NeverConnected,
    /// Connected, handshake not finished.
    Pending,
}

impl ConnectionStatus {
    /// wazuh-db's word.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Active => "active",
            ConnectionStatus::Disconnected => "disconnected",
            ConnectionStatus::NeverConnected => "never_connected",
            ConnectionStatus::Pending => "pending",
        }
    }

    /// Parses wazuh-db's word.
    pub fn parse(word: &str) -> Option<Self> {
        Some(match word {
            "active" => ConnectionStatus::Active,
            "disconnected" => ConnectionStatus::Disconnected,
            "never_connected" => ConnectionStatus::NeverConnected,
            "pending" => ConnectionStatus::Pending,
            _ => return None,
        })
    }
}

impl fmt::Display for ConnectionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a node knows about an agent's connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentInfoRecord {
    /// The agent.
    pub id: AgentId,
    /// Its status.
    pub status: ConnectionStatus,
    /// Its last keepalive, seconds since the Unix epoch.
    pub last_keepalive: Option<i64>,
    /// When it disconnected, seconds since the Unix epoch.
    pub disconnection_time: Option<i64>,
    /// Agent version (`Wazuh v4.9.2`), if reported.
    pub version: Option<String>,
    /// Operating system, if reported.
    pub os: Option<String>,
    /// The node it reports to.
    pub node: Option<String>,
}

impl AgentInfoRecord {
    /// The time this row speaks for: the later of its last keepalive and disconnection time.
    pub fn seen_at(&self) -> i64 {
        self.last_keepalive
            .unwrap_or(i64::MIN)
            .max(self.disconnection_time.unwrap_or(i64::MIN))
    }

    /// Whether this row may replace `stored` (Wazuh issue #24401): it speaks for a later time,
    /// or for the same time from the same node (a status change of the same connection). A row
    /// from another node with an equal or older time never wins.
    pub fn supersedes(&self, stored: &AgentInfoRecord) -> bool {
        let (new, old) = (self.seen_at(), stored.seen_at());
        new > old || (new == old && self.node == stored.node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_and_print_like_wazuh() {
        assert_eq!(AgentId(7).to_string(), "007");
        assert_eq!(AgentId(1234).to_string(), "1234");
        assert_eq!("007".parse::<AgentId>().unwrap(), AgentId(7));
        assert!("-1".parse::<AgentId>().is_err());
        assert_eq!("ANY".parse::<AgentIp>().unwrap(), AgentIp::Any);
        assert_eq!(
            "10.0.0.5".parse::<AgentIp>().unwrap().to_string(),
            "10.0.0.5"
        );
        assert!("10.0.0.300".parse::<AgentIp>().is_err());
        assert!(validate_agent_name("web-01.prod").is_ok());
        assert!(validate_agent_name("a").is_err());
        assert!(validate_agent_name("bad name").is_err());
        assert!(validate_group_name("..").is_err());
        assert!(validate_group_name("g/../x").is_err());
        let key = AgentKey::from_bytes([0xab; 32]);
        assert_eq!(key.as_str().len(), 64);
        assert_eq!(format!("{key:?}"), "AgentKey(..)");
    }

    #[test]
    fn newer_rows_win_and_other_nodes_never_tie() {
        let row = |node: &str, ka: i64| AgentInfoRecord {
            id: AgentId(1),
            status: ConnectionStatus::Active,
            last_keepalive: Some(ka),
            disconnection_time: None,
            version: None,
            os: None,
            node: Some(node.into()),
        };
        assert!(row("b", 20).supersedes(&row("a", 10)));
        assert!(!row("a", 10).supersedes(&row("b", 20)));
        assert!(!row("a", 20).supersedes(&row("b", 20)));
        assert!(row("b", 20).supersedes(&row("b", 20)));
    }
}
