//! End-to-end: mutual TLS between real processes (`<tls>`, certificates from
//! `wazuh-clusterd certs`). A TLS cluster joins; a worker whose certificate comes from another CA
//! is refused at the handshake; a peer whose certificate names another node is refused at its
//! `hello` (and a worker so configured does not start); a plain TCP peer gets nothing; `-t`
//! reads the files.

use std::io::Read;
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::ServerName;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::{Fernet, Message};
use wazuh_clusterd::clock::SystemClock;
use wazuh_clusterd::config::{NodeType, TlsFiles};
use wazuh_clusterd::demo::{
    LocalCluster, NodeProcess, node_names, wait_for_cluster, wait_for_nodes, wait_until,
};
use wazuh_clusterd::net::{ClusterTls, stream_transport};

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

/// Connects to the master with `cert` of the cluster CA (no check of one's own name, unlike the
/// daemon) and says `hello` as `name`; the answer's command, `None` when it closed instead.
fn hello_over_tls(cluster: &LocalCluster, cert: &str, name: &str) -> Option<String> {
    let dir = cluster.tls.clone().unwrap();
    let tls = ClusterTls::load(&TlsFiles {
        ca: dir.join("ca.pem"),
        cert: dir.join(format!("{cert}.pem")),
        key: dir.join(format!("{cert}.key")),
    })
    .unwrap();
    let fernet = Fernet::from_cluster_key(cluster.key.as_str()).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", cluster.port))
            .await
            .unwrap();
        let peer = stream.peer_addr().unwrap();
        let server = ServerName::try_from("127.0.0.1").unwrap();
        let stream = tls
            .connector(None)
            .unwrap()
            .connect(server, stream)
            .await
            .unwrap();
        let mut link = stream_transport(
            stream,
            peer,
            fernet,
            None,
            None,
            SystemClock::new(),
            "t".into(),
        );
        let hello = Message::new(1, names::HELLO, format!("{name} demo worker 4.9.2"));
        link.send(hello).await.unwrap();
        let answer = tokio::time::timeout(WAIT, link.next())
            .await
            .expect("an answer or a close");
        answer.and_then(Result::ok).map(|m| m.command.to_string())
    })
}

#[test]
fn a_certificate_for_another_node_name_is_refused_at_hello() {
    let root = tempfile::tempdir().unwrap();
    let cluster = tls_cluster(root.path());
    let master = master(&cluster);
    let dir = cluster.tls.clone().unwrap();
    wazuh_clusterd::certs::make(&dir, &["worker02".to_owned()]).unwrap();
    assert_eq!(hello_over_tls(&cluster, "worker02", "worker01"), None);
    assert!(
        master
            .log()
            .contains("its certificate is not valid for the node name \"worker01\" of its hello"),
        "{}",
        master.log()
    );
    assert_eq!(node_names(&master.home), Some(vec!["master01".to_owned()]));
    // The same certificate under its own name is welcome.
    assert_eq!(
        hello_over_tls(&cluster, "worker02", "worker02").as_deref(),
        Some("ok")
    );
}

/// A worker whose `<tls><cert>` names another node refuses to start: the master would refuse it.
#[test]
fn a_worker_with_a_certificate_for_another_name_does_not_start() {
    let root = tempfile::tempdir().unwrap();
    let cluster = tls_cluster(root.path());
    let dir = cluster.tls.clone().unwrap();
    wazuh_clusterd::certs::make(&dir, &["worker02".to_owned()]).unwrap();
    let mut spec = cluster.spec("worker01", NodeType::Worker);
    spec.tls = Some(TlsFiles {
        ca: dir.join("ca.pem"),
        cert: dir.join("worker02.pem"),
        key: dir.join("worker02.key"),
    });
    let mut worker = cluster.start(&spec, None).unwrap();
    assert!(wait_until(WAIT, || !worker.is_running()), "it kept running");
    assert!(
        worker
            .log()
            .contains("is not valid for this node's name \"worker01\""),
        "{}",
        worker.log()
    );
}

/// `wazuh-clusterd --home HOME -t`: exit status and stdout + stderr.
fn test_config(home: &Path) -> (bool, String) {
    let output = std::process::Command::new(DAEMON)
        .arg("--home")
        .arg(home)
        .arg("-t")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn dash_t_reads_the_tls_files_and_checks_the_node_name() {
    let root = tempfile::tempdir().unwrap();
    let cluster = tls_cluster(root.path());
    let home = cluster.home("worker01");
    let mut spec = cluster.spec("worker01", NodeType::Worker);
    wazuh_clusterd::demo::write_home(&home, &spec).unwrap();
    let (ok, text) = test_config(&home);
    assert!(ok && text.contains("mutual TLS"), "{text}");

    let dir = cluster.tls.clone().unwrap();
    wazuh_clusterd::certs::make(&dir, &["worker02".to_owned()]).unwrap();
    spec.tls = Some(TlsFiles {
        ca: dir.join("ca.pem"),
        cert: dir.join("worker02.pem"),
        key: dir.join("worker02.key"),
    });
    wazuh_clusterd::demo::write_home(&home, &spec).unwrap();
    let (ok, text) = test_config(&home);
    assert!(!ok, "{text}");
    assert!(
        text.contains("is not valid for this node's name \"worker01\""),
        "{text}"
    );

    spec.tls = Some(TlsFiles {
        ca: dir.join("missing.pem"),
        ..spec.tls.clone().unwrap()
    });
    wazuh_clusterd::demo::write_home(&home, &spec).unwrap();
    let (ok, text) = test_config(&home);
    assert!(
        !ok && text.contains("missing.pem") && text.contains("<tls><ca>"),
        "{text}"
    );
}
