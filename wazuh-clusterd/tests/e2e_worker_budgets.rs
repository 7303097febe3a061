//! End-to-end, against the real master, budgets that hold against workers that have the
//! cluster key and said `hello`: the node's string budget is shared fairly (hogs declaring the
//! largest strings cannot keep an honest worker's agent-info out), and no single frame may be
//! larger than Wazuh's sender ever writes (each connection could buffer 256 MiB before).

mod hostile_peer;

use std::path::Path;

use hostile_peer::{Peer, WAIT};
use wazuh_cluster_core::agents::string_shares::NODE_STRING_BUDGET;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::limits::MAX_FRAME_SIZE;
use wazuh_cluster_proto::payload::{
    WazuhException, new_str_payload, parse_string_id, str_upd_requests,
};
use wazuh_cluster_proto::{Fernet, FrameHeader};
use wazuh_clusterd::config::NodeType;
use wazuh_clusterd::demo::{LocalCluster, NodeProcess, wait_for_nodes};

const DAEMON: &str = env!("CARGO_BIN_EXE_wazuh-clusterd");

/// A master alone, and the key to speak to it.
fn master() -> (tempfile::TempDir, LocalCluster, NodeProcess, Fernet) {
    let root = tempfile::tempdir().unwrap();
    let cluster = LocalCluster::new(Path::new(DAEMON), root.path()).expect("cluster");
    let master = cluster.start_node("master01", NodeType::Master).unwrap();
    assert!(wait_for_nodes(&master.home, &["master01"], WAIT));
    let fernet = Fernet::from_cluster_key(cluster.key.as_str()).unwrap();
    (root, cluster, master, fernet)
}

#[test]
fn a_frame_larger_than_wazuh_ever_sends_closes_the_connection_before_it_is_buffered() {
    let (_root, cluster, master, fernet) = master();
    let mut evil = Peer::worker(cluster.port, &fernet, "evil01");
    let header = FrameHeader {
        counter: 99,
        size: 256 << 20,
        command: names::SENDSYNC,
        divided: false,
    };
    evil.send_raw(&header.encode());
    // Whatever follows is not kept: the master closed the connection at the header.
    evil.send_raw(&vec![b'A'; 1 << 20]);
    assert!(evil.closed(), "the master kept the connection open");
    let limit = MAX_FRAME_SIZE.to_string();
    assert!(
        master.log().contains(&limit),
        "the master's log does not name the limit {limit}:\n{}",
        master.log()
    );
    // An honest worker is still served.
    let mut honest = Peer::worker(cluster.port, &fernet, "worker01");
    let echo = honest
        .request(names::ECHO_C, b"keepalive")
        .map(|m| m.command);
    assert_eq!(echo, Some(names::OK_M));
}

#[test]
fn hogs_declaring_the_largest_strings_cannot_keep_an_honest_worker_out() {
    let (_root, cluster, _master, fernet) = master();

    let mut hogs: Vec<Peer> = (1..=4)
        .map(|i| Peer::worker(cluster.port, &fernet, &format!("hog0{i}")))
        .collect();
    let declared: Vec<Option<u32>> = hogs
        .iter_mut()
        .map(|hog| {
            hog.request(names::NEW_STR, &new_str_payload(NODE_STRING_BUDGET as u64))
                .filter(|reply| reply.command == names::OK)
                .map(|reply| parse_string_id(&reply.payload).unwrap())
        })
        .collect();
    let first = declared[0].expect("the first hog alone may declare the whole budget");
    for (i, refused) in declared.iter().enumerate().skip(1) {
        assert!(refused.is_none(), "hog {i} declared past the node's budget");
    }

    let mut honest = Peer::worker(cluster.port, &fernet, "worker01");
    let data: Vec<u8> = (0..(3 << 20)).map(|i| (i % 251) as u8).collect();
    let reply = honest
        .request(names::NEW_STR, &new_str_payload(data.len() as u64))
        .expect("an answer to the honest new_str");
    assert_eq!(
        reply.command,
        names::OK,
        "the honest worker's string was refused: {}",
        WazuhException::from_err_reply(&reply.payload)
    );
    let id = parse_string_id(&reply.payload).unwrap();
    for (command, payload) in str_upd_requests(id, &data) {
        let reply = honest.request(command, &payload).expect("str_upd answered");
        assert_eq!(reply.command, names::OK, "honest str_upd refused");
    }

    // The hog that held the whole budget was squeezed out: its string is gone.
    let (command, payload) = str_upd_requests(first, b"more").next().unwrap();
    let reply = hogs[0]
        .request(command, &payload)
        .expect("an answer to the hog");
    assert_eq!(
        reply.command,
        names::ERR,
        "the hog's string is still pending"
    );
}
