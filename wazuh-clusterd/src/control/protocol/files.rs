//! `get_files`: its command name, request ([`FilesFilter`]) and reply ([`FilesReply`]).

use serde::{Deserialize, Serialize};
use wazuh_cluster_proto::Command;

/// The command name, on the control socket and from a worker to its master.
pub const GET_FILES: Command = Command::from_static("get_files");

/// Which records a `get_files` request wants; an absent, `null` or empty list keeps everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesFilter {
    /// Only these workers.
    #[serde(default)]
    pub node: Option<Vec<String>>,
    /// Only these files (paths relative to the Wazuh home).
    #[serde(default)]
    pub file: Option<Vec<String>>,
}

/// One file on one worker in the `get_files` reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStateRow {
    /// The worker.
    pub node: String,
    /// The file, relative to the Wazuh home.
    pub file: String,
    /// `pending`, `synchronized`, `failed` or `deleted`.
    pub state: String,
    /// When the state last changed, a UTC date as `get_health` writes them.
    pub last_change: String,
}

/// Reply of `get_files`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilesReply {
    /// The records, ordered by node then file.
    pub items: Vec<FileStateRow>,
    /// How many.
    #[serde(rename = "totalItems")]
    pub total_items: usize,
}

impl FilesReply {
    /// The reply listing `items`.
    pub fn new(items: Vec<FileStateRow>) -> Self {
        Self {
            total_items: items.len(),
            items,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_reply_round_trips_with_wazuhs_names() {
        let reply = FilesReply::new(vec![FileStateRow {
            node: "w1".into(),
            file: "etc/client.keys".into(),
            state: "synchronized".into(),
            last_change: "2024-10-01T12:00:00.000000Z".into(),
        }]);
        let text = serde_json::to_string(&reply).unwrap();
        assert_eq!(
            text,
            r#"{"items":[{"node":"w1","file":"etc/client.keys","state":"synchronized","last_change":"2024-10-01T12:00:00.000000Z"}],"totalItems":1}"#
        );
        assert_eq!(serde_json::from_str::<FilesReply>(&text).unwrap(), reply);
    }

    #[test]
    fn a_reply_without_items_does_not_parse() {
        let error = serde_json::from_value::<FilesReply>(json!({"totalItems": 0})).unwrap_err();
        assert!(
            error.to_string().contains("missing field `items`"),
            "{error}"
        );
    }

    #[test]
    fn the_filter_round_trips() {
        let filter = FilesFilter {
            node: Some(vec!["w1".into()]),
            file: None,
        };
        let text = serde_json::to_string(&filter).unwrap();
        assert_eq!(text, r#"{"node":["w1"],"file":null}"#);
        assert_eq!(serde_json::from_str::<FilesFilter>(&text).unwrap(), filter);
    }
}
