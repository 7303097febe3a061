//! The receive timers the codec leaves to its caller (Wazuh 4.14.7): a frame whose payload
//! stays incomplete for [`PAYLOAD_TIMEOUT`] closes the connection, divided messages older than
//! the codec's limit are dropped, and a connection over its fair share of the node's budget
//! while another peer needs its own is closed. Checked once a second while the connection is
//! read.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::{Sink, Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{Interval, MissedTickBehavior};
use tokio_util::codec::Framed;
use wazuh_cluster_proto::limits::PAYLOAD_TIMEOUT;
use wazuh_cluster_proto::{Clock as _, CodecError, Message, MessageCodec};

use super::buffers::BufferRelease;
use crate::clock::SystemClock;

/// How often the timers are checked.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// A framed stream (TCP, or TLS over TCP) with the receive timers applied.
pub(crate) struct TimedFramed<S> {
    framed: Framed<S, MessageCodec>,
    clock: SystemClock,
    tick: Interval,
    /// Since when (monotonic) the read buffer has held an incomplete frame with no message
    /// completed since.
    partial_since: Option<Duration>,
    payload_timeout: Duration,
    buffers: BufferRelease,
}

impl<S: AsyncRead + AsyncWrite + Unpin> TimedFramed<S> {
    /// Wraps `framed`, closing it when a payload stays incomplete for `payload_timeout`
    /// ([`PAYLOAD_TIMEOUT`] in the daemon).
    pub fn new(
        framed: Framed<S, MessageCodec>,
        clock: SystemClock,
        payload_timeout: Duration,
    ) -> Self {
        let mut tick = tokio::time::interval(CHECK_EVERY);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Self {
            framed,
            clock,
            tick,
            partial_since: None,
            payload_timeout,
            buffers: BufferRelease::default(),
        }
    }

    /// The daemon's setting: [`PAYLOAD_TIMEOUT`].
    pub fn with_default_timeout(framed: Framed<S, MessageCodec>, clock: SystemClock) -> Self {
        Self::new(framed, clock, PAYLOAD_TIMEOUT)
    }

    /// The Fernet timestamp of the last message received (see [`MessageCodec::last_token_time`]).
    pub fn last_token_time(&self) -> Option<u64> {
        self.framed.codec().last_token_time()
    }

    /// Runs the timers; an error when a payload has waited too long.
    fn check(&mut self) -> Result<(), CodecError> {
        let now = self.clock.monotonic();
        for dropped in self.framed.codec_mut().expire(now) {
            tracing::debug!(
                subtag = "Main",
                "Dropped an incomplete divided message: {dropped:?}."
            );
        }
        if self.framed.codec().over_fair_share() {
            return Err(CodecError::Io(io::Error::other(
                "this connection holds more than its fair share of the node's budget for divided \
                 messages while another peer needs its own; closing the connection",
            )));
        }
        if self.framed.read_buffer().is_empty() {
            self.partial_since = None;
            return Ok(());
        }
        let since = *self.partial_since.get_or_insert(now);
        if now.saturating_sub(since) >= self.payload_timeout {
            return Err(CodecError::Io(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "a frame's payload stayed incomplete for {:?} ({} byte(s) buffered); closing the connection",
                    self.payload_timeout,
                    self.framed.read_buffer().len()
                ),
            )));
        }
        Ok(())
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for TimedFramed<S> {
    type Item = Result<Message, CodecError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        while self.tick.poll_tick(cx).is_ready() {
            if let Err(error) = self.check() {
                return Poll::Ready(Some(Err(error)));
            }
        }
        let item = self.framed.poll_next_unpin(cx);
        if let Poll::Ready(Some(Ok(message))) = &item {
            self.partial_since = None;
            let this = &mut *self;
            this.buffers
                .after_read(&mut this.framed, message.payload.len());
        }
        item
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for TimedFramed<S> {
    type Error = CodecError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), CodecError>> {
        Pin::new(&mut self.framed).poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), CodecError> {
        Pin::new(&mut self.framed).start_send(item)?;
        let this = &mut *self;
        this.buffers.after_send(&this.framed);
        Ok(())
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), CodecError>> {
        let flushed = Pin::new(&mut self.framed).poll_flush(cx);
        if matches!(flushed, Poll::Ready(Ok(()))) {
            let this = &mut *self;
            this.buffers.after_flush(&mut this.framed);
        }
        flushed
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), CodecError>> {
        Pin::new(&mut self.framed).poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tokio::io::AsyncWriteExt;
    use tokio::net::{TcpListener, TcpStream};
    use wazuh_cluster_proto::Limits;

    use super::*;

    #[tokio::test]
    async fn an_incomplete_payload_closes_the_connection_and_whole_messages_flow() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let clock = SystemClock::new();
        let codec = MessageCodec::new(None, Limits::default(), Arc::new(clock));
        let mut timed = TimedFramed::new(
            Framed::new(server, codec),
            clock,
            Duration::from_millis(1500),
        );

        let mut whole = bytes::BytesMut::new();
        wazuh_cluster_proto::encode_message(
            &Message::new(7, wazuh_cluster_proto::command::names::ECHO_C, "hi"),
            None,
            0,
            &mut whole,
        );
        client.write_all(&whole).await.unwrap();
        let message = timed.next().await.unwrap().unwrap();
        assert_eq!(&message.payload[..], b"hi");

        // A header declaring 100 bytes, then only 10 of them.
        let mut header = Vec::new();
        header.extend_from_slice(&8u32.to_be_bytes());
        header.extend_from_slice(&100u32.to_be_bytes());
        header.extend_from_slice(b"echo-c -----");
        header.extend_from_slice(&[0u8; 10]);
        client.write_all(&header).await.unwrap();
        let closed = tokio::time::timeout(Duration::from_secs(10), timed.next())
            .await
            .expect("closed within bound");
        match closed {
            Some(Err(CodecError::Io(e))) => assert_eq!(e.kind(), io::ErrorKind::TimedOut),
            other => panic!("expected the payload timeout, got {other:?}"),
        }
    }
}
