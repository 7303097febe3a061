//! End-to-end operations: real `wazuh-clusterd` processes on 127.0.0.1 with `<metrics>` on.
//! `GET /health` answers 503 while a worker has no master and 200 with its share once it is
//! synchronized; `GET /metrics` shows the task durations, bytes, files and connections moving
//! after a sync; systemd's READY comes with the same "synchronized" as the health check (then
//! WATCHDOG, STOPPING) on a fake `NOTIFY_SOCKET`; a worker whose clock runs 30 s late is measured and warned about on both
//! sides. Every wait is a bounded poll; every process is killed when its guard drops.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use wazuh_clusterd::clock::TEST_CLOCK_OFFSET_ENV;
use wazuh_clusterd::config::NodeType;
use wazuh_clusterd::control::protocol::skew::GET_SKEW;
use wazuh_clusterd::demo::{LocalCluster, free_port, query, same_files, wait_until};

const DAEMON: &str = env!("CARGO_BIN_EXE_wazuh-clusterd");
const CONTROL: &str = env!("CARGO_BIN_EXE_cluster_control");
/// Longest wait for a connection, a sync or a state to show.
const WAIT: Duration = Duration::from_secs(30);

/// A daemon started with extra environment; killed on drop.
struct Node {
    home: PathBuf,
    child: Child,
}

impl Node {
    /// Writes the home of `name` (with `<metrics>` on `metrics_port` when given) and starts it
    /// with `env`.
    fn start(
        cluster: &LocalCluster,
        name: &str,
        node_type: NodeType,
        metrics_port: Option<u16>,
        env: &[(&str, &str)],
    ) -> Self {
        let home = cluster.home(name);
        let mut conf = cluster.spec(name, node_type).ossec_conf();
        if let Some(port) = metrics_port {
            conf = conf.replace(
                "</cluster>",
                &format!("<metrics><listen>127.0.0.1:{port}</listen></metrics>\n</cluster>"),
            );
        }
        std::fs::create_dir_all(home.join("etc")).unwrap();
        std::fs::write(home.join("etc/ossec.conf"), conf).unwrap();
        let child = Command::new(DAEMON)
            .arg("--home")
            .arg(&home)
            .arg("-f")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Self { home, child }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.home.join("logs/cluster.log")).unwrap_or_default()
    }

    /// SIGTERM, then waits (bounded) for the exit.
    fn terminate(&mut self) {
        Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(
            wait_until(WAIT, || matches!(self.child.try_wait(), Ok(Some(_)))),
            "the daemon did not stop on SIGTERM"
        );
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET path` on 127.0.0.1:`port`: the status code and the body, or `None` when nothing
/// answers.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    let (head, body) = reply.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}

/// The value of the sample `series` (name with labels, as printed) in a scrape.
fn sample(scrape: &str, series: &str) -> Option<f64> {
    scrape
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.split(' ').next()?.parse().ok())
}

/// Collects what the daemon sends to a fake `NOTIFY_SOCKET`.
struct FakeSystemd {
    path: PathBuf,
    received: Arc<Mutex<Vec<String>>>,
}

impl FakeSystemd {
    fn bind(dir: &Path) -> Self {
        let path = dir.join("notify.sock");
        let socket = UnixDatagram::bind(&path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = received.clone();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            // Ends with the test process; reads time out every 200 ms.
            loop {
                if let Ok(n) = socket.recv(&mut buffer) {
                    let text = String::from_utf8_lossy(&buffer[..n]).into_owned();
                    sink.lock().unwrap().push(text);
                }
            }
        });
        Self { path, received }
    }

    fn got(&self, line: &str) -> bool {
        self.received
            .lock()
            .unwrap()
            .iter()
            .any(|m| m.lines().any(|l| l == line))
    }
}

#[test]
fn health_metrics_and_systemd_follow_a_workers_sync() {
    let root = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::new(Path::new(DAEMON), root.path()).unwrap();
    let master_home = cluster.home("master01");
    std::fs::create_dir_all(master_home.join("etc/shared/default")).unwrap();
    std::fs::write(
        master_home.join("etc/shared/default/agent.conf"),
        "<agent_config>ops</agent_config>\n",
    )
    .unwrap();
    let systemd = FakeSystemd::bind(root.path());
    let (master_port, worker_port) = (free_port().unwrap(), free_port().unwrap());

    // The worker first: no master yet, so not synchronized.
    let mut worker = Node::start(
        &cluster,
        "worker01",
        NodeType::Worker,
        Some(worker_port),
        &[
            ("NOTIFY_SOCKET", systemd.path.to_str().unwrap()),
            ("WATCHDOG_USEC", "400000"),
        ],
    );
    assert!(
        wait_until(WAIT, || get(worker_port, "/health").is_some()),
        "the worker's endpoint never answered; its log:\n{}",
        worker.log()
    );
    let (status, body) = get(worker_port, "/health").unwrap();
    assert_eq!(status, 503, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["synchronized"], false);
    assert_eq!(body["node"], "worker01");
    let (_, scrape) = get(worker_port, "/metrics").unwrap();
    assert_eq!(sample(&scrape, "wazuh_cluster_synchronized"), Some(0.0));
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !systemd.got("READY=1"),
        "READY=1 before the worker synchronized"
    );

    let master = Node::start(
        &cluster,
        "master01",
        NodeType::Master,
        Some(master_port),
        &[],
    );
    assert!(
        wait_until(WAIT, || get(worker_port, "/health")
            .is_some_and(|(s, _)| s == 200)),
        "the worker never became healthy; its log:\n{}\nmaster log:\n{}",
        worker.log(),
        master.log()
    );
    assert!(
        wait_until(WAIT, || same_files(
            &master.home,
            &worker.home,
            &["etc/shared"]
        )),
        "the worker never got the master's files; its log:\n{}",
        worker.log()
    );
    assert!(wait_until(WAIT, || systemd.got("READY=1")), "no READY=1");
    assert!(
        wait_until(WAIT, || systemd.got("WATCHDOG=1")),
        "no WATCHDOG=1"
    );
    let (_, body) = get(worker_port, "/health").unwrap();
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["synchronized"], true, "{body}");
    assert_eq!(body["role"], "worker");
    assert_eq!(body["agents"], 0, "{body}");
    assert_eq!(body["cluster_agents"], 0, "{body}");
    let (status, body) = get(master_port, "/health").unwrap();
    assert_eq!(status, 200, "{body}");
    // HAProxy's `option httpchk GET /health` sends HTTP/1.0 without a Host header.
    let mut check = TcpStream::connect(("127.0.0.1", worker_port)).unwrap();
    check.write_all(b"GET /health HTTP/1.0\r\n\r\n").unwrap();
    let mut reply = String::new();
    check.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");

    // Something that is not a cluster node knocks on the cluster port.
    let mut stranger = TcpStream::connect(("127.0.0.1", cluster.port)).unwrap();
    stranger
        .write_all(b"GET / HTTP/1.1\r\nHost: master\r\n\r\n")
        .unwrap();

    // The master's scrape: types, and counters that moved with the sync.
    let scrape = {
        let mut last = String::new();
        let moved = wait_until(WAIT, || {
            last = get(master_port, "/metrics")
                .map(|(_, b)| b)
                .unwrap_or_default();
            sample(
                &last,
                "wazuh_cluster_sync_files_total{peer=\"worker01\",direction=\"sent\"}",
            )
            .is_some_and(|n| n >= 1.0)
                && sample(
                    &last,
                    "wazuh_cluster_rejected_connections_total{cause=\"not_a_cluster_stream\"}",
                ) == Some(1.0)
        });
        assert!(
            moved,
            "no files sent or no stranger refused; scrape:\n{last}"
        );
        last
    };
    for (name, kind) in [
        ("wazuh_cluster_task_duration_seconds", "histogram"),
        ("wazuh_cluster_sync_bytes", "counter"),
        ("wazuh_cluster_sync_files", "counter"),
        ("wazuh_cluster_rejected_connections", "counter"),
        ("wazuh_cluster_transport_bytes", "counter"),
        ("wazuh_cluster_clock_skew_seconds", "gauge"),
        ("wazuh_cluster_connected_workers", "gauge"),
        ("wazuh_cluster_synchronized", "gauge"),
    ] {
        assert!(
            scrape.contains(&format!("# TYPE {name} {kind}\n")),
            "{name} is not a {kind}:\n{scrape}"
        );
    }
    let checks = sample(
        &scrape,
        "wazuh_cluster_task_duration_seconds_count{task=\"integrity_check\",peer=\"worker01\"}",
    );
    assert!(
        checks.is_some_and(|n| n >= 1.0),
        "no check timed:\n{scrape}"
    );
    let sent = sample(
        &scrape,
        "wazuh_cluster_sync_bytes_total{task=\"integrity_sync\",peer=\"worker01\",direction=\"sent\"}",
    );
    assert!(sent.is_some_and(|n| n > 0.0), "no sync bytes:\n{scrape}");
    let traffic = sample(
        &scrape,
        "wazuh_cluster_transport_bytes_total{peer=\"worker01\",direction=\"received\"}",
    );
    assert!(traffic.is_some_and(|n| n > 0.0), "no traffic:\n{scrape}");
    assert_eq!(
        sample(&scrape, "wazuh_cluster_connected_workers"),
        Some(1.0)
    );
    assert_eq!(sample(&scrape, "wazuh_cluster_synchronized"), Some(1.0));
    assert_eq!(
        sample(
            &scrape,
            "wazuh_cluster_memory_budget_bytes{budget=\"divided_messages\",kind=\"limit\"}"
        ),
        Some(wazuh_clusterd::net::NODE_DIVIDED_BUDGET as f64)
    );
    assert_eq!(
        sample(
            &scrape,
            "wazuh_cluster_memory_budget_bytes{budget=\"divided_messages\",kind=\"used\"}"
        ),
        Some(0.0)
    );
    assert!(
        scrape.ends_with("# EOF\n"),
        "not OpenMetrics text:\n{scrape}"
    );

    // The worker's side of the same sync (its counter moves once the files are applied and
    // made durable, which on a busy disk comes a while after the master sent them).
    let mut scrape = String::new();
    let received = wait_until(WAIT, || {
        scrape = get(worker_port, "/metrics")
            .map(|(_, b)| b)
            .unwrap_or_default();
        sample(
            &scrape,
            "wazuh_cluster_sync_files_total{peer=\"master\",direction=\"received\"}",
        )
        .is_some_and(|n| n >= 1.0)
    });
    assert!(received, "{scrape}");
    assert_eq!(sample(&scrape, "wazuh_cluster_master_connected"), Some(1.0));

    worker.terminate();
    assert!(systemd.got("STOPPING=1"), "no STOPPING=1");
}

#[test]
fn a_worker_whose_clock_runs_late_is_measured_and_warned_about() {
    let root = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::new(Path::new(DAEMON), root.path()).unwrap();
    let master = Node::start(&cluster, "master01", NodeType::Master, None, &[]);
    let worker = Node::start(
        &cluster,
        "worker01",
        NodeType::Worker,
        None,
        &[(TEST_CLOCK_OFFSET_ENV, "-30")],
    );
    let warned = "WARNING: [Master] [Clock skew] The clock of worker01 is -3";
    assert!(
        wait_until(WAIT, || master.log().contains(warned)),
        "no warning on the master; its log:\n{}",
        master.log()
    );
    assert!(
        wait_until(WAIT, || worker.log().contains(
            "WARNING: [Worker worker01] [Clock skew] The clock of master is +"
        )),
        "no warning on the worker; its log:\n{}",
        worker.log()
    );
    let skew = query(&master.home, GET_SKEW, "").unwrap();
    let offset = skew["peers"]["worker01"]["offset_seconds"]
        .as_f64()
        .unwrap();
    assert!((-31.5..=-29.0).contains(&offset), "{skew}");
    assert_eq!(skew["threshold_seconds"], 5.0);
    let skew = query(&worker.home, GET_SKEW, "").unwrap();
    let offset = skew["peers"]["master"]["offset_seconds"].as_f64().unwrap();
    assert!((29.0..=31.5).contains(&offset), "{skew}");

    let shown = Command::new(CONTROL)
        .arg("--home")
        .arg(&master.home)
        .arg("-i")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.status.success(), "{text}");
    assert!(
        text.contains("worker01: -3"),
        "-i does not show the skew:\n{text}"
    );

    let watched = Command::new(CONTROL)
        .arg("--home")
        .arg(&master.home)
        .args(["--watch", "--count", "2", "--interval", "0.2"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&watched.stdout);
    assert!(watched.status.success(), "{text}");
    assert_eq!(text.matches("Cluster demo at ").count(), 2, "{text}");
    assert!(text.contains("CLOCK"), "{text}");
    let row = text
        .lines()
        .find(|line| line.starts_with("worker01 "))
        .unwrap_or_else(|| panic!("no worker01 row:\n{text}"));
    let clock: f64 = row
        .split_whitespace()
        .last()
        .and_then(|cell| cell.strip_suffix('s'))
        .and_then(|cell| cell.parse().ok())
        .unwrap_or_else(|| panic!("no clock offset in {row:?}"));
    assert!((-31.5..=-29.0).contains(&clock), "{row}");
}
