//! End-to-end: real `wazuh-clusterd` and `cluster_control` processes on 127.0.0.1, short
//! timers. Every wait is a bounded poll; every process is killed when its guard drops.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use support::start_three;
use wazuh_clusterd::config::{ClusterKey, NodeType};
use wazuh_clusterd::demo::{LocalCluster, NodeProcess, node_names, wait_for_nodes, wait_until};

const DAEMON: &str = env!("CARGO_BIN_EXE_wazuh-clusterd");
const CONTROL: &str = env!("CARGO_BIN_EXE_cluster_control");
/// Longest wait for a connection or a disconnection to show.
const WAIT: Duration = Duration::from_secs(20);

fn cluster(root: &Path) -> LocalCluster {
    LocalCluster::new(Path::new(DAEMON), root).expect("cluster settings")
}

fn control(home: &Path, args: &[&str]) -> Output {
    Command::new(CONTROL)
        .arg("--home")
        .arg(home)
        .args(args)
        .output()
        .expect("run cluster_control")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "cluster_control failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// The master and worker01, connected.
fn start_two(cluster: &LocalCluster) -> (NodeProcess, NodeProcess) {
    let master = cluster.start_node("master01", NodeType::Master).unwrap();
    let w1 = cluster.start_node("worker01", NodeType::Worker).unwrap();
    assert!(wait_for_nodes(
        &master.home,
        &["master01", "worker01"],
        WAIT
    ));
    (master, w1)
}

/// Whether the peer closes `stream` (end of stream or reset) within [`WAIT`], sending nothing.
fn closed_by_peer(stream: &mut TcpStream) -> bool {
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = [0u8; 64];
    match stream.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

#[test]
fn cluster_control_lists_all_three_nodes_on_master_and_worker() {
    let root = tempfile::tempdir().unwrap();
    let cluster = cluster(root.path());
    let (master, w1, _w2) = start_three(&cluster, WAIT);
    for home in [&master.home, &w1.home] {
        let table = stdout(&control(home, &["-l"]));
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines[0], "NAME      TYPE    VERSION  ADDRESS    AGENTS  ",
            "{table}"
        );
        assert_eq!(
            lines[1], "master01  master  4.9.2    127.0.0.1  0       ",
            "{table}"
        );
        assert_eq!(lines.len(), 4, "{table}");
        assert!(
            table.contains("worker01  worker") && table.contains("worker02  worker"),
            "{table}"
        );

        let health = stdout(&control(home, &["-i"]));
        assert!(
            health.starts_with(
                "Cluster name: demo\n\nLast completed synchronization for connected nodes (2):\n"
            ),
            "{health}"
        );
        assert!(
            health.contains("    worker01 (127.0.0.1): Integrity check: "),
            "{health}"
        );

        let more = stdout(&control(home, &["-i", "more", "-fn", "worker02"]));
        assert!(more.contains("Connected nodes (1):\n\n    worker02 (127.0.0.1)\n        Version: 4.9.2\n        Type: worker\n"), "{more}");
        assert!(!more.contains("master01"), "{more}");

        let json: serde_json::Value = serde_json::from_str(&stdout(&control(
            home,
            &["-l", "-fn", "worker01", "--json"],
        )))
        .unwrap();
        assert_eq!(json["totalItems"], 1);
        assert_eq!(json["items"][0]["name"], "worker01");
    }
}

#[test]
fn killed_worker_is_dropped_and_reconnects_after_restart() {
    let root = tempfile::tempdir().unwrap();
    let cluster = cluster(root.path());
    let (master, mut w1, _w2) = start_three(&cluster, WAIT);
    w1.kill().unwrap();
    assert!(
        wait_for_nodes(&master.home, &["master01", "worker02"], WAIT),
        "killed worker still listed: {:?}",
        node_names(&master.home)
    );
    let _w1 = cluster.start_node("worker01", NodeType::Worker).unwrap();
    assert!(
        wait_for_nodes(&master.home, &["master01", "worker01", "worker02"], WAIT),
        "restarted worker did not reconnect; master log:\n{}",
        master.log()
    );
}

#[test]
fn worker_with_the_wrong_key_is_refused_and_the_master_says_why() {
    let root = tempfile::tempdir().unwrap();
    let cluster = cluster(root.path());
    let master = cluster.start_node("master01", NodeType::Master).unwrap();
    let mut spec = cluster.spec("intruder", NodeType::Worker);
    spec.key = ClusterKey::parse("0123456789abcdefghijABCDEFGHIJxy").unwrap();
    let _intruder = cluster.start(&spec, None).unwrap();
    assert!(
        wait_until(WAIT, || master
            .log()
            .contains("Could not decrypt message from 127.0.0.1:")),
        "master log does not say why:\n{}",
        master.log()
    );
    assert!(master.log().contains("use the same cluster key"));
    assert_eq!(node_names(&master.home).unwrap(), ["master01"]);
}

#[test]
fn second_worker_with_a_live_name_is_refused_with_3028() {
    let root = tempfile::tempdir().unwrap();
    let cluster = cluster(root.path());
    let (master, _w1) = start_two(&cluster);
    let twin = cluster
        .start(
            &cluster.spec("worker01", NodeType::Worker),
            Some("worker01-twin"),
        )
        .unwrap();
    assert!(
        wait_until(WAIT, || twin.log().contains("Error 3028")),
        "twin's log does not show 3028:\n{}",
        twin.log()
    );
    assert_eq!(node_names(&master.home).unwrap(), ["master01", "worker01"]);
}

#[test]
fn garbage_stream_is_closed_and_the_master_keeps_serving() {
    let root = tempfile::tempdir().unwrap();
    let cluster = cluster(root.path());
    let (master, _w1) = start_two(&cluster);

    let mut garbage = TcpStream::connect(("127.0.0.1", cluster.port)).unwrap();
    garbage.write_all(&[0xFF; 4096]).unwrap();
    assert!(
        closed_by_peer(&mut garbage),
        "the master did not close the garbage connection"
    );

    let _w2 = cluster.start_node("worker02", NodeType::Worker).unwrap();
    assert!(
        wait_for_nodes(&master.home, &["master01", "worker01", "worker02"], WAIT),
        "master stopped serving after garbage; log:\n{}",
        master.log()
    );
}

#[test]
fn sigterm_stops_the_node_and_removes_pid_file_and_socket() {
    let root = tempfile::tempdir().unwrap();
    let cluster = cluster(root.path());
    let mut master = cluster.start_node("master01", NodeType::Master).unwrap();
    assert!(wait_for_nodes(&master.home, &["master01"], WAIT));
    assert!(
        master.stop(WAIT).unwrap(),
        "the master did not stop on SIGTERM"
    );
    assert_eq!(
        std::fs::read_dir(master.home.join("var/run"))
            .unwrap()
            .count(),
        0
    );
    assert!(!master.home.join("queue/cluster/c-internal.sock").exists());
    assert!(master.home.join("var/db/cluster.db").is_file());
    let down = control(&master.home, &["-l"]);
    assert_eq!(down.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&down.stderr),
        "ERROR: Cluster is not running.\n"
    );
}

#[test]
fn a_connection_over_the_pre_hello_cap_closes_the_oldest_waiting_one() {
    let root = tempfile::tempdir().unwrap();
    let cluster = cluster(root.path());
    let master = cluster.start_node("master01", NodeType::Master).unwrap();
    assert!(wait_for_nodes(&master.home, &["master01"], WAIT));
    let mut held: Vec<TcpStream> = (0..wazuh_clusterd::net::MAX_PRE_HELLO_PER_IP)
        .map(|_| TcpStream::connect(("127.0.0.1", cluster.port)).unwrap())
        .collect();
    // The listener accepts in arrival order: the held ones take the places before this one.
    let _newest = TcpStream::connect(("127.0.0.1", cluster.port)).unwrap();
    assert!(
        closed_by_peer(&mut held[0]),
        "the oldest waiting connection was not closed"
    );
    assert!(
        wait_until(WAIT, || master.log().contains(
            "Closing the oldest connection from 127.0.0.1 that has not said hello"
        )),
        "{}",
        master.log()
    );
}
