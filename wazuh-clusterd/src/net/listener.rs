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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::BytesMut;
    use futures_util::StreamExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::sync::mpsc;
    use wazuh_cluster_proto::command::names;
    use wazuh_cluster_proto::division::DIVIDED_FRAME_PAYLOAD;
    use wazuh_cluster_proto::{FrameHeader, Message, encode_message};

    use super::*;

    const KEY: &str = "abcdefghijklmnopqrstuvwxyz012345";
    const WAIT: Duration = Duration::from_secs(20);
    /// Six divided frames' worth: small enough for a unit test, same rules as the node's 128 MiB.
    const BUDGET: usize = 6 * DIVIDED_FRAME_PAYLOAD;

    fn wire(message: &Message) -> BytesMut {
        let mut out = BytesMut::new();
        let fernet = Fernet::from_cluster_key(KEY).unwrap();
        encode_message(message, Some(&fernet), 1_800_000_000, &mut out);
        out
    }

    /// Waits until `check` holds, checking every 10 ms for at most [`WAIT`].
    async fn until(mut check: impl FnMut() -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + WAIT;
        while tokio::time::Instant::now() < deadline {
            if check() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        check()
    }

    #[tokio::test]
    async fn a_peer_hogging_the_divided_budget_cannot_keep_an_honest_worker_out() {
        let mut listener = TcpClusterListener::bind(
            "127.0.0.1:0".parse().unwrap(),
            Fernet::from_cluster_key(KEY).unwrap(),
            SystemClock::new(),
            4,
        )
        .await
        .unwrap();
        listener.budget = NodeBudget::new(BUDGET);
        let budget = listener.budget.clone();
        let addr = listener.local_addr().unwrap();
        // Every message received, tagged by connection; a closed connection sends `None`.
        let (tx, mut rx) = mpsc::unbounded_channel::<(usize, Option<Message>)>();
        tokio::spawn(async move {
            let mut index = 0;
            while let Ok(Some(connection)) = listener.accept().await {
                let tx = tx.clone();
                let mut transport = connection.transport;
                tokio::spawn(async move {
                    while let Some(Ok(message)) = transport.next().await {
                        let _ = tx.send((index, Some(message)));
                    }
                    let _ = tx.send((index, None));
                });
                index += 1;
            }
        });

        // The hog has the key: it says hello, then starts six divided messages it never ends.
        let mut hog = tokio::net::TcpStream::connect(addr).await.unwrap();
        let hello = Message::new(1, names::HELLO, "hog wazuh worker 4.9.2");
        hog.write_all(&wire(&hello)).await.unwrap();
        let junk = vec![b'A'; DIVIDED_FRAME_PAYLOAD];
        for counter in 2..8 {
            let header = FrameHeader {
                counter,
                size: junk.len() as u32,
                command: names::SENDSYNC,
                divided: true,
            };
            hog.write_all(&header.encode()).await.unwrap();
            hog.write_all(&junk).await.unwrap();
        }
        assert!(
            until(|| budget.used() == BUDGET).await,
            "the hog filled {} of {BUDGET} bytes",
            budget.used()
        );

        // The honest worker sends a divided message within its half of the budget.
        let mut honest = tokio::net::TcpStream::connect(addr).await.unwrap();
        let hello = Message::new(1, names::HELLO, "worker01 wazuh worker 4.9.2");
        honest.write_all(&wire(&hello)).await.unwrap();
        let payload: Vec<u8> = (0..(7 << 20)).map(|i| (i % 251) as u8).collect();
        let big = Message::new(2, names::SYN_A_W_M, payload.clone());
        honest.write_all(&wire(&big)).await.unwrap();

        let mut honest_got = None;
        let mut hog_closed = false;
        let deadline = tokio::time::Instant::now() + WAIT;
        while honest_got.is_none() || !hog_closed {
            let Ok(Some((index, message))) = tokio::time::timeout_at(deadline, rx.recv()).await
            else {
                break;
            };
            match (index, message) {
                (1, Some(message)) if message.counter == 2 => honest_got = Some(message),
                (0, None) => hog_closed = true,
                _ => {}
            }
        }
        let honest_got = honest_got.expect("the honest worker's divided message got through");
        assert_eq!(honest_got.payload.len(), payload.len());
        assert!(honest_got.payload[..] == payload[..], "intact");

        // The hog was squeezed: its next frame closes its connection and frees its bytes.
        if !hog_closed {
            let header = FrameHeader {
                counter: 2,
                size: 1,
                command: names::SENDSYNC,
                divided: true,
            };
            let _ = hog.write_all(&header.encode()).await;
            let _ = hog.write_all(b"A").await;
        }
        let mut buf = [0u8; 64];
        let closed = tokio::time::timeout(WAIT, async {
            loop {
                match hog.read(&mut buf).await {
                    Ok(0) | Err(_) => return true,
                    Ok(_) => {}
                }
            }
        })
        .await
        .unwrap_or(false);
        assert!(closed, "the hog's connection stays open");
        assert!(
            until(|| budget.used() == 0).await,
            "{} bytes still held",
            budget.used()
        );
    }
}
