//! End-to-end: what a peer without the key can make the real master keep. Before a
//! connection's first message decrypts, frames over 64 KiB are refused at their header, so
//! neither a 256 MiB frame nor divided frames (5 MiB each, 10 per connection in Wazuh 4.14.7)
//! are ever buffered: the master closes each such connection at once and its peak RSS stays
//! under the 64 MiB goal for pre-authentication cases.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use wazuh_clusterd::config::NodeType;
use wazuh_clusterd::demo::{LocalCluster, NodeProcess, wait_for_nodes};

const DAEMON: &str = env!("CARGO_BIN_EXE_wazuh-clusterd");
const WAIT: Duration = Duration::from_secs(20);
/// Connections of the flood (Wazuh's cap per address was 10).
const CONNECTIONS: usize = 10;

fn master(root: &Path) -> (LocalCluster, NodeProcess) {
    let cluster = LocalCluster::new(Path::new(DAEMON), root).expect("cluster settings");
    let master = cluster.start_node("master01", NodeType::Master).unwrap();
    assert!(wait_for_nodes(&master.home, &["master01"], WAIT));
    (cluster, master)
}

/// Peak resident memory of process `pid`, in KiB (`VmHWM` of `/proc/PID/status`).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A frame header: counter, declared size, command field.
fn header(counter: u32, size: u32, field: &[u8; 12]) -> Vec<u8> {
    let mut out = Vec::with_capacity(20);
    out.extend_from_slice(&counter.to_be_bytes());
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(field);
    out
}

/// Sends `header` then up to `body` bytes of junk; returns how many body bytes the master took
/// before closing (the write fails once it closed), after checking it did close.
fn push_until_closed(port: u16, header: &[u8], body: usize) -> usize {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.write_all(header).unwrap();
    let chunk = vec![b'A'; 1 << 20];
    let mut sent = 0;
    while sent < body {
        match stream.write(&chunk[..chunk.len().min(body - sent)]) {
            Ok(n) => sent += n,
            Err(_) => break,
        }
    }
    let mut buf = [0u8; 16];
    let closed = match stream.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => matches!(
            e.kind(),
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
        ),
    };
    assert!(closed, "the master kept the connection open");
    sent
}

#[test]
fn a_256_mib_frame_and_divided_frames_before_authentication_are_refused_at_the_header() {
    let root = tempfile::tempdir().unwrap();
    let (cluster, master) = master(root.path());
    let before = peak_rss_kib(master.pid());
    let mut taken = Vec::new();
    for counter in 0..CONNECTIONS as u32 {
        // One frame declaring 256 MiB, and the first frame of a divided message (5 MiB).
        taken.push(push_until_closed(
            cluster.port,
            &header(counter, 256 << 20, b"hello ------"),
            64 << 20,
        ));
        taken.push(push_until_closed(
            cluster.port,
            &header(counter, (5 << 20) - 20, b"dapi ------d"),
            5 << 20,
        ));
    }
    let peak = peak_rss_kib(master.pid());
    eprintln!(
        "master peak RSS {} KiB before, {peak} KiB after {} hostile connections; bytes the \
         kernel took before each close: {taken:?}",
        before,
        2 * CONNECTIONS
    );
    assert!(
        peak < 64 << 10,
        "peak RSS {peak} KiB is over 64 MiB; master log:\n{}",
        master.log()
    );
    assert!(
        taken.iter().all(|&n| n < 32 << 20),
        "the master read on: {taken:?}"
    );
    assert!(
        master.log().contains("over the limit of 65536"),
        "{}",
        master.log()
    );
}
