//! The master's TCP listener.

use std::io;
use std::net::SocketAddr;

use async_trait::async_trait;
use tokio::net::TcpListener;
use wazuh_cluster_core::{Connection, Listener, TransportError};
use wazuh_cluster_proto::Fernet;

use super::per_ip::{Counted, PerIpCounter};
use super::transport::tcp_transport;
use crate::clock::SystemClock;

/// Accepts workers' TCP connections, at most `max_per_ip` at a time from one address.
#[derive(Debug)]
pub struct TcpClusterListener {
    listener: TcpListener,
    fernet: Fernet,
    clock: SystemClock,
    per_ip: PerIpCounter,
    max_per_ip: usize,
}

impl TcpClusterListener {
    /// Listens on `addr`, encrypting with `fernet`, capping connections per address at
    /// `max_per_ip` ([`super::MAX_CONNECTIONS_PER_IP`] in the daemon).
    pub async fn bind(
        addr: SocketAddr,
        fernet: Fernet,
        clock: SystemClock,
        max_per_ip: usize,
    ) -> io::Result<Self> {
        Ok(Self {
            listener: TcpListener::bind(addr).await?,
            fernet,
            clock,
            per_ip: PerIpCounter::default(),
            max_per_ip,
        })
    }

    /// The address it listens on (with the real port when bound to port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

#[async_trait]
impl Listener for TcpClusterListener {
    async fn accept(&mut self) -> Result<Option<Connection>, TransportError> {
        loop {
            let (stream, peer) = self.listener.accept().await.map_err(|e| {
                TransportError::new(
                    self.listener
                        .local_addr()
                        .map_or("?".to_owned(), |a| a.to_string()),
                    e,
                )
            })?;
            let Some(slot) = self.per_ip.try_take(peer.ip(), self.max_per_ip) else {
                tracing::warn!(
                    tag = "Master",
                    subtag = "Main",
                    "Refused the connection from {peer}: {} already has {} connections open, the \
                     limit per address.",
                    peer.ip(),
                    self.max_per_ip
                );
                drop(stream);
                continue;
            };
            tracing::debug!(tag = "Master", subtag = "Main", "Connection from {peer}.");
            let inner = tcp_transport(
                stream,
                peer,
                self.fernet.clone(),
                self.clock,
                "Master".to_owned(),
            );
            return Ok(Some(Connection {
                transport: Box::pin(Counted { inner, _slot: slot }),
                peer,
            }));
        }
    }
}
