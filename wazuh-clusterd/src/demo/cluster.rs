//! A cluster of real `wazuh-clusterd` processes on 127.0.0.1, each node in its own home folder.

use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::Value;
use wazuh_cluster_proto::Command;
use wazuh_cluster_proto::command::names;

use super::node::{NodeProcess, NodeSpec, write_home};
use crate::config::{ClusterKey, NodeType, TlsFiles};
use crate::control::client::{self, ClientError};
use crate::keygen;

/// A free TCP port on 127.0.0.1 (bound once, then released).
pub fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// The nodes of one local cluster: same key, port and timers, homes under `root`.
#[derive(Debug)]
pub struct LocalCluster {
    /// The `wazuh-clusterd` binary.
    pub binary: PathBuf,
    /// Folder holding one home per node (`root/<name>`).
    pub root: PathBuf,
    /// The cluster key.
    pub key: ClusterKey,
    /// The master's port.
    pub port: u16,
    /// `<intervals>` of every node.
    pub intervals: Vec<(String, String)>,
    /// Folder of the cluster CA and node certificates when the nodes use mutual TLS.
    pub tls: Option<PathBuf>,
}

/// Short timers for demos and tests: keepalive, integrity check, agent-info and agent-groups
/// every second; a worker silent for 3 s dropped.
pub fn short_intervals() -> Vec<(String, String)> {
    [
        ("sync_integrity", "1s"),
        ("recalculate_integrity", "1s"),
        ("sync_agent_info", "1s"),
        ("sync_agent_groups", "1s"),
        ("keep_alive", "1s"),
        ("connection_retry", "1s"),
        ("check_worker_lastkeepalive", "1s"),
        ("max_allowed_time_without_keepalive", "3s"),
        ("timeout_cluster_request", "5s"),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_owned(), v.to_owned()))
    .collect()
}

impl LocalCluster {
    /// A cluster under `root` with a fresh random key, a free port and [`short_intervals`].
    pub fn new(binary: &Path, root: &Path) -> io::Result<Self> {
        let key = keygen::generate().map_err(io::Error::other)?;
        Ok(Self {
            binary: binary.to_path_buf(),
            root: root.to_path_buf(),
            key,
            port: free_port()?,
            intervals: short_intervals(),
            tls: None,
        })
    }

    /// The same cluster with mutual TLS: a CA and node certificates under `root/tls`.
    pub fn with_tls(mut self) -> Self {
        self.tls = Some(self.root.join("tls"));
        self
    }

    /// The home folder of node `name`.
    pub fn home(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// The configuration of node `name` in this cluster.
    pub fn spec(&self, name: &str, node_type: NodeType) -> NodeSpec {
        NodeSpec {
            name: name.to_owned(),
            node_type,
            key: self.key.clone(),
            port: self.port,
            cluster: "demo".to_owned(),
            intervals: self.intervals.clone(),
            tls: self.tls.as_ref().map(|dir| TlsFiles {
                ca: dir.join("ca.pem"),
                cert: dir.join(format!("{name}.pem")),
                key: dir.join(format!("{name}.key")),
            }),
            failover: None,
        }
    }

    /// The configuration of node `name` in a failover cluster whose master-eligible nodes
    /// listen on `ports`: master-eligible on `own` (one of them), or a worker with `None`.
    pub fn failover_spec(&self, name: &str, ports: &[u16], own: Option<u16>) -> NodeSpec {
        let node_type = match own {
            Some(_) => NodeType::Master,
            None => NodeType::Worker,
        };
        NodeSpec {
            port: own.unwrap_or(ports[0]),
            failover: Some(ports.to_vec()),
            ..self.spec(name, node_type)
        }
    }

    /// Writes the home of `spec` (under this cluster's root, named after the node unless
    /// `home_name` says otherwise) and starts its process.
    pub fn start(&self, spec: &NodeSpec, home_name: Option<&str>) -> io::Result<NodeProcess> {
        let home = self.home(home_name.unwrap_or(&spec.name));
        write_home(&home, spec)?;
        NodeProcess::start(&self.binary, &spec.name, &home)
    }

    /// Starts the node `name` of type `node_type` with this cluster's settings.
    pub fn start_node(&self, name: &str, node_type: NodeType) -> io::Result<NodeProcess> {
        self.start(&self.spec(name, node_type), None)
    }
}

/// Asks the daemon of `home` `command payload` and reads its JSON reply.
pub fn query(home: &Path, command: Command, payload: &str) -> Result<Value, Box<ClientError>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| ClientError::Io {
            socket: crate::control::socket_path(home),
            source,
        })?;
    let reply: Bytes = runtime.block_on(client::execute(
        home,
        command,
        payload.to_owned(),
        client::REPLY_TIMEOUT,
    ))?;
    serde_json::from_slice(&reply).map_err(|source| {
        Box::new(ClientError::NotJson {
            socket: crate::control::socket_path(home),
            source,
        })
    })
}

/// The node names `get_nodes` lists through the daemon of `home`, or `None` if it cannot say.
pub fn node_names(home: &Path) -> Option<Vec<String>> {
    let reply = query(home, names::GET_NODES, "{}").ok()?;
    Some(
        reply["items"]
            .as_array()?
            .iter()
            .filter_map(|item| item["name"].as_str().map(str::to_owned))
            .collect(),
    )
}

/// Polls every 100 ms until `condition` holds, at most `timeout`; returns whether it held.
pub fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until every node of `homes` sees the node list `expected`, at most `timeout` in all.
///
/// A worker answers the node list by asking its master, so this holds only once every worker has
/// its own session with the master, not merely once the master has registered it (the master
/// registers a worker before the worker has read the reply to its `hello`).
pub fn wait_for_cluster(homes: &[&Path], expected: &[&str], timeout: Duration) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    homes.iter().all(|home| {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        wait_for_nodes(home, expected, left)
    })
}

/// Waits until the node list seen from `home` is exactly `expected` (any order), at most
/// `timeout`.
pub fn wait_for_nodes(home: &Path, expected: &[&str], timeout: Duration) -> bool {
    wait_until(timeout, || {
        node_names(home).is_some_and(|mut names| {
            names.sort();
            let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
            want.sort();
            names == want
        })
    })
}
