//! The validated `<cluster>` configuration.

use std::fmt;
use std::net::IpAddr;

use super::error::ConfigWarning;
use super::intervals::Intervals;
use super::key::ClusterKey;
use super::operations::Operations;

/// Default cluster name (`<name>`).
pub const DEFAULT_NAME: &str = "wazuh";
/// Default node name (`<node_name>`).
pub const DEFAULT_NODE_NAME: &str = "node01";
/// Default TCP port (`<port>`).
pub const DEFAULT_PORT: u16 = 1516;
/// Default Wazuh version announced in `hello` (`<version>`): joins Wazuh 4.9.2 clusters.
pub const DEFAULT_VERSION: &str = "4.9.2";

/// Result of loading `ossec.conf`: the cluster setting and the warnings to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedConfig {
    /// Whether the cluster runs, and how.
    pub cluster: Cluster,
    /// Things that do not stop the node (unknown tags, repeated tags), in file order.
    pub warnings: Vec<ConfigWarning>,
}

/// Whether this node takes part in a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cluster {
    /// The node does not run the cluster; the daemon exits 0 saying so.
    Disabled(DisabledBy),
    /// The node runs with this configuration.
    Enabled(Box<ClusterConfig>),
}

/// Why the cluster is disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisabledBy {
    /// `ossec.conf` has no `<cluster>` block (Wazuh's default: disabled).
    NoClusterBlock,
    /// `<disabled>yes</disabled>`.
    DisabledTag,
}

impl fmt::Display for DisabledBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DisabledBy::NoClusterBlock => "there is no <cluster> block in the configuration",
            DisabledBy::DisabledTag => "<disabled> is set to yes in <cluster>",
        })
    }
}

/// The `<cluster>` block of an enabled node, every value checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    /// Cluster name (`<name>`, default `wazuh`); nodes of one cluster must agree on it.
    pub name: String,
    /// This node's name (`<node_name>`, default `node01`), unique in the cluster.
    pub node_name: String,
    /// Master or worker (`<node_type>`, default master; 3.x's `client` is a worker).
    pub node_type: NodeType,
    /// The shared key (`<key>`, required).
    pub key: ClusterKey,
    /// TCP port the master listens on and workers connect to (`<port>`, default 1516).
    pub port: u16,
    /// Address the master listens on (`<bind_addr>`, default 0.0.0.0).
    pub bind_addr: IpAddr,
    /// `<nodes>`: the master's address first; 3.x listed every node.
    pub nodes: Vec<NodeAddress>,
    /// Index in `nodes` of this node's own entry, when several were listed (3.x) and found
    /// through the machine's addresses; `None` with a single entry.
    pub own_node: Option<usize>,
    /// Hide the cluster in alerts (`<hidden>`, default no).
    pub hidden: bool,
    /// The Wazuh version announced in `hello` (`<version>`, default `4.9.2`).
    pub version: String,
    /// How the master judges other nodes' versions (`<version_check>`, default exact).
    pub version_check: VersionCheck,
    /// Timers (`<interval>` of 3.x and `<intervals>` overrides applied).
    pub intervals: Intervals,
    /// `<failover>` (default no): every `<node>` is a master-eligible member and the master is
    /// elected among them; no: the first `<node>` is the master, as in Wazuh.
    pub failover: bool,
    /// Received messages whose Fernet token is older are refused as possible replays
    /// (`<max_message_age>`, default [`super::default_max_message_age`] of the intervals,
    /// 300 s; `None` with `no`).
    pub max_message_age: Option<std::time::Duration>,
    /// Mutual TLS between the nodes (`<tls>`, default off).
    pub tls: Option<super::TlsFiles>,
    /// Metrics and health endpoint, clock skew threshold, log rotation.
    pub operations: Operations,
}

impl ClusterConfig {
    /// The master's address: the first `<node>` entry.
    pub fn master_address(&self) -> &NodeAddress {
        &self.nodes[0]
    }
}

/// The role of a node: `<node_type>` reads `master`, `worker` or 3.x's `client` (a worker).
pub use wazuh_cluster_proto::payload::NodeType;

/// The rule by which a master accepts the version another node announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionCheck {
    /// The version strings must be equal (Wazuh's rule).
    Exact,
    /// Major and minor must be equal (`4.9.0` and `4.9.2` agree).
    Minor,
}

impl fmt::Display for VersionCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VersionCheck::Exact => "exact",
            VersionCheck::Minor => "minor",
        })
    }
}

/// One `<node>` entry: `host`, or `host:port` (`[v6]:port` for an IPv6 address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAddress {
    /// The node's IP address or host name.
    pub host: NodeHost,
    /// Its cluster port; `None` means the node uses this node's `<port>`.
    pub port: Option<u16>,
}

/// The host part of a `<node>` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeHost {
    /// An IP address.
    Ip(IpAddr),
    /// A host name (never matches this machine's own addresses, as in 3.x).
    Name(String),
}

impl NodeAddress {
    /// `ip` on the default port.
    pub fn ip(ip: IpAddr) -> Self {
        Self {
            host: NodeHost::Ip(ip),
            port: None,
        }
    }

    /// The host name `name` on the default port.
    pub fn name(name: impl Into<String>) -> Self {
        Self {
            host: NodeHost::Name(name.into()),
            port: None,
        }
    }

    /// The port, `default` (the `<port>` of this node) when the entry names none.
    pub fn port_or(&self, default: u16) -> u16 {
        self.port.unwrap_or(default)
    }

    /// The host as a connect target (`::1`, not `[::1]`).
    pub fn host_string(&self) -> String {
        self.host.to_string()
    }
}

impl fmt::Display for NodeHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeHost::Ip(ip) => ip.fmt(f),
            NodeHost::Name(host) => f.write_str(host),
        }
    }
}

impl fmt::Display for NodeAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.host, self.port) {
            (host, None) => host.fmt(f),
            (NodeHost::Ip(IpAddr::V6(ip)), Some(port)) => write!(f, "[{ip}]:{port}"),
            (host, Some(port)) => write!(f, "{host}:{port}"),
        }
    }
}
