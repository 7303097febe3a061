//! The rig's nodes: a [`LocalCluster`] (the demo's homes and `ossec.conf`) with `<metrics>` on a
//! port of each node's own, and a scrape of that port.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::NodeType;
use crate::demo::{LocalCluster, NodeProcess, free_port, write_home};

/// The master's name.
pub const MASTER: &str = "master";

/// The name of worker `n` (from 1).
pub fn worker_name(n: usize) -> String {
    format!("worker{n:03}")
}

/// A running node and its metrics port.
#[derive(Debug)]
pub struct RigNode {
    /// The process.
    pub process: NodeProcess,
    /// `<metrics><listen>` port on 127.0.0.1.
    pub metrics_port: u16,
}

impl RigNode {
    /// The node's home.
    pub fn home(&self) -> &Path {
        &self.process.home
    }

    /// `GET /metrics`, `None` when the node does not answer.
    pub fn scrape(&self) -> Option<String> {
        scrape(self.metrics_port)
    }

    /// Whether its `cluster.log` holds `text` now.
    pub fn logged(&self, text: &str) -> bool {
        std::fs::read_to_string(self.home().join(LOG_PATH)).is_ok_and(|log| log.contains(text))
    }

    /// The length of its `cluster.log` now, 0 while there is none.
    pub fn log_length(&self) -> usize {
        std::fs::metadata(self.home().join(LOG_PATH)).map_or(0, |m| m.len() as usize)
    }
}

/// A node's log, relative to its home.
const LOG_PATH: &str = "logs/cluster.log";

/// Writes the home of `name` in `cluster` (the demo's `ossec.conf`, plus `<metrics>` on a free
/// port; `prepare` runs on the home before the start) and starts the node.
pub fn start(
    cluster: &LocalCluster,
    name: &str,
    node_type: NodeType,
    prepare: impl FnOnce(&Path) -> io::Result<()>,
) -> io::Result<RigNode> {
    let spec = cluster.spec(name, node_type);
    let home: PathBuf = cluster.home(name);
    write_home(&home, &spec)?;
    let metrics_port = free_port()?;
    let conf = spec.ossec_conf().replace(
        "</cluster>",
        &format!("  <metrics><listen>127.0.0.1:{metrics_port}</listen></metrics>\n  </cluster>"),
    );
    std::fs::write(home.join("etc/ossec.conf"), conf)?;
    prepare(&home)?;
    Ok(RigNode {
        process: NodeProcess::start(&cluster.binary, name, &home)?,
        metrics_port,
    })
}

/// `GET /metrics` on 127.0.0.1:`port`: the body of a 200 reply.
pub fn scrape(port: u16) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    let (head, body) = reply.split_once("\r\n\r\n")?;
    (head.split(' ').nth(1) == Some("200")).then(|| body.to_owned())
}

/// The value of the unlabelled gauge `name` in a scrape.
pub fn gauge(scrape: &str, name: &str) -> Option<f64> {
    scrape.lines().find_map(|line| {
        let value = line.strip_prefix(name)?.strip_prefix(' ')?;
        value.split(' ').next()?.parse().ok()
    })
}

/// The sum of every series of `name` whose labels include `label` (`status="active"`).
pub fn sum_with_label(scrape: &str, name: &str, label: &str) -> f64 {
    scrape
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(name)?.strip_prefix('{')?;
            let (labels, value) = rest.split_once("} ")?;
            labels.split(',').any(|l| l == label).then_some(())?;
            value.split(' ').next()?.parse::<f64>().ok()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauges_are_read_from_a_scrape() {
        let text = "wazuh_cluster_synchronized 1\nwazuh_cluster_agents{node=\"w1\",status=\"active\"} 3\n\
                    wazuh_cluster_agents{node=\"w2\",status=\"active\"} 4\n\
                    wazuh_cluster_agents{node=\"w2\",status=\"disconnected\"} 5\n";
        assert_eq!(gauge(text, "wazuh_cluster_synchronized"), Some(1.0));
        assert_eq!(gauge(text, "wazuh_cluster_connected_workers"), None);
        assert_eq!(
            sum_with_label(text, "wazuh_cluster_agents", "status=\"active\""),
            7.0
        );
        assert_eq!(worker_name(7), "worker007");
    }
}
