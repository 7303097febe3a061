//! The `<cluster>` block of `ossec.conf`.
//!
//! A manager's `ossec.conf` has many blocks, possibly several `<ossec_config>` roots, and
//! comments; only `<cluster>` blocks directly under a root are read, everything else is skipped.
//!
//! # Semantics
//!
//! - No `<cluster>` block: the cluster is disabled (Wazuh 4.x does the same), see
//!   [`DisabledBy::NoClusterBlock`]. A block without `<disabled>` is enabled.
//! - Several `<cluster>` blocks, or a tag given twice, read as one block in file order: the last
//!   value wins, with a [`ConfigWarning::Repeated`].
//! - Fields and defaults: `name` (`wazuh`), `node_name` (`node01`), `node_type` (`master`;
//!   `worker`, or 3.x's `client` = worker), `key` (required: 32 ASCII letters or digits),
//!   `port` (1516; 1025-65535), `bind_addr` (`0.0.0.0`; an IP address), `nodes`
//!   (required: `<nodes><node>ADDR</node>...</nodes>`, the master's address first), `hidden`
//!   (`no`), `disabled` (`no`), and this project's `version` (`4.9.2`, announced in `hello`) and
//!   `version_check` (`exact` or `minor`), and `failover` (`no`; `yes`: every `<node>` is a
//!   master-eligible member and the master is elected among them).
//! - `interval` (3.x, `<n>s` or `<n>m`) sets the worker's integrity and agent-info periods and the
//!   master's integrity recomputation; `<intervals>` (a project extension) overrides any single
//!   timer of [`Intervals`] by name, e.g. `<intervals><keep_alive>2s</keep_alive></intervals>`,
//!   including the agent timers `agent_group_start_delay` (30 s), `agents_disconnection_time`
//!   (10 min) and `keys_check_interval` (2 s).
//! - `nodes`: `localhost`, `NODE_IP`, `0.0.0.0` and `127.0.1.1` are refused as Wazuh does;
//!   `127.0.0.1` is allowed (single-machine clusters). Two equal entries are an error. With
//!   several entries (3.x style), this machine must own one of them ([`LocalAddresses`]), and a
//!   master must own the first. An entry may carry a port, `host:port` or `[v6]:port` (default:
//!   this node's `<port>`), so a whole cluster runs on one machine; an entry with a port is this
//!   node only on that port. With `failover`, a master-eligible node must own one entry (any
//!   position) and a worker need not.
//! - Values present are checked even when the cluster is disabled; `key` and `nodes` are required
//!   only when it is enabled.
//! - Operations (this project's extensions, [`Operations`]): `<metrics><listen>ADDR:PORT</listen>
//!   </metrics>` serves `GET /metrics` and `GET /health` (off when absent),
//!   `<clock_skew_warning>` (5 s) the threshold of the clock skew warning, `<log_rotation>`
//!   (`none` or `daily`) the daemon's own rotation of `cluster.log`.
//! - Unknown tags are warnings, never errors. Every problem is collected and returned at once.

mod error;
mod intervals;
mod key;
mod local_addrs;
mod message_age;
mod model;
mod operations;
mod parse;
mod tls;
mod validate;

use std::path::Path;

pub use error::{ConfigError, ConfigWarning, FieldError};
pub use intervals::Intervals;
pub use key::{ClusterKey, KEY_LEN, KeyError};
pub use local_addrs::{LocalAddresses, SystemAddresses};
pub use message_age::default_max_message_age;
pub use model::{
    Cluster, ClusterConfig, DEFAULT_NAME, DEFAULT_NODE_NAME, DEFAULT_PORT, DEFAULT_VERSION,
    DisabledBy, LoadedConfig, NodeAddress, NodeHost, NodeType, VersionCheck,
};
pub use operations::{DEFAULT_CLOCK_SKEW_WARNING, LogRotation, Operations};
pub use tls::TlsFiles;

/// Reads `path` and checks its `<cluster>` block; `local` tells which addresses are this
/// machine's (use [`SystemAddresses`]).
pub fn load(path: &Path, local: &dyn LocalAddresses) -> Result<LoadedConfig, ConfigError> {
    let xml = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_str(&xml, local)
}

/// Checks the `<cluster>` block of the `ossec.conf` text `xml`.
pub fn parse_str(xml: &str, local: &dyn LocalAddresses) -> Result<LoadedConfig, ConfigError> {
    validate::validate(parse::extract_cluster(xml)?, local)
}
