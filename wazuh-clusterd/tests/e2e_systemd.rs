//! End-to-end: the daemon under a fake systemd. A unix datagram socket stands for
//! `$NOTIFY_SOCKET`: a master says `READY=1` once it listens, a worker only once it is connected
//! and checked; both feed the watchdog every half `$WATCHDOG_USEC` and say `STOPPING=1` on
//! SIGTERM.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use wazuh_clusterd::config::NodeType;
use wazuh_clusterd::demo::{LocalCluster, write_home};

const DAEMON: &str = env!("CARGO_BIN_EXE_wazuh-clusterd");
const WAIT: Duration = Duration::from_secs(20);

/// A daemon started with `NOTIFY_SOCKET` and `WATCHDOG_USEC`, killed when dropped.
struct Notified {
    child: Child,
    socket: UnixDatagram,
}

impl Notified {
    fn start(cluster: &LocalCluster, name: &str, node_type: NodeType, dir: &Path) -> Self {
        let home = cluster.home(name);
        write_home(&home, &cluster.spec(name, node_type)).unwrap();
        let path = dir.join(format!("{name}.notify"));
        let socket = UnixDatagram::bind(&path).unwrap();
        let child = Command::new(DAEMON)
            .arg("--home")
            .arg(&home)
            .arg("-f")
            .env("NOTIFY_SOCKET", &path)
            .env("WATCHDOG_USEC", "200000")
            .env_remove("WATCHDOG_PID")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Self { child, socket }
    }

    /// The next datagram within `wait`, as text; `None` when nothing came.
    fn next(&self, wait: Duration) -> Option<String> {
        self.socket.set_read_timeout(Some(wait)).unwrap();
        let mut buf = [0u8; 1024];
        let n = self.socket.recv(&mut buf).ok()?;
        Some(String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    /// Reads datagrams until one contains `what`, at most `wait`; everything read.
    fn until(&self, what: &str, wait: Duration) -> Result<Vec<String>, Vec<String>> {
        let deadline = Instant::now() + wait;
        let mut seen = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.next(left.max(Duration::from_millis(1))) {
                Some(text) => {
                    let done = text.lines().any(|l| l == what);
                    seen.push(text);
                    if done {
                        return Ok(seen);
                    }
                }
                None => break,
            }
        }
        Err(seen)
    }

    fn terminate(&mut self) {
        Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
    }
}

impl Drop for Notified {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn ready_when_serving_watchdog_while_running_stopping_on_sigterm() {
    let root = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::new(Path::new(DAEMON), root.path()).unwrap();

    // A worker alone is not ready: it has no master.
    let worker = Notified::start(&cluster, "worker01", NodeType::Worker, root.path());
    assert_eq!(
        worker.next(Duration::from_secs(2)),
        None,
        "a worker without its master said something"
    );

    let mut master = Notified::start(&cluster, "master01", NodeType::Master, root.path());
    let said = master.until("READY=1", WAIT).expect("the master is ready");
    assert!(said[0].lines().any(|l| l == "READY=1"), "{said:?}");
    let beats = master.until("WATCHDOG=1", Duration::from_secs(2));
    assert!(beats.is_ok(), "the master feeds the watchdog: {beats:?}");

    let ready = worker.until("READY=1", WAIT);
    assert!(
        ready.is_ok(),
        "the worker is ready once connected and checked: {ready:?}"
    );
    let beats = worker.until("WATCHDOG=1", Duration::from_secs(2));
    assert!(beats.is_ok(), "the worker feeds the watchdog: {beats:?}");

    master.terminate();
    let stopping = master.until("STOPPING=1", WAIT);
    assert!(stopping.is_ok(), "the master says it stops: {stopping:?}");
}
