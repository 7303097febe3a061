//! `get_files`: the synchronization state of each file on each worker (`cluster_control -f`),
//! answered from the master's cluster database and forwarded to the master by a worker.
//!
//! Request payload: [`FilesFilter`], `{"node": ["w1", ...] | null, "file": ["etc/client.keys",
//! ...] | null}` (nothing, `null` or `{}` for everything). Reply: [`FilesReply`], ordered by
//! node then file.

use std::sync::Arc;

use async_trait::async_trait;
use wazuh_cluster_core::master::MasterConn;
use wazuh_cluster_core::session::{DuplicateRoute, Handler, HandlerResult, Request, Router};
use wazuh_cluster_core::{StorageError, SyncStateQuery, SyncStateRecord, SyncStateStore};
use wazuh_cluster_proto::payload::{WazuhException, error_codes};

use super::forward;
use crate::control::health::format_date;
use crate::control::protocol::files::{FileStateRow, FilesFilter, FilesReply, GET_FILES};
use crate::control::protocol::json_reply;
use crate::control::{ControlContext, ControlNode};

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
#[allow(
    clippy::result_large_err,
    reason = "HandlerResult is the core's handler type"
)]
fn reply(
    filter: &FilesFilter,
    states: Result<Vec<SyncStateRecord>, StorageError>,
) -> HandlerResult {
    let records = states.map_err(|error| {
        WazuhException::cluster(error_codes::CLUSTER).with_extra_message(format!(
            "cannot read the file sync states from the cluster database: {error}"
        ))
    })?;
    json_reply(&files_reply(&records, filter))
}

/// The `get_files` reply over `records`, keeping those `filter` wants.
pub fn files_reply(records: &[SyncStateRecord], filter: &FilesFilter) -> FilesReply {
    FilesReply::new(
        records
            .iter()
            .filter(|record| filter.keeps(record))
            .map(|record| FileStateRow {
                node: record.node.clone(),
                file: record.file.clone(),
                state: record.state.as_str().to_owned(),
                last_change: format_date(record.changed),
            })
            .collect(),
    )
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

    use serde_json::json;

    use super::*;

    fn record(node: &str, file: &str, state: FileSyncState) -> SyncStateRecord {
        SyncStateRecord {
            node: node.into(),
            file: file.into(),
            state,
            changed: SystemTime::UNIX_EPOCH + Duration::from_secs(1_727_784_000),
        }
    }

    fn json_of(records: &[SyncStateRecord], filter: &FilesFilter) -> serde_json::Value {
        serde_json::to_value(files_reply(records, filter)).unwrap()
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
        let reply = json_of(&records, &filter);
        assert_eq!(reply["totalItems"], 1);
        assert_eq!(
            reply["items"][0],
            json!({"node": "w2", "file": "etc/client.keys", "state": "failed",
                   "last_change": "2024-10-01T12:00:00.000000Z"})
        );
        let filter = FilesFilter::parse(br#"{"file": ["etc/client.keys"]}"#).unwrap();
        assert_eq!(filter.query(), SyncStateQuery::file("etc/client.keys"));
        assert_eq!(json_of(&records, &filter)["totalItems"], 2);
        assert_eq!(
            json_of(&records, &FilesFilter::parse(b"").unwrap())["totalItems"],
            3
        );
        assert_eq!(
            json_of(&records, &FilesFilter::parse(b"{}").unwrap())["totalItems"],
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
