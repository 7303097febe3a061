//! In-memory transports: a lossless duplex pair, and the endpoint type of the simulated network.

use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::{Sink, Stream};
use tokio::sync::mpsc;
use wazuh_cluster_proto::Message;

use crate::transport::{BoxTransport, TransportError};

/// The peer closed the connection.
#[derive(Debug, thiserror::Error)]
#[error("the peer closed the connection")]
pub struct PeerClosed;

/// One end of an in-memory connection: messages pushed into `tx`, received from `rx`.
pub(crate) struct ChannelEnd<T> {
    pub tx: Option<mpsc::UnboundedSender<T>>,
    pub rx: mpsc::UnboundedReceiver<Message>,
    pub peer: SocketAddr,
    /// Turns an outgoing message into what `tx` carries (`None`: the message is lost).
    pub wrap: Box<dyn FnMut(Message) -> Option<T> + Send>,
}

impl<T> Stream for ChannelEnd<T> {
    type Item = Result<Message, TransportError>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx).map(|m| m.map(Ok))
    }
}

impl<T> Sink<Message> for ChannelEnd<T> {
    type Error = TransportError;
    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        match self.tx {
            Some(_) => Poll::Ready(Ok(())),
            None => Poll::Ready(Err(TransportError::new(self.peer, PeerClosed))),
        }
    }
    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), TransportError> {
        let this = &mut *self;
        let Some(wrapped) = (this.wrap)(item) else {
            return Ok(());
        };
        match &this.tx {
            Some(tx) if tx.send(wrapped).is_ok() => Ok(()),
            _ => Err(TransportError::new(this.peer, PeerClosed)),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), TransportError>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Result<(), TransportError>> {
        self.tx = None;
        Poll::Ready(Ok(()))
    }
}

/// A lossless, instant duplex connection: what one end sends, the other receives.
pub fn memory_pair(a: SocketAddr, b: SocketAddr) -> (BoxTransport, BoxTransport) {
    let (a_tx, b_rx) = mpsc::unbounded_channel();
    let (b_tx, a_rx) = mpsc::unbounded_channel();
    let end = |tx, rx, peer| -> BoxTransport {
        Box::pin(ChannelEnd {
            tx: Some(tx),
            rx,
            peer,
            wrap: Box::new(Some),
        })
    };
    (end(a_tx, a_rx, b), end(b_tx, b_rx, a))
}
