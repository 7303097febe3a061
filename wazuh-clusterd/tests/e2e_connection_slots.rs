//! End-to-end: 200 idle sockets from 127.0.0.1 (no `hello`, nothing sent) do not lock a real
//! worker on the same address out of the real master; they only evict each other, and never
//! the worker's authenticated session.

use std::io::Read;
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use wazuh_clusterd::config::NodeType;
use wazuh_clusterd::demo::{LocalCluster, wait_for_cluster, wait_for_nodes};
use wazuh_clusterd::net::MAX_PRE_HELLO_PER_IP;

const DAEMON: &str = env!("CARGO_BIN_EXE_wazuh-clusterd");
const WAIT: Duration = Duration::from_secs(20);
const IDLE: usize = 200;

/// Whether the master closed `stream` (end of stream or reset) within `wait`.
fn closed(stream: &mut TcpStream, wait: Duration) -> bool {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 16];
    match stream.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

#[test]
fn two_hundred_idle_sockets_do_not_lock_out_a_worker_on_the_same_address() {
    let root = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::new(Path::new(DAEMON), root.path()).expect("cluster settings");
    let master = cluster.start_node("master01", NodeType::Master).unwrap();
    assert!(wait_for_nodes(&master.home, &["master01"], WAIT));

    let mut idle: Vec<TcpStream> = (0..IDLE)
        .map(|_| TcpStream::connect(("127.0.0.1", cluster.port)).expect("idle socket"))
        .collect();
    let worker = cluster.start_node("worker01", NodeType::Worker).unwrap();
    assert!(
        wait_for_cluster(
            &[&master.home, &worker.home],
            &["master01", "worker01"],
            WAIT
        ),
        "the worker did not join past {IDLE} idle sockets; master log:\n{}",
        master.log()
    );
    // All but the newest few idle sockets were closed to make room.
    let oldest_closed = idle
        .iter_mut()
        .take(IDLE - MAX_PRE_HELLO_PER_IP)
        .all(|stream| closed(stream, WAIT));
    assert!(oldest_closed, "an old idle socket is still open");

    // A second flood never evicts the authenticated session.
    let mut more: Vec<TcpStream> = (0..IDLE)
        .map(|_| TcpStream::connect(("127.0.0.1", cluster.port)).expect("idle socket"))
        .collect();
    assert!(closed(&mut more[0], WAIT), "the second flood was served");
    assert!(
        wait_for_nodes(&master.home, &["master01", "worker01"], WAIT),
        "{}",
        master.log()
    );
    assert_eq!(
        master.log().matches("Client worker01 added").count(),
        1,
        "the worker's session was never replaced:\n{}",
        master.log()
    );
}
