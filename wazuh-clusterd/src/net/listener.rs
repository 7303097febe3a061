//! The master's listener: TCP, or mutual TLS over TCP (`<tls>`), one code path for both.

use std::io;
use std::net::SocketAddr;

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::server::TlsStream;
use wazuh_cluster_core::telemetry;
use wazuh_cluster_core::{BoxTransport, Connection, Listener, TransportError};
use wazuh_cluster_proto::{Fernet, NodeBudget};

use super::observed::{LinkSide, PeerObserver};
use super::per_ip::{PreHello, PreHelloSlots, Slot};
use super::replay::ReplayProtection;
use super::tls::{ClusterTls, HANDSHAKE_TIMEOUT, HelloNameBound};
use super::transport::{NODE_DIVIDED_BUDGET, stream_transport};
use crate::clock::SystemClock;

/// A TLS handshake that finished: the stream, its peer and its pre-`hello` slot.
type Handshaken = (TlsStream<TcpStream>, SocketAddr, Slot);

/// Accepts workers' connections; at most `max_pre_hello` per address wait for their `hello` at
/// a time, and a newer one closes the oldest (see the `net` module). With TLS, handshakes run
/// concurrently (one slow peer never holds the others up), each bounded by
/// [`HANDSHAKE_TIMEOUT`] and abandoned when its slot is taken.
#[derive(Debug)]
pub struct TcpClusterListener {
    listener: TcpListener,
    fernet: Fernet,
    clock: SystemClock,
    pre_hello: PreHelloSlots,
    max_pre_hello: usize,
    replay: ReplayProtection,
    tls: Option<ClusterTls>,
    handshakes: JoinSet<Option<Handshaken>>,
    /// Divided messages being joined, over every connection of this master.
    budget: NodeBudget,
    observer: PeerObserver,
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
            tls: None,
            handshakes: JoinSet::new(),
            budget: NodeBudget::new(NODE_DIVIDED_BUDGET),
            observer: PeerObserver::default(),
        })
    }

    /// Reports every connection's traffic, refusals and peer clock to `observer`.
    pub fn observed_by(mut self, observer: PeerObserver) -> Self {
        observer.track_budget("divided_messages", self.budget.clone());
        self.observer = observer;
        self
    }

    /// Checks what every connection receives with `replay` (off by default).
    pub fn with_replay(mut self, replay: ReplayProtection) -> Self {
        self.replay = replay;
        self
    }

    /// Requires mutual TLS with `tls` on every connection (`None`, the default: plain TCP).
    pub fn with_tls(mut self, tls: Option<ClusterTls>) -> Self {
        self.tls = tls;
        self
    }

    /// The address it listens on (with the real port when bound to port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The core's transport over `stream`, holding `slot` until its `hello` succeeds.
    fn transport<S>(&self, stream: S, peer: SocketAddr, slot: Slot) -> BoxTransport
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let inner = stream_transport(
            stream,
            peer,
            self.fernet.clone(),
            self.replay.guard(),
            Some(self.budget.clone()),
            self.clock,
            LinkSide {
                tag: "Master".to_owned(),
                observer: self.observer.clone(),
                peer: None,
            },
        );
        Box::pin(PreHello::new(inner, slot))
    }
}

/// Runs the server side of a TLS handshake on `stream`, giving up after [`HANDSHAKE_TIMEOUT`]
/// or when `slot` is taken by a newer connection.
async fn handshake(
    tls: ClusterTls,
    stream: TcpStream,
    peer: SocketAddr,
    slot: Slot,
) -> Option<Handshaken> {
    let outcome = tokio::select! {
        outcome = tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.acceptor().accept(stream)) => outcome,
        () = slot.evicted_now() => return None,
    };
    match outcome {
        Ok(Ok(stream)) => Some((stream, peer, slot)),
        Ok(Err(error)) => {
            telemetry::rejected("tls_handshake");
            tracing::warn!(
                tag = "Master",
                subtag = "Main",
                "TLS handshake with {peer} failed: {error}; closing the connection."
            );
            None
        }
        Err(_) => {
            telemetry::rejected("tls_handshake");
            tracing::warn!(
                tag = "Master",
                subtag = "Main",
                "TLS handshake with {peer} did not finish within {HANDSHAKE_TIMEOUT:?}; closing \
                 the connection."
            );
            None
        }
    }
}

#[async_trait]
impl Listener for TcpClusterListener {
    async fn accept(&mut self) -> Result<Option<Connection>, TransportError> {
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (stream, peer) = accepted.map_err(|e| {
                        TransportError::new(
                            self.listener
                                .local_addr()
                                .map_or("?".to_owned(), |a| a.to_string()),
                            e,
                        )
                    })?;
                    let (slot, evicted) = self.pre_hello.take(peer.ip(), self.max_pre_hello);
                    if evicted {
                        telemetry::rejected("per_address_limit");
                        tracing::warn!(
                            tag = "Master",
                            subtag = "Main",
                            "Closing the oldest connection from {} that has not said hello: \
                             {peer} arrived and {} may wait per address.",
                            peer.ip(),
                            self.max_pre_hello
                        );
                    }
                    tracing::debug!(tag = "Master", subtag = "Main", "Connection from {peer}.");
                    let _ = stream.set_nodelay(true);
                    match &self.tls {
                        None => {
                            let transport = self.transport(stream, peer, slot);
                            return Ok(Some(Connection { transport, peer }));
                        }
                        Some(tls) => {
                            self.handshakes.spawn(handshake(tls.clone(), stream, peer, slot));
                        }
                    }
                }
                Some(done) = self.handshakes.join_next(), if !self.handshakes.is_empty() => {
                    let Ok(Some((stream, peer, slot))) = done else {
                        continue;
                    };
                    let certificate = stream
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|chain| chain.first())
                        .cloned();
                    let inner = self.transport(stream, peer, slot);
                    let transport = Box::pin(HelloNameBound::new(inner, certificate, peer));
                    return Ok(Some(Connection { transport, peer }));
                }
            }
        }
    }
}
