//! The worker's way to its master: TCP, or mutual TLS over TCP (`<tls>`), one code path.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use wazuh_cluster_core::{Connection, Connector, TransportError};
use wazuh_cluster_proto::Fernet;
use wazuh_cluster_proto::payload::MasterLocation;

use super::observed::{LinkSide, PeerObserver};
use super::replay::ReplayProtection;
use super::tls::{ClusterTls, HANDSHAKE_TIMEOUT};
use super::transport::stream_transport;
use crate::clock::SystemClock;

/// Longest wait for the master to accept a TCP connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to the master: the first `<node>` (and `<port>`), or with failover, whichever node
/// the last refusal named as master, then each `<node>` in turn.
#[derive(Debug)]
pub struct TcpConnector {
    targets: Vec<Target>,
    followed: Mutex<Option<Target>>,
    next: AtomicUsize,
    fernet: Fernet,
    replay: ReplayProtection,
    tls: Option<ClusterTls>,
    /// The node name of the followed master (from its refusal), checked in its certificate.
    followed_name: Mutex<Option<String>>,
    clock: SystemClock,
    tag: String,
    observer: PeerObserver,
}

/// A `host:port` to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    host: String,
    port: u16,
}

impl Target {
    /// `host:port` or `[v6]:port`.
    fn parse(address: &str) -> Option<Self> {
        let (host, port) = address.rsplit_once(':')?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        Some(Self {
            host: host.to_owned(),
            port: port.parse().ok()?,
        })
    }
}

impl TcpConnector {
    /// A connector to `host:port` (an IP or a host name) encrypting with `fernet`; `tag` is the
    /// worker's log tag.
    pub fn new(
        host: impl Into<String>,
        port: u16,
        fernet: Fernet,
        clock: SystemClock,
        tag: impl Into<String>,
    ) -> Self {
        Self {
            targets: vec![Target {
                host: host.into(),
                port,
            }],
            followed: Mutex::new(None),
            next: AtomicUsize::new(0),
            fernet,
            replay: ReplayProtection::default(),
            tls: None,
            followed_name: Mutex::new(None),
            clock,
            tag: tag.into(),
            observer: PeerObserver::default(),
        }
    }

    /// Reports every connection's traffic and the master's clock to `observer`.
    pub fn observed_by(mut self, observer: PeerObserver) -> Self {
        self.observer = observer;
        self
    }

    /// Checks what every connection receives with `replay` (off by default).
    pub fn with_replay(mut self, replay: ReplayProtection) -> Self {
        self.replay = replay;
        self
    }

    /// Requires mutual TLS with `tls` (`None`, the default: plain TCP).
    pub fn with_tls(mut self, tls: Option<ClusterTls>) -> Self {
        self.tls = tls;
        self
    }

    /// Runs the client side of a TLS handshake with the master at `target` (`name` for errors).
    async fn handshake(
        &self,
        tls: &ClusterTls,
        stream: TcpStream,
        target: &Target,
        name: &str,
    ) -> Result<TlsStream<TcpStream>, TransportError> {
        let master = self
            .followed_name
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let connector = tls
            .connector(master.as_deref())
            .map_err(|e| TransportError::new(name, e))?;
        let server_name = ServerName::try_from(target.host.clone())
            .map_err(|e| TransportError::new(name, format!("{:?}: {e}", target.host)))?;
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, connector.connect(server_name, stream)).await
        {
            Ok(Ok(stream)) => Ok(stream),
            Ok(Err(e)) => Err(TransportError::new(
                name,
                format!("TLS handshake failed: {e}"),
            )),
            Err(_) => Err(TransportError::new(
                name,
                format!("TLS handshake did not finish within {HANDSHAKE_TIMEOUT:?}"),
            )),
        }
    }

    /// Adds `host:port` to the addresses tried in turn when the current one fails.
    pub fn also(mut self, host: impl Into<String>, port: u16) -> Self {
        self.targets.push(Target {
            host: host.into(),
            port,
        });
        self
    }

    /// Where the next [`connect`](Connector::connect) goes: the followed master, else the next
    /// address in turn.
    fn target(&self) -> Target {
        let followed = self.followed.lock().unwrap_or_else(|p| p.into_inner());
        followed.clone().unwrap_or_else(|| {
            let i = self.next.load(Ordering::Relaxed) % self.targets.len();
            self.targets[i].clone()
        })
    }

    /// After a failure at `target`: stop following it, move on to the next address.
    fn failed(&self, target: &Target) {
        let mut followed = self.followed.lock().unwrap_or_else(|p| p.into_inner());
        if followed.as_ref() == Some(target) {
            *followed = None;
            *self.followed_name.lock().unwrap_or_else(|p| p.into_inner()) = None;
        } else {
            self.next.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[async_trait]
impl Connector for TcpConnector {
    async fn connect(&self) -> Result<Connection, TransportError> {
        let target = self.target();
        let name = format!("{}:{}", target.host, target.port);
        let stream = match tokio::time::timeout(
            CONNECT_TIMEOUT,
            TcpStream::connect((target.host.as_str(), target.port)),
        )
        .await
        {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                self.failed(&target);
                return Err(TransportError::new(&name, e));
            }
            Err(_) => {
                self.failed(&target);
                return Err(TransportError::new(
                    &name,
                    format!("no answer within {CONNECT_TIMEOUT:?}"),
                ));
            }
        };
        let peer = stream
            .peer_addr()
            .map_err(|e| TransportError::new(&name, e))?;
        let _ = stream.set_nodelay(true);
        let (fernet, replay) = (self.fernet.clone(), self.replay.guard());
        let tag = LinkSide {
            tag: self.tag.clone(),
            observer: self.observer.clone(),
            peer: Some(wazuh_cluster_core::telemetry::MASTER_PEER),
        };
        // One connection at a time: the per-connection limits bound it.
        let transport = match &self.tls {
            None => stream_transport(stream, peer, fernet, replay, None, self.clock, tag),
            Some(tls) => {
                let stream = match self.handshake(tls, stream, &target, &name).await {
                    Ok(stream) => stream,
                    Err(e) => {
                        self.failed(&target);
                        return Err(e);
                    }
                };
                stream_transport(stream, peer, fernet, replay, None, self.clock, tag)
            }
        };
        Ok(Connection { transport, peer })
    }

    fn follow(&self, master: &MasterLocation) {
        match Target::parse(&master.address) {
            Some(target) => {
                *self.followed.lock().unwrap_or_else(|p| p.into_inner()) = Some(target);
                // A standby names the master by its address until it has heard its name;
                // only a node name can be checked in the master's certificate.
                let name = (master.name != master.address).then(|| master.name.clone());
                *self.followed_name.lock().unwrap_or_else(|p| p.into_inner()) = name;
            }
            None => tracing::warn!(
                tag = self.tag.as_str(),
                subtag = "Main",
                "The master's address {:?} is not host:port; trying the configured nodes.",
                master.address
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connector() -> TcpConnector {
        let fernet = Fernet::from_cluster_key("c98b62a9b6169ac5f67dae55ae4a9088").unwrap();
        TcpConnector::new("10.0.0.1", 1516, fernet, SystemClock::new(), "Worker w")
            .also("10.0.0.2", 1517)
    }

    fn target(host: &str, port: u16) -> Target {
        Target {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn failures_rotate_through_the_nodes_and_a_followed_master_goes_first() {
        let c = connector();
        assert_eq!(c.target(), target("10.0.0.1", 1516));
        c.failed(&c.target());
        assert_eq!(c.target(), target("10.0.0.2", 1517));
        c.failed(&c.target());
        assert_eq!(c.target(), target("10.0.0.1", 1516));
        c.follow(&MasterLocation {
            name: "m3".into(),
            address: "[::1]:1518".into(),
        });
        assert_eq!(c.target(), target("::1", 1518));
        c.failed(&c.target());
        assert_eq!(
            c.target(),
            target("10.0.0.1", 1516),
            "a dead master is dropped"
        );
        c.follow(&MasterLocation {
            name: "m3".into(),
            address: "not an address".into(),
        });
        assert_eq!(c.target(), target("10.0.0.1", 1516));
    }
}
