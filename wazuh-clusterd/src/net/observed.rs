//! [`Observed`]: a connection that reports what crosses it: bytes and messages per peer and
//! direction (through the `metrics` facade), and the peer's clock offset from each message's
//! Fernet timestamp (to the node's [`SkewBook`]).
//!
//! The peer is named by its node name: on the master, the name its `hello` carries (the address
//! until then); on a worker, `master`.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures_util::{Sink, Stream};
use tokio::io::{AsyncRead, AsyncWrite};
use wazuh_cluster_core::Clock as _;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::{CodecError, Message, NodeBudget};

use super::timers::TimedFramed;
use crate::clock::SystemClock;
use crate::skew::SkewBook;

/// Counter of message payload bytes per peer and direction.
pub const TRANSPORT_BYTES_TOTAL: &str = "wazuh_cluster_transport_bytes_total";
/// Counter of messages per peer and direction.
pub const TRANSPORT_MESSAGES_TOTAL: &str = "wazuh_cluster_transport_messages_total";

/// What a node's connections report to, and the memory budgets they share; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct PeerObserver {
    skew: Option<SkewBook>,
    budgets: Arc<Mutex<Vec<(&'static str, NodeBudget)>>>,
}

impl PeerObserver {
    /// Connections feed `skew` with their peers' clock offsets.
    pub fn with_skew(skew: SkewBook) -> Self {
        Self {
            skew: Some(skew),
            budgets: Arc::default(),
        }
    }

    /// Shows `budget` under `name` among the node's memory budgets, in place of an earlier
    /// one of that name (the listener gives its divided-message budget when it is observed).
    pub fn track_budget(&self, name: &'static str, budget: NodeBudget) {
        let mut budgets = self.budgets.lock().unwrap_or_else(|p| p.into_inner());
        budgets.retain(|(known, _)| *known != name);
        budgets.push((name, budget));
    }

    /// The memory budgets given with [`PeerObserver::track_budget`].
    pub fn budgets(&self) -> Vec<(&'static str, NodeBudget)> {
        self.budgets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The book the connections feed (an empty one, never fed, when none was given).
    pub fn skew(&self) -> SkewBook {
        self.skew
            .clone()
            .unwrap_or_else(|| SkewBook::new(crate::config::DEFAULT_CLOCK_SKEW_WARNING, "Cluster"))
    }
}

/// Who owns a connection (its log tag: `Master`, `Worker worker01`) and what it reports to.
#[derive(Debug, Clone)]
pub struct LinkSide {
    /// The log tag.
    pub tag: String,
    /// Where traffic and clock offsets go.
    pub observer: PeerObserver,
    /// The peer's name when known in advance (`master` on a worker); `None`: the name in its
    /// `hello`.
    pub peer: Option<&'static str>,
}

impl From<&str> for LinkSide {
    /// A side logging under `tag` that reports to no clock book.
    fn from(tag: &str) -> Self {
        Self::from(tag.to_owned())
    }
}

impl From<String> for LinkSide {
    /// A side logging under `tag` that reports to no clock book.
    fn from(tag: String) -> Self {
        Self {
            tag,
            observer: PeerObserver::default(),
            peer: None,
        }
    }
}

/// A framed connection that reports its traffic and its peer's clock.
pub(crate) struct Observed<S> {
    inner: TimedFramed<S>,
    observer: PeerObserver,
    clock: SystemClock,
    peer: String,
    /// Whether `peer` is still an address, to be replaced by the name in `hello`.
    learn_name: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Observed<S> {
    /// Wraps `inner` for `side`; its peer is `side.peer`, or the name in the peer's `hello`
    /// (`address` until then).
    pub fn new(
        inner: TimedFramed<S>,
        side: &LinkSide,
        clock: SystemClock,
        address: String,
    ) -> Self {
        Self {
            inner,
            observer: side.observer.clone(),
            clock,
            learn_name: side.peer.is_none(),
            peer: side.peer.map_or(address, str::to_owned),
        }
    }

    fn count(&self, direction: &'static str, message: &Message) {
        metrics::counter!(TRANSPORT_BYTES_TOTAL, "peer" => self.peer.clone(),
            "direction" => direction)
        .increment(message.payload.len() as u64);
        metrics::counter!(TRANSPORT_MESSAGES_TOTAL, "peer" => self.peer.clone(),
            "direction" => direction)
        .increment(1);
    }

    fn received(&mut self, message: &Message) {
        if self.learn_name && message.command == names::HELLO {
            self.learn_name = false;
            if let Some(name) = message
                .payload
                .split(|&b| b == b' ')
                .next()
                .and_then(|name| std::str::from_utf8(name).ok())
                .filter(|name| wazuh_cluster_proto::payload::validate_node_name(name).is_ok())
            {
                self.peer = name.to_owned();
            }
        }
        self.count("received", message);
        if let (Some(skew), Some(token_time)) = (&self.observer.skew, self.inner.last_token_time())
        {
            let offset = skew.sample(&self.peer, token_time, self.clock.wall());
            metrics::gauge!(crate::metrics::names::CLOCK_SKEW_SECONDS, "peer" => self.peer.clone())
                .set(offset);
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for Observed<S> {
    type Item = Result<Message, CodecError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let item = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(Some(Ok(message))) = &item {
            self.received(message);
        }
        item
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for Observed<S> {
    type Error = CodecError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), CodecError>> {
        Pin::new(&mut self.inner).poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), CodecError> {
        self.count("sent", &item);
        Pin::new(&mut self.inner).start_send(item)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), CodecError>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), CodecError>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}
