//! One stream (TCP, or TLS over TCP: one code path for both) as a core transport: framing,
//! Fernet, the replay guard, the receive timers, and a clear log line when the peer's messages
//! do not decrypt.

use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::codec::Framed;
use wazuh_cluster_core::BoxTransport;
use wazuh_cluster_core::telemetry;
use wazuh_cluster_core::transport::boxed;
use wazuh_cluster_proto::{
    CodecError, DecodeError, Fernet, Limits, MessageCodec, NodeBudget, ReplayGuard,
};

use super::observed::{LinkSide, Observed};
use super::timers::TimedFramed;
use crate::clock::SystemClock;

/// Bytes of incomplete divided messages a node keeps over all its connections
/// ([`NodeBudget`]), and so the largest divided message it joins: 128 MiB. Wazuh joins messages
/// of up to 256 MiB, but its senders divide only what is not already sent in pieces (files and
/// strings go in `file_upd` / `str_upd` pieces of 5 MiB, single frames): divided messages are
/// rare and small, and a hostile worker can make the node hold a quarter of what it could.
pub const NODE_DIVIDED_BUDGET: usize = 128 << 20;

/// Wraps `stream` (connected to `peer`: a `TcpStream`, or a TLS stream over one) into an
/// encrypted transport: frames of at most [`Limits::pre_auth`] until the peer's first message
/// decrypts, then Wazuh 4.14.7's limits, divided messages within `budget` (the node's, shared
/// by its connections) when given, and what it receives checked with `replay` when given. `side`
/// names the side that owns it for the logs (`Master`, `Worker worker01`) and says what its
/// traffic and its peer's clock are reported to ([`LinkSide`]; a bare tag reports to nothing).
pub fn stream_transport<S>(
    stream: S,
    peer: SocketAddr,
    fernet: Fernet,
    replay: Option<ReplayGuard>,
    budget: Option<NodeBudget>,
    clock: SystemClock,
    side: LinkSide,
) -> BoxTransport
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let mut codec = MessageCodec::new(Some(fernet), Limits::default(), Arc::new(clock))
        .with_pre_auth_limits(Limits::pre_auth());
    if let Some(budget) = budget {
        codec = codec.with_node_budget(budget);
    }
    if let Some(guard) = replay {
        codec = codec.with_replay_guard(guard);
    }
    let timed = TimedFramed::with_default_timeout(Framed::new(stream, codec), clock);
    let framed = Observed::new(timed, &side, clock, peer.to_string())
        .inspect_err(move |error| log_decode_error(&side.tag, peer, error));
    boxed(framed, peer)
}

fn log_decode_error(tag: &str, peer: SocketAddr, error: &CodecError) {
    match error {
        CodecError::Decode(DecodeError::Decrypt {
            counter,
            command,
            source,
            ..
        }) => {
            telemetry::rejected("undecryptable");
            tracing::error!(
                tag,
                subtag = "Main",
                "Could not decrypt message from {peer} ({command} message {counter}): {source}; \
                 closing the connection."
            )
        }
        CodecError::Decode(replay @ DecodeError::Replay { .. }) => {
            telemetry::rejected("replay");
            tracing::error!(
                tag,
                subtag = "Main",
                "Closing the connection from {peer}: {replay}."
            )
        }
        CodecError::Decode(decode) => {
            telemetry::rejected("not_a_cluster_stream");
            tracing::warn!(
                tag,
                subtag = "Main",
                "Closing the connection from {peer}: its data is not a cluster message stream ({decode})."
            )
        }
        CodecError::Io(io) => {
            tracing::debug!(tag, subtag = "Main", "Connection with {peer} failed: {io}.")
        }
    }
}
