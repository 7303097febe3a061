//! Judges the raw `<cluster>` fields: every problem is collected, none stops the others.

use std::collections::HashMap;
use std::net::IpAddr;

use super::error::{ConfigError, ConfigWarning, FieldError};
use super::intervals::{INTERVAL_ALLOWED, Intervals, SetOutcome};
use super::key::ClusterKey;
use super::local_addrs::LocalAddresses;
use super::message_age::{MESSAGE_AGE_ALLOWED, default_max_message_age, parse_max_message_age};
use super::model::{
    Cluster, ClusterConfig, DEFAULT_NAME, DEFAULT_NODE_NAME, DEFAULT_PORT, DEFAULT_VERSION,
    DisabledBy, LoadedConfig, NodeAddress, NodeHost, NodeType, VersionCheck,
};
use super::operations::{OPERATIONS_TAGS, operations};
use super::parse::{RawCluster, RawField};
use super::tls::tls_files;

/// Leaf tags of `<cluster>` this implementation reads.
const KNOWN_TAGS: [&str; 13] = [
    "name",
    "node_name",
    "node_type",
    "key",
    "interval",
    "port",
    "bind_addr",
    "hidden",
    "disabled",
    "version",
    "version_check",
    "failover",
    "max_message_age",
];

/// `<node>` values Wazuh reserves as placeholders (compared case-insensitively).
const RESERVED_NODES: [&str; 4] = ["localhost", "node_ip", "0.0.0.0", "127.0.1.1"];

/// Characters besides ASCII letters and digits that Wazuh's configuration reader allows in
/// cluster and node names (no space: Wazuh refuses `node 01`).
const NAME_CHARS: &str = "!\"#$%&'-.:<=>?[\\]^_{|}~";

/// Turns the raw fields into a [`LoadedConfig`], or every problem found.
pub(crate) fn validate(
    raw: RawCluster,
    local: &dyn LocalAddresses,
) -> Result<LoadedConfig, ConfigError> {
    let mut warnings = raw.warnings;
    if !raw.found {
        warnings.sort_by_key(ConfigWarning::line);
        return Ok(LoadedConfig {
            cluster: Cluster::Disabled(DisabledBy::NoClusterBlock),
            warnings,
        });
    }
    let fields = last_of_each(&raw.fields, &mut warnings);
    let mut errors = Vec::new();

    let name = fields
        .get("name")
        .map_or(Some(DEFAULT_NAME.to_string()), |f| {
            check_name(f, &mut errors)
        });
    let node_name = fields
        .get("node_name")
        .map_or(Some(DEFAULT_NODE_NAME.to_string()), |f| {
            check_name(f, &mut errors)
        });
    let node_type = fields.get("node_type").map_or(Some(NodeType::Master), |f| {
        choice(
            f,
            &[
                ("master", NodeType::Master),
                ("worker", NodeType::Worker),
                ("client", NodeType::Worker),
            ],
            "master or worker (3.x: client)",
            &mut errors,
        )
    });
    let key = fields.get("key").map(|f| match ClusterKey::parse(&f.text) {
        Ok(key) => Some(key),
        Err(source) => {
            errors.push(FieldError::Key {
                source,
                line: f.line,
            });
            None
        }
    });
    let port = fields
        .get("port")
        .map_or(Some(DEFAULT_PORT), |f| match f.text.parse::<u16>() {
            Ok(port) if port >= 1025 => Some(port),
            _ => invalid(f, "a whole number from 1025 to 65535", &mut errors),
        });
    let bind_addr = fields
        .get("bind_addr")
        .map_or(Some(IpAddr::from([0, 0, 0, 0])), |f| {
            f.text.parse::<IpAddr>().ok().or_else(|| {
                invalid(
                    f,
                    "an IPv4 or IPv6 address, e.g. 0.0.0.0 or 192.168.1.10",
                    &mut errors,
                )
            })
        });
    let yes_no = [("yes", true), ("no", false)];
    let hidden = fields.get("hidden").map_or(Some(false), |f| {
        choice(f, &yes_no, "yes or no", &mut errors)
    });
    let disabled = fields.get("disabled").map_or(Some(false), |f| {
        choice(f, &yes_no, "yes or no", &mut errors)
    });
    let version = fields
        .get("version")
        .map_or(Some(DEFAULT_VERSION.to_string()), |f| {
            if is_version(&f.text) {
                Some(f.text.clone())
            } else {
                invalid(
                    f,
                    "a Wazuh version MAJOR.MINOR.PATCH, e.g. 4.9.2",
                    &mut errors,
                )
            }
        });
    let version_check = fields
        .get("version_check")
        .map_or(Some(VersionCheck::Exact), |f| {
            choice(
                f,
                &[
                    ("exact", VersionCheck::Exact),
                    ("minor", VersionCheck::Minor),
                ],
                "exact or minor",
                &mut errors,
            )
        });
    let intervals = intervals(
        fields.get("interval").copied(),
        &raw.intervals,
        &mut warnings,
        &mut errors,
    );
    let nodes = nodes(&raw.nodes, &mut errors);
    let tls = match &raw.tls {
        None => Some(None),
        Some((line, children)) => tls_files(*line, children, &mut warnings, &mut errors).map(Some),
    };
    let max_message_age = match (fields.get("max_message_age"), &intervals) {
        (Some(field), _) => match parse_max_message_age(&field.text) {
            Ok(age) => Some(age),
            Err(()) => invalid(field, MESSAGE_AGE_ALLOWED, &mut errors),
        },
        (None, Some(intervals)) => Some(Some(default_max_message_age(intervals))),
        (None, None) => None,
    };
    let operations = operations(&fields, &raw.metrics, &mut warnings, &mut errors);

    let enabled = disabled == Some(false);
    if enabled && key.is_none() {
        errors.push(FieldError::Missing {
            field: "key",
            allowed: "set <key> to 32 letters or digits (`wazuh-clusterd keygen` prints one)",
        });
    }
    if enabled && raw.nodes.is_empty() {
        errors.push(FieldError::Missing {
            field: "nodes",
            allowed: "list the master's address: <nodes><node>MASTER_IP</node></nodes>",
        });
    }
    let failover = fields.get("failover").map_or(Some(false), |f| {
        choice(f, &yes_no, "yes or no", &mut errors)
    });
    let own_node = match (enabled, &nodes, node_type, port, failover) {
        (true, Some(nodes), Some(node_type), Some(port), Some(failover)) => {
            find_self(nodes, (node_type, port, failover), local, &mut errors)
        }
        _ => None,
    };

    warnings.sort_by_key(ConfigWarning::line);
    if !errors.is_empty() {
        return Err(ConfigError::Invalid { errors, warnings });
    }
    if !enabled {
        return Ok(LoadedConfig {
            cluster: Cluster::Disabled(DisabledBy::DisabledTag),
            warnings,
        });
    }
    let config = match (
        name,
        node_name,
        node_type,
        key,
        port,
        bind_addr,
        nodes,
        hidden,
        version,
        version_check,
        intervals,
        failover,
        max_message_age,
        tls,
        operations,
    ) {
        (
            Some(name),
            Some(node_name),
            Some(node_type),
            Some(Some(key)),
            Some(port),
            Some(bind_addr),
            Some(nodes),
            Some(hidden),
            Some(version),
            Some(version_check),
            Some(intervals),
            Some(failover),
            Some(max_message_age),
            Some(tls),
            Some(operations),
        ) => ClusterConfig {
            name,
            node_name,
            node_type,
            key,
            port,
            bind_addr,
            nodes,
            own_node,
            hidden,
            version,
            version_check,
            intervals,
            failover,
            max_message_age,
            tls,
            operations,
        },
        _ => unreachable!("every None above pushed an error"),
    };
    Ok(LoadedConfig {
        cluster: Cluster::Enabled(Box::new(config)),
        warnings,
    })
}

/// The last occurrence of every known tag; unknown tags and repeats become warnings.
fn last_of_each<'r>(
    fields: &'r [RawField],
    warnings: &mut Vec<ConfigWarning>,
) -> HashMap<&'r str, &'r RawField> {
    let mut last: HashMap<&str, &RawField> = HashMap::new();
    for field in fields {
        if !KNOWN_TAGS.contains(&field.tag.as_str())
            && !OPERATIONS_TAGS.contains(&field.tag.as_str())
        {
            warnings.push(ConfigWarning::UnknownTag {
                tag: field.tag.clone(),
                parent: "cluster".to_string(),
                line: field.line,
            });
        } else if last.insert(&field.tag, field).is_some() {
            warnings.push(ConfigWarning::Repeated {
                tag: field.tag.clone(),
                line: field.line,
            });
        }
    }
    last
}

fn invalid<T>(field: &RawField, allowed: &str, errors: &mut Vec<FieldError>) -> Option<T> {
    errors.push(FieldError::Invalid {
        field: field.tag.clone(),
        value: field.text.clone(),
        line: field.line,
        allowed: allowed.to_string(),
    });
    None
}

fn choice<T: Copy>(
    field: &RawField,
    options: &[(&str, T)],
    allowed: &str,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    match options.iter().find(|(word, _)| *word == field.text) {
        Some((_, value)) => Some(*value),
        None => invalid(field, allowed, errors),
    }
}

fn check_name(field: &RawField, errors: &mut Vec<FieldError>) -> Option<String> {
    let allowed_char = |c: char| c.is_ascii_alphanumeric() || NAME_CHARS.contains(c);
    match field.text.chars().find(|c| !allowed_char(*c)) {
        _ if field.text.is_empty() => invalid(field, "a non-empty name", errors),
        Some(bad) => invalid(
            field,
            &format!("{bad:?} is not allowed; use ASCII letters, digits and {NAME_CHARS}"),
            errors,
        ),
        None => Some(field.text.clone()),
    }
}

fn is_version(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 9 && p.bytes().all(|b| b.is_ascii_digit()))
}

fn intervals(
    legacy: Option<&RawField>,
    overrides: &[RawField],
    warnings: &mut Vec<ConfigWarning>,
    errors: &mut Vec<FieldError>,
) -> Option<Intervals> {
    let mut intervals = Intervals::default();
    let mut ok = true;
    if let Some(field) = legacy
        && intervals.apply_legacy_interval(&field.text).is_none()
    {
        ok = invalid::<()>(field, INTERVAL_ALLOWED, errors).is_some();
    }
    let mut seen: HashMap<&str, ()> = HashMap::new();
    for field in overrides {
        match intervals.set(&field.tag, &field.text) {
            SetOutcome::Set => {
                if seen.insert(&field.tag, ()).is_some() {
                    warnings.push(ConfigWarning::Repeated {
                        tag: format!("intervals/{}", field.tag),
                        line: field.line,
                    });
                }
            }
            SetOutcome::UnknownName => warnings.push(ConfigWarning::UnknownTag {
                tag: field.tag.clone(),
                parent: "intervals".to_string(),
                line: field.line,
            }),
            SetOutcome::Invalid(allowed) => {
                errors.push(FieldError::Invalid {
                    field: format!("intervals/{}", field.tag),
                    value: field.text.clone(),
                    line: field.line,
                    allowed: allowed.to_string(),
                });
                ok = false;
            }
        }
    }
    ok.then_some(intervals)
}

/// Checks every `<node>` entry: shape, placeholders, duplicates.
fn nodes(entries: &[RawField], errors: &mut Vec<FieldError>) -> Option<Vec<NodeAddress>> {
    let before = errors.len();
    let mut first_seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let text = entry.text.as_str();
        if RESERVED_NODES.contains(&text.to_ascii_lowercase().as_str()) {
            errors.push(FieldError::ReservedNode {
                value: text.to_string(),
                line: entry.line,
            });
            continue;
        }
        let Some(address) = node_address(text) else {
            errors.push(FieldError::Invalid {
                field: "nodes/node".to_string(),
                value: text.to_string(),
                line: entry.line,
                allowed: "an IP address or a host name, optionally with :PORT (1025-65535; \
                          [IPv6]:PORT)"
                    .to_string(),
            });
            continue;
        };
        let host = match &address.host {
            NodeHost::Ip(ip) => ip.to_string(),
            NodeHost::Name(host) => host.to_ascii_lowercase(),
        };
        let identity = format!("{host} {:?}", address.port);
        if let Some(&first_line) = first_seen.get(&identity) {
            errors.push(FieldError::DuplicateNode {
                value: text.to_string(),
                line: entry.line,
                first_line,
            });
            continue;
        }
        first_seen.insert(identity, entry.line);
        out.push(address);
    }
    (errors.len() == before && !out.is_empty()).then_some(out)
}

/// The entries of `<nodes>`, comma-separated, as errors list them.
fn listed(nodes: &[NodeAddress]) -> String {
    nodes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `host`, `host:port` or `[v6]:port` (a bare IPv6 address has no port).
fn node_address(text: &str) -> Option<NodeAddress> {
    let host = |h: &str| {
        if let Ok(ip) = h.parse::<IpAddr>() {
            Some(NodeHost::Ip(ip))
        } else {
            is_host_name(h).then(|| NodeHost::Name(h.to_string()))
        }
    };
    let port = |p: &str| p.parse::<u16>().ok().filter(|&p| p >= 1025);
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(NodeAddress::ip(ip));
    }
    if let Some(rest) = text.strip_prefix('[') {
        let (v6, port_text) = rest.split_once("]:")?;
        return Some(NodeAddress {
            host: NodeHost::Ip(IpAddr::V6(v6.parse().ok()?)),
            port: Some(port(port_text)?),
        });
    }
    match text.split_once(':') {
        Some((h, p)) => Some(NodeAddress {
            host: host(h)?,
            port: Some(port(p)?),
        }),
        None => Some(NodeAddress {
            host: host(text)?,
            port: None,
        }),
    }
}

fn is_host_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// With several entries (3.x), the node must be one of them; a master must be the first. With
/// `<failover>`, a master-eligible node must be one of them (any position) and a worker need
/// not. An entry with a port is this node only on this node's `<port>`.
fn find_self(
    nodes: &[NodeAddress],
    own: (NodeType, u16, bool),
    local: &dyn LocalAddresses,
    errors: &mut Vec<FieldError>,
) -> Option<usize> {
    let (node_type, port, failover) = own;
    let is_local = |n: &NodeAddress| {
        matches!(n.host, NodeHost::Ip(ip) if local.is_local(ip)) && n.port_or(port) == port
    };
    if failover && nodes.len() < 3 {
        errors.push(FieldError::FailoverTooFewNodes {
            listed: listed(nodes),
        });
        return None;
    }
    if failover {
        return match node_type {
            NodeType::Worker | NodeType::Client => None,
            NodeType::Master => {
                let own = nodes.iter().position(is_local);
                if own.is_none() {
                    errors.push(FieldError::FailoverSelfNotFound {
                        listed: listed(nodes),
                        port,
                    });
                }
                own
            }
        };
    }
    if nodes.len() < 2 {
        return None;
    }
    let locals: Vec<usize> = (0..nodes.len()).filter(|&i| is_local(&nodes[i])).collect();
    match (node_type, locals.as_slice()) {
        (_, []) => {
            errors.push(FieldError::SelfNotFound {
                listed: listed(nodes),
            });
            None
        }
        (NodeType::Master, [0, ..]) => Some(0),
        (NodeType::Master, [own, ..]) => {
            errors.push(FieldError::MasterNotFirst {
                listed: listed(nodes),
                own: nodes[*own].to_string(),
            });
            None
        }
        (NodeType::Worker | NodeType::Client, _) => {
            locals.iter().copied().find(|&i| i != 0).or(Some(0))
        }
    }
}
