//! One node of a local cluster: its home folder and `ossec.conf`, and its process.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::config::{ClusterKey, NodeType, TlsFiles};

/// What a node of a local cluster is.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    /// `<node_name>`.
    pub name: String,
    /// Master or worker.
    pub node_type: NodeType,
    /// `<key>`.
    pub key: ClusterKey,
    /// `<port>` (the master's).
    pub port: u16,
    /// `<name>` of the cluster.
    pub cluster: String,
    /// Children of `<intervals>`, e.g. `[("keep_alive", "1s")]`.
    pub intervals: Vec<(String, String)>,
    /// `<tls>` (absolute paths); a certificate missing there is made for the node's name by
    /// [`write_home`] with the CA of the certificate's folder.
    pub tls: Option<TlsFiles>,
    /// With failover: the cluster ports of the master-eligible nodes on 127.0.0.1, written as
    /// `<failover>yes</failover>` and one `<node>127.0.0.1:PORT</node>` each (`port` is then
    /// this node's own port on a master-eligible node). `None`: one master at `127.0.0.1:port`.
    pub failover: Option<Vec<u16>>,
}

impl NodeSpec {
    /// The `ossec.conf` of this node, on 127.0.0.1.
    pub fn ossec_conf(&self) -> String {
        let intervals: String = self
            .intervals
            .iter()
            .map(|(name, value)| format!("<{name}>{value}</{name}>"))
            .collect();
        let tls = self.tls.as_ref().map_or(String::new(), |files| {
            format!(
                "    <tls><ca>{}</ca><cert>{}</cert><key>{}</key></tls>\n",
                files.ca.display(),
                files.cert.display(),
                files.key.display()
            )
        });
        let (failover, nodes) = match &self.failover {
            None => (String::new(), "<node>127.0.0.1</node>".to_owned()),
            Some(ports) => (
                "    <failover>yes</failover>\n".to_owned(),
                ports
                    .iter()
                    .map(|port| format!("<node>127.0.0.1:{port}</node>"))
                    .collect(),
            ),
        };
        format!(
            "<ossec_config>\n  <cluster>\n    <name>{}</name>\n    <node_name>{}</node_name>\n    \
             <node_type>{}</node_type>\n    <key>{}</key>\n    <port>{}</port>\n    \
             <bind_addr>127.0.0.1</bind_addr>\n    <nodes>\n      {nodes}\n    \
             </nodes>\n{failover}    <hidden>no</hidden>\n    <disabled>no</disabled>\n    \
             <intervals>{intervals}</intervals>\n{tls}  </cluster>\n</ossec_config>\n",
            self.cluster,
            self.name,
            self.node_type,
            self.key.as_str(),
            self.port,
        )
    }
}

/// Creates `home/etc/ossec.conf` for `spec` (and its node certificate when missing).
pub fn write_home(home: &Path, spec: &NodeSpec) -> io::Result<()> {
    if let Some(files) = &spec.tls
        && !files.cert.exists()
    {
        let dir = files.cert.parent().unwrap_or(Path::new("."));
        crate::certs::make(dir, std::slice::from_ref(&spec.name)).map_err(io::Error::other)?;
    }
    std::fs::create_dir_all(home.join("etc"))?;
    std::fs::write(home.join("etc/ossec.conf"), spec.ossec_conf())
}

/// A running `wazuh-clusterd`; dropping it kills the process (SIGKILL) if it still runs.
#[derive(Debug)]
pub struct NodeProcess {
    /// The node's name.
    pub name: String,
    /// Its installation folder.
    pub home: PathBuf,
    child: Child,
}

/// glibc's malloc settings for each node, as `packaging/wazuh-clusterd.service` sets them
/// (unless the caller's environment says otherwise). Arenas: glibc's default of 8 per core
/// kept a master's freed memory in up to 16 arenas (10 workers, 20,000 agents: 201-267 MB mean
/// RSS against 143-191 MB with 2, benches/README.md). Tunables: blocks of 128 KiB and more are
/// mapped on their own and given back when freed, and free memory at the top of the heap is
/// given back from 128 KiB (glibc's threshold otherwise grows to 32 MiB after the first large
/// buffers, which then stay in the heap: master RSS at 25 workers 322-328 MB mean against
/// 264-275 MB with these, benches/README.md).
const MALLOC_SETTINGS: [(&str, &str); 2] = [
    ("MALLOC_ARENA_MAX", "2"),
    (
        "GLIBC_TUNABLES",
        "glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=131072",
    ),
];

impl NodeProcess {
    /// Starts `binary --home home -f` (stdout and stderr discarded; the log is in
    /// `home/logs/cluster.log`).
    pub fn start(binary: &Path, name: &str, home: &Path) -> io::Result<Self> {
        let mut command = Command::new(binary);
        for (variable, value) in MALLOC_SETTINGS {
            if std::env::var_os(variable).is_none() {
                command.env(variable, value);
            }
        }
        let child = command
            .arg("--home")
            .arg(home)
            .arg("-f")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        Ok(Self {
            name: name.to_owned(),
            home: home.to_path_buf(),
            child,
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The node's `cluster.log` so far (empty if it has none yet).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.home.join("logs/cluster.log")).unwrap_or_default()
    }

    /// Sends SIGTERM and waits up to `timeout` for the exit; kills it if it does not stop.
    /// Returns whether it stopped on SIGTERM.
    pub fn stop(&mut self, timeout: Duration) -> io::Result<bool> {
        if self.child.try_wait()?.is_some() {
            return Ok(true);
        }
        Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status()?;
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(true);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill()?;
        Ok(false)
    }

    /// Kills the process at once (SIGKILL) and reaps it.
    pub fn kill(&mut self) -> io::Result<()> {
        if self.child.try_wait()?.is_none() {
            self.child.kill()?;
            self.child.wait()?;
        }
        Ok(())
    }

    /// Whether the process still runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}
