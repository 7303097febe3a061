//! The master's TCP listener.

use std::io;
use std::net::SocketAddr;

use async_trait::async_trait;
use tokio::net::TcpListener;
use wazuh_cluster_core::{Connection, Listener, TransportError};
use wazuh_cluster_proto::Fernet;

use super::per_ip::{PreHello, PreHelloSlots};
use super::replay::ReplayProtection;
use super::transport::tcp_transport;
use crate::clock::SystemClock;

/// Accepts workers' TCP connections; at most `max_pre_hello` per address wait for their
/// `hello` at a time, and a newer one closes the oldest (see [`super::per_ip`]).
#[derive(Debug)]
pub struct TcpClusterListener {
    listener: TcpListener,
    fernet: Fernet,
    clock: SystemClock,
    pre_hello: PreHelloSlots,
    max_pre_hello: usize,
    replay: ReplayProtection,
}

impl TcpClusterListener {
    /// Listens on `addr`, encrypting with `fernet`, letting `max_pre_hello` connections per
    /// address wait for their `hello` ([`super::MAX_PRE_HELLO_PER_IP`] in the daemon).
    pub async fn bind(
        addr: SocketAddr,
        fernet: Fernet,
        clock: SystemClock,
        max_pre_hello: usize,
    ) -> io::Result<Self> {
        Ok(Self {
            listener: TcpListener::bind(addr).await?,
            fernet,
            clock,
            pre_hello: PreHelloSlots::default(),
            max_pre_hello,
            replay: ReplayProtection::default(),
        })
    }

    /// Checks what every connection receives with `replay` (off by default).
    pub fn with_replay(mut self, replay: ReplayProtection) -> Self {
        self.replay = replay;
        self
    }

    /// The address it listens on (with the real port when bound to port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

#[async_trait]
impl Listener for TcpClusterListener {
    async fn accept(&mut self) -> Result<Option<Connection>, TransportError> {
        let (stream, peer) = self.listener.accept().await.map_err(|e| {
            TransportError::new(
                self.listener
                    .local_addr()
                    .map_or("?".to_owned(), |a| a.to_string()),
                e,
            )
        })?;
        let (slot, evicted) = self.pre_hello.take(peer.ip(), self.max_pre_hello);
        if evicted {
            tracing::warn!(
                tag = "Master",
                subtag = "Main",
                "Closing the oldest connection from {} that has not said hello: {peer} \
                     arrived and {} may wait per address.",
                peer.ip(),
                self.max_pre_hello
            );
        }
        tracing::debug!(tag = "Master", subtag = "Main", "Connection from {peer}.");
        let inner = tcp_transport(
            stream,
            peer,
            self.fernet.clone(),
            self.replay.guard(),
            self.clock,
            "Master".to_owned(),
        );
        Ok(Some(Connection {
            transport: Box::pin(PreHello::new(inner, slot)),
            peer,
        }))
    }
}
