//! End-to-end: replayed messages against the real master (default `<max_message_age>`, 300 s).
//! A frame sent again on the same connection, a recorded `hello` replayed on a fresh connection
//! by someone without the key, a token older than the maximum age and a request counter that
//! repeats each close the connection, and the master says why.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::{Fernet, Limits, Message, MessageDecoder, encode_message};
use wazuh_clusterd::config::NodeType;
use wazuh_clusterd::demo::{LocalCluster, NodeProcess, wait_for_nodes, wait_until};

const DAEMON: &str = env!("CARGO_BIN_EXE_wazuh-clusterd");
const WAIT: Duration = Duration::from_secs(20);

struct Peer {
    stream: TcpStream,
    decoder: MessageDecoder,
}

impl Peer {
    fn connect(port: u16, fernet: &Fernet) -> Peer {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        Peer {
            stream,
            decoder: MessageDecoder::new(Some(fernet.clone()), Limits::default()),
        }
    }

    fn send_raw(&mut self, frames: &[u8]) {
        self.stream.write_all(frames).unwrap();
    }

    /// The next message; `None` when the master closed the connection first.
    fn read(&mut self) -> Option<Message> {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(decoded) = self.decoder.next_message(Duration::ZERO).unwrap() {
                return Some(decoded.message);
            }
            match self.stream.read(&mut buf) {
                Ok(0) => return None,
                Ok(n) => self.decoder.push(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return None,
                Err(e) => panic!("reading from the master: {e}"),
            }
        }
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn frames(fernet: &Fernet, counter: u32, command: &str, payload: &str, time: u64) -> Vec<u8> {
    let mut out = BytesMut::new();
    let command = wazuh_cluster_proto::Command::new(command.as_bytes()).unwrap();
    encode_message(
        &Message::new(counter, command, payload.as_bytes().to_vec()),
        Some(fernet),
        time,
        &mut out,
    );
    out.to_vec()
}

fn start_master(root: &Path) -> (LocalCluster, NodeProcess, Fernet) {
    let cluster = LocalCluster::new(Path::new(DAEMON), root).expect("cluster settings");
    let master = cluster.start_node("master01", NodeType::Master).unwrap();
    assert!(wait_for_nodes(&master.home, &["master01"], WAIT));
    let fernet = Fernet::from_cluster_key(cluster.key.as_str()).unwrap();
    (cluster, master, fernet)
}

fn hello(name: &str) -> String {
    format!("{name} demo worker 4.9.2")
}

fn log_says(master: &NodeProcess, text: &str) {
    assert!(
        wait_until(WAIT, || master.log().contains(text)),
        "cluster.log lacks {text:?}:\n{}",
        master.log()
    );
}

#[test]
fn a_frame_sent_again_on_its_connection_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let (cluster, master, fernet) = start_master(root.path());
    let mut peer = Peer::connect(cluster.port, &fernet);
    peer.send_raw(&frames(&fernet, 10, "hello", &hello("w1"), now()));
    assert_eq!(peer.read().expect("hello answered").command, names::OK);
    let keepalive = frames(&fernet, 11, "echo-c", "keepalive", now());
    peer.send_raw(&keepalive);
    assert_eq!(
        peer.read().expect("keepalive answered").command,
        names::OK_M
    );
    peer.send_raw(&keepalive);
    assert!(peer.read().is_none(), "the replayed frame was answered");
    log_says(
        &master,
        "request counter 11 is not after the previous request's 11",
    );
}

#[test]
fn a_recorded_hello_replayed_on_a_fresh_connection_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let (cluster, master, fernet) = start_master(root.path());
    let recorded = frames(&fernet, 10, "hello", &hello("w1"), now());
    let mut first = Peer::connect(cluster.port, &fernet);
    first.send_raw(&recorded);
    assert_eq!(first.read().expect("hello answered").command, names::OK);
    drop(first);
    // The recorder has the bytes, not the key: the very same token, on a new connection.
    let mut replayer = Peer::connect(cluster.port, &fernet);
    replayer.send_raw(&recorded);
    assert!(replayer.read().is_none(), "the replayed hello was answered");
    log_says(&master, "was already received by this node");
}

#[test]
fn a_token_older_than_the_maximum_age_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let (cluster, master, fernet) = start_master(root.path());
    let mut peer = Peer::connect(cluster.port, &fernet);
    peer.send_raw(&frames(&fernet, 10, "hello", &hello("w1"), now() - 301));
    assert!(peer.read().is_none(), "the old hello was answered");
    log_says(&master, "is older than 300 s");
    let mut fresh = Peer::connect(cluster.port, &fernet);
    fresh.send_raw(&frames(&fernet, 10, "hello", &hello("w1"), now() - 200));
    assert_eq!(
        fresh
            .read()
            .expect("a token within the age is fine")
            .command,
        names::OK
    );
}

#[test]
fn a_repeated_counter_with_a_fresh_token_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let (cluster, master, fernet) = start_master(root.path());
    let mut peer = Peer::connect(cluster.port, &fernet);
    peer.send_raw(&frames(&fernet, 10, "hello", &hello("w1"), now()));
    assert_eq!(peer.read().expect("hello answered").command, names::OK);
    peer.send_raw(&frames(&fernet, 10, "echo-c", "keepalive", now()));
    assert!(peer.read().is_none(), "the repeated counter was answered");
    log_says(
        &master,
        "request counter 10 is not after the previous request's 10",
    );
}
