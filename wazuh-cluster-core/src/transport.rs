//! How messages travel between two nodes: a connected duplex of whole plaintext [`Message`]s.
//!
//! The core never sees frames, Fernet or sockets. The daemon wraps a TCP
//! `Framed<TcpStream, MessageCodec>` with [`boxed`]; the harness uses simulated links; tests can
//! use `testing::memory_pair` (feature `testing`).

use std::fmt;
use std::net::SocketAddr;
use std::pin::Pin;

use async_trait::async_trait;
use futures_util::{Sink, SinkExt, Stream, TryStreamExt};
use wazuh_cluster_proto::Message;
use wazuh_cluster_proto::payload::MasterLocation;

/// Why a transport failed. The connection is unusable afterwards.
#[derive(Debug, thiserror::Error)]
#[error("connection to {peer} failed: {source}")]
pub struct TransportError {
    /// The peer, as far as known (`"?"` if not).
    pub peer: String,
    /// The underlying error (I/O, decoding, decryption).
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl TransportError {
    /// Wraps an error of the connection to `peer`.
    pub fn new(
        peer: impl fmt::Display,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self {
            peer: peer.to_string(),
            source: source.into(),
        }
    }
}

/// A connected duplex of messages.
///
/// Obligations of an implementation:
/// - Messages arrive in the order they were sent, whole (divided frames already joined, payload
///   already decrypted) or not at all.
/// - The stream ends (`None`) when the peer closed the connection or the connection was lost; an
///   `Err` item means the connection is broken, and nothing more is read after it.
/// - `Sink::close` flushes what was sent and closes the connection; the peer's stream then ends.
/// - Dropping the transport closes the connection.
pub trait Transport:
    Stream<Item = Result<Message, TransportError>> + Sink<Message, Error = TransportError> + Send
{
}

impl<T> Transport for T where
    T: Stream<Item = Result<Message, TransportError>>
        + Sink<Message, Error = TransportError>
        + Send
{
}

/// A transport behind a box, as the core stores it.
pub type BoxTransport = Pin<Box<dyn Transport + 'static>>;

/// Wraps any stream-and-sink of messages (such as a `Framed<TcpStream, MessageCodec>`) into a
/// [`BoxTransport`], naming `peer` in its errors.
pub fn boxed<T, E>(inner: T, peer: impl fmt::Display) -> BoxTransport
where
    T: Stream<Item = Result<Message, E>> + Sink<Message, Error = E> + Send + 'static,
    E: std::error::Error + Send + Sync + 'static,
{
    let peer = peer.to_string();
    let peer_in = peer.clone();
    let mapped = inner
        .map_err(move |e| TransportError::new(&peer_in, e))
        .sink_map_err(move |e| TransportError::new(&peer, e));
    Box::pin(mapped)
}

/// A new connection and the address of the node at its other end.
pub struct Connection {
    /// The connected transport.
    pub transport: BoxTransport,
    /// The peer's address.
    pub peer: SocketAddr,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

/// How a worker opens a connection to its master.
///
/// Obligations: [`Connector::connect`] either returns a connected transport or an error, within a
/// bounded time (a refused or unreachable master is an error, not a hang); it may be called again
/// after any failure.
#[async_trait]
pub trait Connector: Send + Sync + 'static {
    /// Opens a new connection to the master.
    async fn connect(&self) -> Result<Connection, TransportError>;

    /// Told that the node it reached is not the master and where the master is now (a
    /// [`not_master()`](wazuh_cluster_proto::payload::not_master()) refusal of `hello`): the next
    /// [`connect`](Self::connect) should go there. Connectors with one fixed address ignore it.
    fn follow(&self, master: &MasterLocation) {
        let _ = master;
    }
}

/// How a master is handed the connections workers open.
///
/// Obligations: [`Listener::accept`] waits for the next connection; an `Err` is a failure of one
/// accept (the master logs it and calls again); `Ok(None)` means the listener is closed for good.
#[async_trait]
pub trait Listener: Send + 'static {
    /// Waits for the next accepted connection.
    async fn accept(&mut self) -> Result<Option<Connection>, TransportError>;
}
