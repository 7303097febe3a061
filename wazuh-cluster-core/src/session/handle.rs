//! The cloneable face of a running session: send requests, wait for their replies, close.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot, watch};
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::WazuhException;
use wazuh_cluster_proto::{Command, Message};

use super::reply::Reply;
use crate::clock::Clock;

/// What a handle asks the session's driver to do.
#[derive(Debug)]
pub(crate) enum Outbound {
    /// Send a request under the next counter and deliver its reply.
    Request {
        command: Command,
        payload: Bytes,
        reply: oneshot::Sender<Message>,
    },
    /// Send a reply (counter already set).
    Reply(Message),
    /// Close the connection.
    Close,
}

/// Why a request got no usable reply.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// No reply within the timeout (Wazuh error 3020); a reply arriving later is dropped.
    #[error("Timeout sending request: {command} (no reply within {timeout:?})")]
    Timeout {
        /// The request's command.
        command: Command,
        /// How long it waited.
        timeout: Duration,
    },
    /// The connection closed before the reply arrived.
    #[error("connection closed before the reply to {command} arrived")]
    Closed {
        /// The request's command.
        command: Command,
    },
    /// The peer answered `err`; `error` is its decoded exception (plain text becomes error 3000).
    #[error("{error}")]
    Peer {
        /// The request's command.
        command: Command,
        /// The peer's exception.
        error: WazuhException,
    },
}

/// A handle on a running session. Cloning it is cheap; every clone talks to the same session.
#[derive(Clone)]
pub struct SessionHandle {
    pub(crate) outbound: mpsc::UnboundedSender<Outbound>,
    pub(crate) closed: watch::Receiver<bool>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) request_timeout: Duration,
    pub(crate) peer: SocketAddr,
}

impl fmt::Debug for SessionHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionHandle")
            .field("peer", &self.peer)
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

impl SessionHandle {
    /// The peer's address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Sends a request and waits for its reply for the session's default timeout.
    ///
    /// An `err` reply becomes [`RequestError::Peer`]; any other reply command (`ok`, `ok-m`,
    /// `ok-c`, ...) is returned as is.
    pub async fn request(
        &self,
        command: Command,
        payload: impl Into<Bytes>,
    ) -> Result<Reply, RequestError> {
        self.request_with_timeout(command, payload, self.request_timeout)
            .await
    }

    /// Sends a request and waits for its reply at most `timeout`.
    pub async fn request_with_timeout(
        &self,
        command: Command,
        payload: impl Into<Bytes>,
        timeout: Duration,
    ) -> Result<Reply, RequestError> {
        self.send_request(command, payload, timeout).wait().await
    }

    /// Queues a request now (requests go out in the order they are queued) and returns its
    /// reply to wait for later, at most `timeout` from then: several requests can be in
    /// flight, as the pieces of a file upload are. On a closed session the reply is
    /// [`RequestError::Closed`].
    pub fn send_request(
        &self,
        command: Command,
        payload: impl Into<Bytes>,
        timeout: Duration,
    ) -> PendingReply {
        let (reply, answer) = oneshot::channel();
        // A closed session drops the request and its reply's sender: `wait` answers `Closed`.
        let _ = self.outbound.send(Outbound::Request {
            command,
            payload: payload.into(),
            reply,
        });
        PendingReply {
            command,
            answer,
            clock: self.clock.clone(),
            timeout,
        }
    }

    /// The timeout of [`request`](Self::request).
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// Asks the session to close the connection; pending requests fail with
    /// [`RequestError::Closed`].
    pub fn close(&self) {
        let _ = self.outbound.send(Outbound::Close);
    }

    /// Whether `other` is a handle on the same session as this one.
    pub fn same_session(&self, other: &SessionHandle) -> bool {
        self.outbound.same_channel(&other.outbound)
    }

    /// Whether the session has ended.
    pub fn is_closed(&self) -> bool {
        *self.closed.borrow() || self.outbound.is_closed()
    }

    /// Completes when the session has ended (closed by either side or lost).
    pub async fn closed(&self) {
        let mut closed = self.closed.clone();
        let _ = closed.wait_for(|closed| *closed).await;
    }
}

/// A handle on no running session, for unit tests of what keys state by session: it stays open
/// while the returned receiver lives and closes when it is dropped.
#[cfg(test)]
pub(crate) fn detached_handle() -> (SessionHandle, mpsc::UnboundedReceiver<Outbound>) {
    let (outbound, outbound_rx) = mpsc::unbounded_channel();
    let (closed_tx, closed) = watch::channel(false);
    // The receiver alone says whether the session is open; the sender may go.
    drop(closed_tx);
    let clock = crate::testing::VirtualClock::new(std::time::SystemTime::UNIX_EPOCH);
    let handle = SessionHandle {
        outbound,
        closed,
        clock: Arc::new(clock),
        request_timeout: Duration::from_secs(20),
        peer: SocketAddr::from(([127, 0, 0, 1], 1516)),
    };
    (handle, outbound_rx)
}

/// The reply to a request already sent ([`SessionHandle::send_request`]).
#[must_use = "a request's reply is waited for, or its failure goes unseen"]
pub struct PendingReply {
    command: Command,
    answer: oneshot::Receiver<Message>,
    clock: Arc<dyn Clock>,
    timeout: Duration,
}

impl fmt::Debug for PendingReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingReply")
            .field("command", &self.command)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl PendingReply {
    /// Waits for the reply at most the request's timeout. An `err` reply becomes
    /// [`RequestError::Peer`]; any other reply command is returned as is.
    pub async fn wait(self) -> Result<Reply, RequestError> {
        let command = self.command;
        let message = tokio::select! {
            biased;
            answer = self.answer => answer.map_err(|_| RequestError::Closed { command })?,
            () = self.clock.sleep(self.timeout) => {
                return Err(RequestError::Timeout { command, timeout: self.timeout });
            }
        };
        if message.command == names::ERR {
            return Err(RequestError::Peer {
                command,
                error: WazuhException::from_err_reply(&message.payload),
            });
        }
        Ok(Reply {
            command: message.command,
            payload: message.payload,
        })
    }
}
