//! `get_files`: the synchronization state of each file on each worker (`cluster_control -f`),
//! answered from the master's cluster database and forwarded to the master by a worker.
//!
//! Request payload: `{"node": ["w1", ...] | null, "file": ["etc/client.keys", ...] | null}`
//! (nothing, `null` or `{}` for everything). Reply: `{"items": [{"node", "file", "state",
//! "last_change"}], "totalItems": n}`, ordered by node then file; `state` is `pending`,
//! `synchronized`, `failed` or `deleted`, `last_change` a UTC date as `get_health` writes them.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};
use wazuh_cluster_core::master::MasterConn;
use wazuh_cluster_core::session::{DuplicateRoute, Handler, HandlerResult, Reply, Request, Router};
use wazuh_cluster_core::{StorageError, SyncStateQuery, SyncStateRecord, SyncStateStore};
use wazuh_cluster_proto::Command;
use wazuh_cluster_proto::payload::{WazuhException, error_codes};

use super::forward;
use crate::control::health::format_date;
use crate::control::{ControlContext, ControlNode};

/// The command name, on the control socket and from a worker to its master.
pub const GET_FILES: Command = Command::from_static("get_files");

/// Which records a `get_files` request wants; an absent or empty list keeps everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesFilter {
    /// Only these workers.
    #[serde(default)]
    pub node: Option<Vec<String>>,
    /// Only these files (paths relative to the Wazuh home).
    #[serde(default)]
    pub file: Option<Vec<String>>,
}

impl FilesFilter {
    /// Reads a request payload.
    pub fn parse(payload: &[u8]) -> Result<Self, Box<WazuhException>> {
        if payload.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        serde_json::from_slice::<Option<Self>>(payload)
            .map(Option::unwrap_or_default)
            .map_err(|error| {
                Box::new(
                    WazuhException::cluster(error_codes::BAD_JSON).with_extra_message(format!(
                        "the get_files filter must be {{\"node\": [names], \"file\": [paths]}}: \
                         {error}"
                    )),
                )
            })
    }

    /// The store query: narrowed to a node or a file when the filter names exactly one.
    fn query(&self) -> SyncStateQuery {
        let single = |list: &Option<Vec<String>>| match list.as_deref() {
            Some([one]) => Some(one.clone()),
            _ => None,
        };
        SyncStateQuery {
            node: single(&self.node),
            file: single(&self.file),
        }
    }

    fn keeps(&self, record: &SyncStateRecord) -> bool {
        let within = |list: &Option<Vec<String>>, value: &String| {
            list.as_ref()
                .is_none_or(|list| list.is_empty() || list.contains(value))
        };
        within(&self.node, &record.node) && within(&self.file, &record.file)
    }
}

/// The reply to `filter` from the records its query returned.
fn reply(
    filter: &FilesFilter,
    states: Result<Vec<SyncStateRecord>, StorageError>,
) -> Result<Reply, Box<WazuhException>> {
    let records = states.map_err(|error| {
        Box::new(
            WazuhException::cluster(error_codes::CLUSTER).with_extra_message(format!(
                "cannot read the file sync states from the cluster database: {error}"
            )),
        )
    })?;
    Ok(Reply::ok(files_json(&records, filter).to_string()))
}

/// The `get_files` reply over `records`, keeping those `filter` wants.
pub fn files_json(records: &[SyncStateRecord], filter: &FilesFilter) -> Value {
    let items: Vec<Value> = records
        .iter()
        .filter(|record| filter.keeps(record))
        .map(|record| {
            json!({
                "node": record.node,
                "file": record.file,
                "state": record.state.as_str(),
                "last_change": format_date(record.changed),
            })
        })
        .collect();
    json!({"totalItems": items.len(), "items": items})
}

/// The master's handler of `get_files` from workers (a worker forwards its operator's
/// `cluster_control -f`).
#[derive(Clone)]
pub struct ClusterFilesHandler {
    store: Arc<dyn SyncStateStore>,
}

impl ClusterFilesHandler {
    /// Answers from `store`, the master's sync states.
    pub fn new(store: Arc<dyn SyncStateStore>) -> Self {
        Self { store }
    }
}

#[async_trait]
impl Handler<MasterConn> for ClusterFilesHandler {
    async fn handle(&self, _conn: &MasterConn, request: Request) -> HandlerResult {
        let filter = FilesFilter::parse(&request.payload).map_err(|e| *e)?;
        reply(&filter, self.store.states(&filter.query()).await)
            .map(Some)
            .map_err(|e| *e)
    }
}

struct GetFiles;

#[async_trait]
impl Handler<ControlContext> for GetFiles {
    async fn handle(&self, ctx: &ControlContext, request: Request) -> HandlerResult {
        match &ctx.node {
            ControlNode::Master(master) => {
                let filter = FilesFilter::parse(&request.payload).map_err(|e| *e)?;
                reply(&filter, master.integrity.sync_states(&filter.query()).await)
                    .map(Some)
                    .map_err(|e| *e)
            }
            ControlNode::Worker(worker) => {
                forward::to_master(&worker.handle, GET_FILES, request.payload).await
            }
        }
    }
}

/// Installs `get_files`.
pub(super) fn register(router: &mut Router<ControlContext>) -> Result<(), DuplicateRoute> {
    router.route(GET_FILES, GetFiles).map(|_| ())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use wazuh_cluster_core::FileSyncState;

    use super::*;

    fn record(node: &str, file: &str, state: FileSyncState) -> SyncStateRecord {
        SyncStateRecord {
            node: node.into(),
            file: file.into(),
            state,
            changed: SystemTime::UNIX_EPOCH + Duration::from_secs(1_727_784_000),
        }
    }

    #[test]
    fn filters_by_node_and_file_lists() {
        let records = [
            record("w1", "etc/client.keys", FileSyncState::Synchronized),
            record(
                "w1",
                "etc/shared/default/agent.conf",
                FileSyncState::Pending,
            ),
            record("w2", "etc/client.keys", FileSyncState::Failed),
        ];
        let filter = FilesFilter::parse(br#"{"node": ["w2", "w3"], "file": null}"#).unwrap();
        let reply = files_json(&records, &filter);
        assert_eq!(reply["totalItems"], 1);
        assert_eq!(
            reply["items"][0],
            json!({"node": "w2", "file": "etc/client.keys", "state": "failed",
                   "last_change": "2024-10-01T12:00:00.000000Z"})
        );
        let filter = FilesFilter::parse(br#"{"file": ["etc/client.keys"]}"#).unwrap();
        assert_eq!(filter.query(), SyncStateQuery::file("etc/client.keys"));
        assert_eq!(files_json(&records, &filter)["totalItems"], 2);
        assert_eq!(
            files_json(&records, &FilesFilter::parse(b"").unwrap())["totalItems"],
            3
        );
        assert_eq!(
            files_json(&records, &FilesFilter::parse(b"{}").unwrap())["totalItems"],
            3
        );
    }

    #[test]
    fn a_bad_filter_is_refused_with_3036() {
        assert_eq!(FilesFilter::parse(b"[1]").unwrap_err().code, 3036);
        assert_eq!(
            FilesFilter::parse(br#"{"nodes": []}"#).unwrap_err().code,
            3036
        );
    }
}
