//! Node-to-node connections: the master's [`TcpClusterListener`] and the worker's
//! [`TcpConnector`], each connection a `Framed<S, MessageCodec>` encrypted with the cluster key
//! over a TCP stream or, with `<tls>`, a mutual-TLS stream ([`ClusterTls`]; one code path,
//! [`stream_transport`]), handed to the core as a [`wazuh_cluster_core::BoxTransport`].
//!
//! Hardening applied here:
//! - at most [`MAX_PRE_HELLO_PER_IP`] connections per source address waiting for their `hello`
//!   (a newer one closes the oldest; authenticated sessions are not counted, unlike Wazuh
//!   4.14.7's cap of 10 on all connections);
//! - until a connection's first message decrypts, frames of at most 64 KiB (no divided message
//!   can start); after, the codec's limits (256 MiB, 10 divided messages), with the master's
//!   incomplete divided messages within [`NODE_DIVIDED_BUDGET`] over all its connections, shared
//!   fairly (each authenticated connection is guaranteed its part; see `NodeBudget`);
//! - the receive timers: a frame whose payload stays incomplete for 30 s closes the connection,
//!   incomplete divided messages expire, a connection over its fair share of the budget while
//!   another needs its own is closed; the core closes a connection that sends no valid
//!   `hello` in time;
//! - replay protection ([`ReplayProtection`], `<max_message_age>`) and, with `<tls>`, mutual TLS.
//!
//! A payload that does not decrypt (Wazuh error 3025, usually a different cluster key) is logged
//! with the peer's address and closes the connection.
//!
//! Every connection reports its traffic, its refusals and its peer's clock offset
//! ([`PeerObserver`], given with `observed_by` on the listener and the connector).

mod buffers;
mod connector;
mod listener;
mod observed;
mod per_ip;
mod replay;
mod timers;
mod tls;
mod transport;

pub use connector::{CONNECT_TIMEOUT, TcpConnector};
pub use listener::TcpClusterListener;
pub use observed::{LinkSide, PeerObserver, TRANSPORT_BYTES_TOTAL, TRANSPORT_MESSAGES_TOTAL};
pub use per_ip::MAX_PRE_HELLO_PER_IP;
pub use replay::ReplayProtection;
pub use tls::{ClusterTls, HANDSHAKE_TIMEOUT, TlsError};
pub use transport::{NODE_DIVIDED_BUDGET, stream_transport};
