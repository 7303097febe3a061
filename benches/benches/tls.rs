//! The cost of mutual TLS on a node-to-node link: 1 MiB messages sent one way over a real
//! loopback connection through the daemon's transport (`stream_transport`: framing, Fernet,
//! timers), once on plain TCP (Fernet alone, as Wazuh) and once inside TLS 1.3 (`<tls>`, rustls
//! on ring). Both ends run in one tokio runtime; a round sends 8 messages while the other end
//! reads them. Outside test mode it prints both rates and their ratio (goal: TLS+Fernet at
//! least 0.5 of Fernet alone).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::ServerName;
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use wazuh_cluster_benches::compare;
use wazuh_cluster_core::BoxTransport;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::{Fernet, Message};
use wazuh_clusterd::clock::SystemClock;
use wazuh_clusterd::config::TlsFiles;
use wazuh_clusterd::net::{ClusterTls, stream_transport};

const KEY: &str = "c98b62a9b6169ac5f67dae55ae4a9088";
const SIZE: usize = 1 << 20;
/// Messages per timed round.
const ROUND: usize = 8;

/// A connected pair of transports (sender, receiver) on 127.0.0.1, inside TLS when given.
fn link(runtime: &Runtime, tls: Option<&ClusterTls>) -> (BoxTransport, BoxTransport) {
    runtime.block_on(async {
        let fernet = Fernet::from_cluster_key(KEY).expect("valid key");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let (client, server) = tokio::join!(TcpStream::connect(addr), listener.accept());
        let (client, (server, peer)) = (client.expect("connect"), server.expect("accept"));
        let transport = |stream, peer: SocketAddr| (stream, peer, fernet.clone());
        let (c, s) = (transport(client, addr), transport(server, peer));
        let clock = SystemClock::new();
        match tls {
            None => (
                stream_transport(c.0, c.1, c.2, None, None, clock, "bench".into()),
                stream_transport(s.0, s.1, s.2, None, None, clock, "bench".into()),
            ),
            Some(tls) => {
                let name = ServerName::try_from("127.0.0.1").expect("an IP is a name");
                let connector = tls.connector(None).expect("client config");
                let (client, server) =
                    tokio::join!(connector.connect(name, c.0), tls.acceptor().accept(s.0));
                (
                    stream_transport(
                        client.expect("client"),
                        c.1,
                        c.2,
                        None,
                        None,
                        clock,
                        "b".into(),
                    ),
                    stream_transport(
                        server.expect("server"),
                        s.1,
                        s.2,
                        None,
                        None,
                        clock,
                        "b".into(),
                    ),
                )
            }
        }
    })
}

/// A link past its first message (`hello`, as every session starts): the receiver's
/// pre-authentication limit (64 KiB frames) no longer applies.
fn authenticated(
    runtime: &Runtime,
    link: (BoxTransport, BoxTransport),
) -> (BoxTransport, BoxTransport) {
    let (mut sender, mut receiver) = link;
    runtime.block_on(async {
        let hello = Message::new(1, names::HELLO, "worker01 bench worker 4.9.2");
        sender.send(hello).await.expect("send hello");
        receiver.next().await.expect("open").expect("hello decoded");
    });
    (sender, receiver)
}

/// Sends `count` messages from `sender` while `receiver` reads them.
async fn transfer(sender: &mut BoxTransport, receiver: &mut BoxTransport, count: usize) {
    let message = Message::new(7, names::SYN_I_W_M_P, vec![b'a'; SIZE]);
    let send = async {
        for _ in 0..count {
            sender.send(message.clone()).await.expect("send");
        }
    };
    let receive = async {
        for _ in 0..count {
            let got = receiver.next().await.expect("open").expect("decoded");
            assert_eq!(got.payload.len(), SIZE);
        }
    };
    tokio::join!(send, receive);
}

/// Certificates for a master and a worker of one CA, loaded as each side's `<tls>`.
fn tls_pair(dir: &std::path::Path) -> (ClusterTls, ClusterTls) {
    wazuh_clusterd::certs::make(dir, &["master01".into(), "worker01".into()]).expect("certs");
    let load = |name: &str| {
        ClusterTls::load(&TlsFiles {
            ca: dir.join("ca.pem"),
            cert: dir.join(format!("{name}.pem")),
            key: dir.join(format!("{name}.key")),
        })
        .expect("load")
    };
    (load("master01"), load("worker01"))
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temporary folder");
    let (_master, worker) = tls_pair(dir.path());
    let mut links = [
        ("fernet_tcp", authenticated(&runtime, link(&runtime, None))),
        (
            "fernet_in_tls",
            authenticated(&runtime, link(&runtime, Some(&worker))),
        ),
    ];
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let mut group = criterion.benchmark_group("link_1MiB");
    group.throughput(Throughput::Bytes((SIZE * ROUND) as u64));
    for (name, (sender, receiver)) in &mut links {
        group.bench_function(*name, |b| {
            b.iter_custom(|rounds| {
                let start = Instant::now();
                for _ in 0..rounds {
                    runtime.block_on(transfer(sender, receiver, ROUND));
                }
                start.elapsed()
            })
        });
    }
    group.finish();
    criterion.final_summary();
    if compare::is_test_mode() {
        return;
    }
    let rates: Vec<f64> = links
        .iter_mut()
        .map(|(_, (sender, receiver))| {
            compare::best_rate(SIZE * ROUND, Duration::from_secs(5), || {
                runtime.block_on(transfer(sender, receiver, ROUND))
            })
        })
        .collect();
    println!(
        "\n1 MiB messages over loopback: Fernet alone {:.0} MB/s, TLS 1.3 + Fernet {:.0} MB/s, \
         ratio {:.2} (goal >= 0.5)",
        rates[0],
        rates[1],
        rates[1] / rates[0]
    );
}
