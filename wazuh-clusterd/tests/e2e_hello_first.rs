//! End-to-end: a peer that has the cluster key but never says `hello` gets nothing from the
//! real master: an agent registration sent first (`sendsync`, authd's shape) is refused with
//! 3000, the connection is closed, and no agent is registered.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::WazuhException;
use wazuh_cluster_proto::{Fernet, Limits, Message, MessageDecoder, encode_message};
use wazuh_clusterd::config::NodeType;
use wazuh_clusterd::control::commands::agents::protocol::AGENT_LIST;
use wazuh_clusterd::demo::{LocalCluster, query, wait_for_nodes};

const DAEMON: &str = env!("CARGO_BIN_EXE_wazuh-clusterd");
const WAIT: Duration = Duration::from_secs(20);

const REGISTRATION: &str = r#"1000 {"daemon_name": "authd", "message": {"function": "add", "arguments": {"name": "intruder", "ip": "any"}}}"#;

/// Reads messages until one comes whole; `None` when the master closed the connection first.
fn read_message(stream: &mut TcpStream, decoder: &mut MessageDecoder) -> Option<Message> {
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(decoded) = decoder.next_message(Duration::ZERO).expect("a valid frame") {
            return Some(decoded.message);
        }
        match stream.read(&mut buf) {
            Ok(0) => return None,
            Ok(n) => decoder.push(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return None,
            Err(e) => panic!("reading from the master: {e}"),
        }
    }
}

#[test]
fn a_registration_before_hello_is_refused_the_connection_closed_and_nothing_registered() {
    let root = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::new(Path::new(DAEMON), root.path()).expect("cluster settings");
    let master = cluster.start_node("master01", NodeType::Master).unwrap();
    assert!(
        wait_for_nodes(&master.home, &["master01"], WAIT),
        "{}",
        master.log()
    );

    let fernet = Fernet::from_cluster_key(cluster.key.as_str()).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut frames = BytesMut::new();
    let request = Message::new(7, names::SENDSYNC, REGISTRATION.as_bytes().to_vec());
    encode_message(&request, Some(&fernet), now, &mut frames);
    let mut stream = TcpStream::connect(("127.0.0.1", cluster.port)).unwrap();
    stream.write_all(&frames).unwrap();

    let mut decoder = MessageDecoder::new(Some(fernet), Limits::default());
    let reply = read_message(&mut stream, &mut decoder).expect("a refusal before the close");
    assert_eq!(reply.counter, 7);
    assert_eq!(reply.command, names::ERR, "{reply:?}");
    let error = WazuhException::from_json(&reply.payload).expect("Wazuh JSON");
    assert_eq!(error.code, 3000, "{error}");
    assert!(error.to_string().contains("hello first"), "{error}");
    assert!(
        read_message(&mut stream, &mut decoder).is_none(),
        "the master kept the connection open"
    );

    let agents = query(&master.home, AGENT_LIST, "{}").expect("agent_list");
    assert_eq!(agents["totalItems"], 0, "{agents}");
    assert!(
        master.log().contains("before a successful hello"),
        "cluster.log names the refusal:\n{}",
        master.log()
    );
}
