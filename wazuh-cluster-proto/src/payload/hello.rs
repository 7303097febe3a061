//! `hello`: the worker's handshake, `"<node_name> <cluster_name> <node_type> <version>"`.

use std::fmt;

use super::error_codes;
use super::exception::WazuhException;

/// The role a node announces in `hello`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeType {
    /// `master`.
    Master,
    /// `worker`.
    Worker,
    /// `client`: Wazuh 3.x's word for a worker, accepted as one and kept for re-encoding.
    Client,
}

impl NodeType {
    /// The word on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Master => "master",
            Self::Worker => "worker",
            Self::Client => "client",
        }
    }

    /// True for `worker` and its 3.x alias `client`.
    pub fn is_worker(self) -> bool {
        matches!(self, Self::Worker | Self::Client)
    }

    /// Parses `master`, `worker` or `client`.
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "master" => Some(Self::Master),
            "worker" => Some(Self::Worker),
            "client" => Some(Self::Client),
            _ => None,
        }
    }
}

impl fmt::Display for NodeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The four fields of `hello`, in wire order.
const FIELDS: [&str; 4] = ["node name", "cluster name", "node type", "version"];

/// Why a `hello` payload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HelloError {
    /// Not exactly four space-separated fields (Wazuh answers error 1000).
    #[error(
        "hello payload has {found} space-separated fields; expected 4: \
         \"<node_name> <cluster_name> <node_type> <version>\""
    )]
    FieldCount {
        /// How many fields were found.
        found: usize,
    },
    /// A field is not UTF-8.
    #[error("hello {field} is not valid UTF-8 (byte {valid_up_to} of the field)")]
    InvalidUtf8 {
        /// Which field.
        field: &'static str,
        /// Length of the valid prefix.
        valid_up_to: usize,
    },
    /// A field is empty.
    #[error("hello {field} is empty; every field needs a value")]
    EmptyField {
        /// Which field.
        field: &'static str,
    },
    /// A field given to [`Hello::new`] contains a space, which would shift the peer's split.
    #[error("hello {field} {value:?} contains a space; fields are separated by spaces")]
    ContainsSpace {
        /// Which field.
        field: &'static str,
        /// The refused value.
        value: String,
    },
    /// The node type is not `master`, `worker` or `client`.
    #[error("hello node type {value:?} is unknown; expected master, worker or client")]
    UnknownNodeType {
        /// The refused value.
        value: String,
    },
}

impl HelloError {
    /// The Wazuh exception a master answers with: `WazuhInternalError` 1000 carrying Python's
    /// unpacking message for a wrong field count, or this error's text otherwise.
    pub fn to_exception(&self) -> WazuhException {
        let extra = match self {
            Self::FieldCount { found } if *found > 4 => {
                "too many values to unpack (expected 4)".to_owned()
            }
            Self::FieldCount { found } => {
                format!("not enough values to unpack (expected 4, got {found})")
            }
            other => other.to_string(),
        };
        WazuhException::internal(error_codes::INTERNAL).with_extra_message(extra)
    }
}

/// A decoded or to-be-sent `hello`. Fields are non-empty and contain no space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    name: String,
    cluster: String,
    node_type: NodeType,
    version: String,
}

impl Hello {
    /// Builds a `hello`, refusing empty fields and fields with spaces.
    pub fn new(
        name: impl Into<String>,
        cluster: impl Into<String>,
        node_type: NodeType,
        version: impl Into<String>,
    ) -> Result<Self, HelloError> {
        let (name, cluster, version) = (name.into(), cluster.into(), version.into());
        for (field, value) in [
            (FIELDS[0], &name),
            (FIELDS[1], &cluster),
            (FIELDS[3], &version),
        ] {
            check_field(field, value)?;
        }
        Ok(Self {
            name,
            cluster,
            node_type,
            version,
        })
    }

    /// The sender's node name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The sender's cluster name.
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// The sender's node type as sent.
    pub fn node_type(&self) -> NodeType {
        self.node_type
    }

    /// The sender's Wazuh version (compared exactly by Wazuh, patch level included).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The payload: `"<name> <cluster> <node_type> <version>"`.
    pub fn encode(&self) -> Vec<u8> {
        format!(
            "{} {} {} {}",
            self.name, self.cluster, self.node_type, self.version
        )
        .into_bytes()
    }

    /// Decodes a payload split on single spaces into exactly four fields.
    pub fn decode(payload: &[u8]) -> Result<Self, HelloError> {
        let parts: Vec<&[u8]> = payload.split(|&b| b == b' ').collect();
        let [name, cluster, node_type, version] = parts[..] else {
            return Err(HelloError::FieldCount { found: parts.len() });
        };
        let name = utf8_field(FIELDS[0], name)?;
        let cluster = utf8_field(FIELDS[1], cluster)?;
        let node_type = utf8_field(FIELDS[2], node_type)?;
        let version = utf8_field(FIELDS[3], version)?;
        let node_type = NodeType::parse(node_type).ok_or_else(|| HelloError::UnknownNodeType {
            value: node_type.to_owned(),
        })?;
        Ok(Self {
            name: name.to_owned(),
            cluster: cluster.to_owned(),
            node_type,
            version: version.to_owned(),
        })
    }
}

fn check_field(field: &'static str, value: &str) -> Result<(), HelloError> {
    if value.is_empty() {
        return Err(HelloError::EmptyField { field });
    }
    if value.contains(' ') {
        return Err(HelloError::ContainsSpace {
            field,
            value: value.to_owned(),
        });
    }
    Ok(())
}

fn utf8_field<'a>(field: &'static str, bytes: &'a [u8]) -> Result<&'a str, HelloError> {
    let text = std::str::from_utf8(bytes).map_err(|e| HelloError::InvalidUtf8 {
        field,
        valid_up_to: e.valid_up_to(),
    })?;
    check_field(field, text)?;
    Ok(text)
}

/// Why a node name was refused (Wazuh 4.14.6+ error 3060).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeNameError {
    /// The name is empty.
    #[error("node name is empty; use letters, digits, '_' or '-'")]
    Empty,
    /// The name holds a character outside `[A-Za-z0-9_-]`.
    #[error(
        "node name {name:?} contains {bad:?}; only letters A-Z a-z, digits, '_' and '-' are allowed"
    )]
    InvalidChar {
        /// The refused name.
        name: String,
        /// The first character not allowed.
        bad: char,
    },
}

impl NodeNameError {
    /// The Wazuh exception for this refusal: `WazuhClusterError` 3060 naming the node.
    pub fn to_exception(&self) -> WazuhException {
        let name = match self {
            Self::Empty => String::new(),
            Self::InvalidChar { name, .. } => name.clone(),
        };
        WazuhException::cluster(error_codes::INVALID_NODE_NAME).with_extra_message(name)
    }
}

/// Checks that `name` matches `[A-Za-z0-9_-]+`, the node-name rule of Wazuh 4.14.6+.
pub fn validate_node_name(name: &str) -> Result<(), NodeNameError> {
    if name.is_empty() {
        return Err(NodeNameError::Empty);
    }
    match name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        Some(bad) => Err(NodeNameError::InvalidChar {
            name: name.to_owned(),
            bad,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_documented_example() {
        let hello = Hello::decode(b"worker01 wazuh worker 4.9.2").unwrap();
        assert_eq!(hello.name(), "worker01");
        assert_eq!(hello.cluster(), "wazuh");
        assert_eq!(hello.node_type(), NodeType::Worker);
        assert_eq!(hello.version(), "4.9.2");
        assert_eq!(hello.encode(), b"worker01 wazuh worker 4.9.2");
    }

    #[test]
    fn client_is_a_worker_and_kept() {
        let hello = Hello::decode(b"w wazuh client 4.9.2").unwrap();
        assert!(hello.node_type().is_worker());
        assert_eq!(hello.encode(), b"w wazuh client 4.9.2");
    }

    #[test]
    fn wrong_field_count_is_1000_with_python_text() {
        let err = Hello::decode(b"a b c").unwrap_err();
        assert_eq!(err, HelloError::FieldCount { found: 3 });
        assert_eq!(
            err.to_exception().to_string(),
            "Error 1000 - Wazuh Internal Error: not enough values to unpack (expected 4, got 3)"
        );
        let err = Hello::decode(b"a b worker 4.9.2 x").unwrap_err();
        assert_eq!(err, HelloError::FieldCount { found: 5 });
        assert!(matches!(
            Hello::decode(b"a  worker 4.9.2"),
            Err(HelloError::EmptyField {
                field: "cluster name"
            })
        ));
    }

    #[test]
    fn invalid_utf8_and_unknown_type_are_distinct() {
        assert!(matches!(
            Hello::decode(b"a\xff b worker 4.9.2"),
            Err(HelloError::InvalidUtf8 {
                field: "node name",
                valid_up_to: 1
            })
        ));
        assert!(matches!(
            Hello::decode(b"a b boss 4.9.2"),
            Err(HelloError::UnknownNodeType { .. })
        ));
    }

    #[test]
    fn node_name_charset() {
        assert!(validate_node_name("worker-01_a").is_ok());
        assert_eq!(validate_node_name(""), Err(NodeNameError::Empty));
        assert!(matches!(
            validate_node_name("../etc"),
            Err(NodeNameError::InvalidChar { bad: '.', .. })
        ));
        assert_eq!(
            validate_node_name("wörker")
                .unwrap_err()
                .to_exception()
                .code,
            3060
        );
    }
}
