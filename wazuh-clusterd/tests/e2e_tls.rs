//! End-to-end: mutual TLS between real processes (`<tls>`, certificates from
//! `wazuh-clusterd certs`). A TLS cluster joins; a worker whose certificate comes from another CA
//! is refused at the handshake; a worker whose certificate names another node is refused at its
//! `hello`; a plain TCP peer gets nothing.

use std::io::Read;
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use wazuh_clusterd::config::{NodeType, TlsFiles};
use wazuh_clusterd::demo::{
    LocalCluster, NodeProcess, node_names, wait_for_cluster, wait_for_nodes, wait_until,
};

const DAEMON: &str = env!("CARGO_BIN_EXE_wazuh-clusterd");
const WAIT: Duration = Duration::from_secs(20);

fn tls_cluster(root: &Path) -> LocalCluster {
    LocalCluster::new(Path::new(DAEMON), root)
        .expect("cluster settings")
        .with_tls()
}

fn master(cluster: &LocalCluster) -> NodeProcess {
    let master = cluster.start_node("master01", NodeType::Master).unwrap();
    assert!(
        wait_for_nodes(&master.home, &["master01"], WAIT),
        "{}",
        master.log()
    );
    master
}

/// Starts worker01 presenting `cert`/`key` (trusting the cluster's CA) and waits until the
/// master's log says `refusal`; the master never lists it.
fn refused_worker(cluster: &LocalCluster, master: &NodeProcess, files: TlsFiles, refusal: &str) {
    let mut spec = cluster.spec("worker01", NodeType::Worker);
    spec.tls = Some(files);
    let _worker = cluster.start(&spec, None).unwrap();
    assert!(
        wait_until(WAIT, || master.log().contains(refusal)),
        "master log lacks {refusal:?}:\n{}",
        master.log()
    );
    assert_eq!(node_names(&master.home), Some(vec!["master01".to_owned()]));
}

#[test]
fn a_tls_cluster_joins_and_a_plain_tcp_peer_gets_nothing() {
    let root = tempfile::tempdir().unwrap();
    let cluster = tls_cluster(root.path());
    let master = master(&cluster);
    let worker = cluster.start_node("worker01", NodeType::Worker).unwrap();
    assert!(
        wait_for_cluster(
            &[&master.home, &worker.home],
            &["master01", "worker01"],
            WAIT
        ),
        "master log:\n{}\nworker log:\n{}",
        master.log(),
        worker.log()
    );
    // Without TLS the master answers nothing and closes once the handshake fails.
    let mut plain = TcpStream::connect(("127.0.0.1", cluster.port)).unwrap();
    std::io::Write::write_all(&mut plain, b"\x00\x00\x00\x01\x00\x00\x00\x00hello ------").unwrap();
    plain.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = [0u8; 64];
    let answered = matches!(plain.read(&mut buf), Ok(n) if n > 0 && !buf.starts_with(b"\x15"));
    assert!(!answered, "a plain TCP peer got an answer: {:?}", &buf[..8]);
    assert!(
        wait_until(WAIT, || master
            .log()
            .contains("TLS handshake with 127.0.0.1:")),
        "{}",
        master.log()
    );
}

#[test]
fn a_certificate_from_another_ca_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let cluster = tls_cluster(root.path());
    let master = master(&cluster);
    let other = root.path().join("other-ca");
    wazuh_clusterd::certs::make(&other, &["worker01".to_owned()]).unwrap();
    let files = TlsFiles {
        ca: cluster.tls.as_ref().unwrap().join("ca.pem"),
        cert: other.join("worker01.pem"),
        key: other.join("worker01.key"),
    };
    refused_worker(&cluster, &master, files, "UnknownIssuer");
}

#[test]
fn a_certificate_for_another_node_name_is_refused_at_hello() {
    let root = tempfile::tempdir().unwrap();
    let cluster = tls_cluster(root.path());
    let master = master(&cluster);
    let dir = cluster.tls.clone().unwrap();
    wazuh_clusterd::certs::make(&dir, &["worker02".to_owned()]).unwrap();
    let files = TlsFiles {
        ca: dir.join("ca.pem"),
        cert: dir.join("worker02.pem"),
        key: dir.join("worker02.key"),
    };
    refused_worker(
        &cluster,
        &master,
        files,
        "its certificate is not valid for the node name \"worker01\" of its hello",
    );
}
