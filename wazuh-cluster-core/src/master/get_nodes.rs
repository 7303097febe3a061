//! `get_nodes`: the node list as Wazuh's `cluster_control -l` and API read it
//! (`wazuh4-protocol.md` section 8), served to workers over the cluster link and, through
//! [`get_nodes`], to the daemon's local socket.
//!
//! Arguments (JSON, every key optional): `filter_node` (null, a name or a list of names),
//! `filter_type` (`all`, `master`, `worker`), `select` (subset of `name`, `type`, `version`,
//! `ip`), `search` (`{"value", "negation"}`: case-insensitive substring of any selected value),
//! `sort` (`{"fields": [...], "order": "asc"|"desc"}`), `offset`, `limit` (default 500),
//! `distinct`. Reply: [`NodesReply`], `{"items": [...], "totalItems": N}`, `totalItems` counted
//! before `offset`/`limit`; each item has the selected fields of a [`NodeItem`]. Errors: 1724
//! unknown select field, 1728 bad node type, 1730 unknown node.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use wazuh_cluster_proto::payload::{ExceptionClass, WazuhException, error_codes};

use super::MasterHandle;
use super::conn::MasterConn;
use crate::node::NodeInfo;
use crate::session::{Handler, HandlerResult, Reply, Request};

/// The fields of a node item, in Wazuh's order.
const FIELDS: [&str; 4] = ["name", "type", "version", "ip"];

/// One node of the `get_nodes` reply: the fields the request selected (all by default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeItem {
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `master` or `worker`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub node_type: Option<String>,
    /// Its Wazuh version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Its address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
}

impl NodeItem {
    /// Every field of `node`.
    fn of(node: &NodeInfo) -> Self {
        Self {
            name: Some(node.name.clone()),
            node_type: Some(node.node_type.as_str().to_owned()),
            version: Some(node.version.clone()),
            ip: Some(node.address.clone()),
        }
    }

    /// The field named `field` (a name of [`FIELDS`]), if present.
    fn field(&self, field: &str) -> Option<&str> {
        match field {
            "name" => self.name.as_deref(),
            "type" => self.node_type.as_deref(),
            "version" => self.version.as_deref(),
            "ip" => self.ip.as_deref(),
            _ => None,
        }
    }

    /// Only the fields `select` names.
    fn selected(self, select: &[&str]) -> Self {
        let keep = |field: &str, value: Option<String>| value.filter(|_| select.contains(&field));
        Self {
            name: keep("name", self.name),
            node_type: keep("type", self.node_type),
            version: keep("version", self.version),
            ip: keep("ip", self.ip),
        }
    }

    /// The present fields' values.
    fn values(&self) -> impl Iterator<Item = &str> {
        FIELDS.iter().filter_map(|field| self.field(field))
    }
}

/// Reply of `get_nodes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodesReply {
    /// The nodes of the page asked for.
    pub items: Vec<NodeItem>,
    /// How many nodes matched, before `offset` and `limit`.
    #[serde(rename = "totalItems")]
    pub total_items: usize,
}
/// Wazuh's `DATABASE_LIMIT`.
const DEFAULT_LIMIT: usize = 500;

/// `filter_node`: one name or several.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum NodeFilter {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
struct Search {
    value: String,
    #[serde(default)]
    negation: bool,
}

#[derive(Debug, Deserialize)]
struct Sort {
    #[serde(default)]
    fields: Vec<String>,
    #[serde(default)]
    order: Option<String>,
}

/// The arguments of `get_nodes`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct GetNodesArgs {
    filter_node: Option<NodeFilter>,
    filter_type: Option<String>,
    select: Option<Vec<String>>,
    search: Option<Search>,
    sort: Option<Sort>,
    offset: Option<usize>,
    limit: Option<usize>,
    distinct: bool,
}

fn wazuh_error(code: u32, extra: String) -> Box<WazuhException> {
    Box::new(WazuhException::error(code).with_extra_message(extra))
}

/// Answers `get_nodes` over `nodes` (master first, then workers in connect order).
pub fn get_nodes(
    nodes: &[NodeInfo],
    args: &GetNodesArgs,
) -> Result<NodesReply, Box<WazuhException>> {
    let select: Vec<&str> = match &args.select {
        None => FIELDS.to_vec(),
        Some(select) => {
            let unknown: Vec<&str> = select
                .iter()
                .map(String::as_str)
                .filter(|f| !FIELDS.contains(f))
                .collect();
            if !unknown.is_empty() {
                return Err(wazuh_error(1724, unknown.join(", ")));
            }
            FIELDS
                .into_iter()
                .filter(|f| select.iter().any(|s| s == f))
                .collect()
        }
    };
    let filter_type = args.filter_type.as_deref().unwrap_or("all");
    if !["all", "master", "worker"].contains(&filter_type) {
        return Err(wazuh_error(1728, filter_type.to_owned()));
    }
    let wanted: Option<Vec<&str>> = args.filter_node.as_ref().map(|f| match f {
        NodeFilter::One(name) => vec![name.as_str()],
        NodeFilter::Many(names) => names.iter().map(String::as_str).collect(),
    });
    if let Some(wanted) = &wanted {
        let unknown: Vec<&str> = wanted
            .iter()
            .copied()
            .filter(|w| !nodes.iter().any(|n| n.name == *w))
            .collect();
        if !unknown.is_empty() {
            let mut error = WazuhException::new(
                ExceptionClass::Other("WazuhResourceNotFound".to_owned()),
                1730,
            )
            .with_extra_message(unknown.join(", "));
            error.title = "Resource Not Found".to_owned();
            error.ids = Some(Vec::new());
            return Err(Box::new(error));
        }
    }
    let mut items: Vec<NodeItem> = nodes
        .iter()
        .filter(|n| wanted.as_ref().is_none_or(|w| w.contains(&n.name.as_str())))
        .filter(|n| filter_type == "all" || n.node_type.as_str() == filter_type)
        .map(|n| NodeItem::of(n).selected(&select))
        .collect();
    if let Some(search) = &args.search {
        let needle = search.value.to_lowercase();
        items.retain(|item| {
            let found = item.values().any(|v| v.to_lowercase().contains(&needle));
            found != search.negation
        });
    }
    if let Some(sort) = &args.sort {
        let descending = sort.order.as_deref() == Some("desc");
        items.sort_by(|a, b| {
            let ordering = sort
                .fields
                .iter()
                .map(|f| a.field(f).cmp(&b.field(f)))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal);
            if descending {
                ordering.reverse()
            } else {
                ordering
            }
        });
    }
    if args.distinct {
        let mut seen = Vec::new();
        items.retain(|item| {
            if seen.contains(item) {
                false
            } else {
                seen.push(item.clone());
                true
            }
        });
    }
    let total = items.len();
    let offset = args.offset.unwrap_or(0);
    let limit = args.limit.unwrap_or(DEFAULT_LIMIT);
    let items = items.into_iter().skip(offset).take(limit).collect();
    Ok(NodesReply {
        items,
        total_items: total,
    })
}

/// Handler of `get_nodes` from a worker.
pub(crate) struct GetNodesHandler;

#[async_trait]
impl Handler<MasterConn> for GetNodesHandler {
    async fn handle(&self, conn: &MasterConn, request: Request) -> HandlerResult {
        let args: GetNodesArgs = if request.payload.iter().all(u8::is_ascii_whitespace) {
            GetNodesArgs::default()
        } else {
            serde_json::from_slice::<Option<GetNodesArgs>>(&request.payload)
                .map_err(|e| WazuhException::cluster(3036).with_extra_message(e.to_string()))?
                .unwrap_or_default()
        };
        let nodes = MasterHandle {
            shared: conn.shared.clone(),
        }
        .nodes();
        let reply = get_nodes(&nodes, &args).map_err(|e| *e)?;
        let text = serde_json::to_string(&reply).map_err(|e| {
            WazuhException::internal(error_codes::INTERNAL).with_extra_message(e.to_string())
        })?;
        Ok(Some(Reply::ok(text)))
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use serde_json::{Value, json};

    use super::*;
    use crate::node::NodeType;

    fn node(name: &str, node_type: NodeType, ip: &str) -> NodeInfo {
        NodeInfo {
            name: name.into(),
            node_type,
            version: "4.9.2".into(),
            address: ip.into(),
            connected_since: SystemTime::UNIX_EPOCH,
            last_keepalive: None,
        }
    }

    fn nodes() -> Vec<NodeInfo> {
        vec![
            node("master01", NodeType::Master, "10.0.0.1"),
            node("worker02", NodeType::Worker, "10.0.0.3"),
            node("worker01", NodeType::Worker, "10.0.0.2"),
        ]
    }

    fn run(args: &str) -> Result<Value, Box<WazuhException>> {
        get_nodes(&nodes(), &serde_json::from_str(args).unwrap())
            .map(|reply| serde_json::to_value(reply).unwrap())
    }

    #[test]
    fn default_lists_every_node_master_first_in_connect_order() {
        let reply = run("{}").unwrap();
        assert_eq!(reply["totalItems"], 3);
        assert_eq!(
            reply["items"][0],
            json!({"name": "master01", "type": "master", "version": "4.9.2", "ip": "10.0.0.1"})
        );
        assert_eq!(reply["items"][1]["name"], "worker02");
    }

    #[test]
    fn filters_select_search_sort_and_paging() {
        let reply = run(r#"{"filter_type": "worker", "select": ["ip", "name"], "sort": {"fields": ["name"], "order": "asc"}, "offset": 1, "limit": 5}"#).unwrap();
        assert_eq!(
            reply,
            json!({"items": [{"name": "worker02", "ip": "10.0.0.3"}], "totalItems": 2})
        );
        let reply = run(r#"{"filter_node": "worker01"}"#).unwrap();
        assert_eq!(reply["totalItems"], 1);
        let reply = run(r#"{"search": {"value": "MASTER", "negation": true}}"#).unwrap();
        assert_eq!(reply["totalItems"], 2);
    }

    #[test]
    fn the_reply_round_trips_with_wazuhs_names() {
        let args = serde_json::from_str(r#"{"select": ["ip", "type"]}"#).unwrap();
        let reply = get_nodes(&nodes()[..1], &args).unwrap();
        let text = serde_json::to_string(&reply).unwrap();
        assert_eq!(
            text,
            r#"{"items":[{"type":"master","ip":"10.0.0.1"}],"totalItems":1}"#
        );
        assert_eq!(serde_json::from_str::<NodesReply>(&text).unwrap(), reply);
        let full = get_nodes(&nodes(), &GetNodesArgs::default()).unwrap();
        assert_eq!(
            serde_json::from_value::<NodesReply>(serde_json::to_value(&full).unwrap()).unwrap(),
            full
        );
    }

    #[test]
    fn errors_carry_wazuhs_codes() {
        assert_eq!(
            run(r#"{"select": ["name", "port"]}"#).unwrap_err().code,
            1724
        );
        assert_eq!(run(r#"{"filter_type": "boss"}"#).unwrap_err().code, 1728);
        let error = run(r#"{"filter_node": ["worker09"]}"#).unwrap_err();
        assert_eq!(error.code, 1730);
        assert_eq!(error.extra_message.as_deref(), Some("worker09"));
    }
}
