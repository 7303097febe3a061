//! One connection's request/response session, both ways at once.
//!
//! - Every request this side sends takes the next value of a per-connection counter that starts
//!   at a random value; its reply is matched by counter through the pending-request table.
//! - A request waits for its reply at most the configured timeout (20 s by default); a reply that
//!   arrives after that is dropped.
//! - An inbound message whose counter is not pending is a new request: it goes to the
//!   [`Router`]'s handler for its command, which runs concurrently with the session (up to
//!   [`SessionConfig::max_concurrent_requests`] at once). An unknown command is answered with
//!   Wazuh's plain-text `err` (`unknown command 'b'<cmd>''`), a handler's error with the WazuhJSON
//!   exception.
//! - The router's [`Gate`] is asked first: a refused request is answered with its `err` and the
//!   session closes (the master's gate admits nothing but `hello` before a successful `hello`).
//! - The `file_upd` pieces of a file are handled in the order they arrived (each handler
//!   starts once the previous one ended), as Wazuh handles them: a sender may keep more than
//!   one piece in flight.
//! - Unlike Wazuh, a reply command (`ok`, `err`, `ok-m`, `ok-c`) under a counter that is not
//!   pending is dropped instead of being dispatched: answering it with `err` would start an
//!   endless exchange of errors between two nodes.

mod handle;
mod reply;
mod router;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::unknown_command_payload;
use wazuh_cluster_proto::{Command, Message};

#[cfg(test)]
pub(crate) use handle::detached_handle;
pub use handle::{PendingReply, RequestError, SessionHandle};
pub use router::{DuplicateRoute, Gate, Handler, HandlerResult, Reply, Request, Router};

use crate::clock::Clock;
use crate::config::SessionConfig;
use crate::transport::BoxTransport;
use handle::Outbound;

/// Above this many pending requests, entries whose requester gave up are forgotten.
const PENDING_PURGE_THRESHOLD: usize = 4096;
/// How long closing the transport may take before it is dropped instead.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Whether the handler of `command` waits for the previous such handler to end: the pieces
/// of a file are appended in the order they were sent.
fn in_arrival_order(command: &Command) -> bool {
    *command == names::FILE_UPD
}

/// Whether `command` is a reply rather than a request.
fn is_reply_command(command: &Command) -> bool {
    [names::OK, names::ERR, names::OK_M, names::OK_C].contains(command)
}

/// Everything a session needs besides its transport.
pub struct SessionParts<Ctx> {
    /// Handlers of inbound requests.
    pub router: Arc<Router<Ctx>>,
    /// Per-connection context given to every handler.
    pub ctx: Arc<Ctx>,
    /// Time source for request timeouts.
    pub clock: Arc<dyn Clock>,
    /// Timers and limits.
    pub config: SessionConfig,
    /// The counter value before the first request (random in production, seeded in tests).
    pub counter_start: u32,
    /// The peer's address.
    pub peer: SocketAddr,
    /// Log tag of the connection (e.g. `"Worker worker01"`).
    pub tag: String,
}

/// The task that drives a session: reads, writes, dispatches. Run [`SessionDriver::run`] on the
/// node's task set; dropping it closes the connection and aborts its running handlers.
pub struct SessionDriver<Ctx> {
    transport: BoxTransport,
    parts: SessionParts<Ctx>,
    outbound_rx: mpsc::UnboundedReceiver<Outbound>,
    handle: SessionHandle,
    closed_tx: watch::Sender<bool>,
}

/// Creates a session over `transport`: the handle to use it and the driver to run.
pub fn session<Ctx: Send + Sync + 'static>(
    transport: BoxTransport,
    parts: SessionParts<Ctx>,
) -> (SessionHandle, SessionDriver<Ctx>) {
    let (outbound, outbound_rx) = mpsc::unbounded_channel();
    let (closed_tx, closed) = watch::channel(false);
    let handle = SessionHandle {
        outbound,
        closed,
        clock: parts.clock.clone(),
        request_timeout: parts.config.request_timeout,
        peer: parts.peer,
    };
    let driver = SessionDriver {
        transport,
        parts,
        outbound_rx,
        handle: handle.clone(),
        closed_tx,
    };
    (handle, driver)
}

impl<Ctx: Send + Sync + 'static> SessionDriver<Ctx> {
    /// Runs the session until the connection ends or a handle closes it.
    pub async fn run(self) {
        let SessionDriver {
            transport,
            parts,
            mut outbound_rx,
            handle,
            closed_tx,
        } = self;
        let (mut sink, mut stream) = transport.split();
        let mut counter = parts.counter_start;
        let mut pending: HashMap<u32, oneshot::Sender<Message>> = HashMap::new();
        let mut handlers = JoinSet::new();
        let mut last_in_order = None;
        let max_handlers = parts.config.max_concurrent_requests.max(1);
        let tag = parts.tag.as_str();
        loop {
            tokio::select! {
                biased;
                Some(out) = outbound_rx.recv() => {
                    let message = match out {
                        Outbound::Request { command, payload, reply } => {
                            counter = counter.wrapping_add(1);
                            if pending.len() >= PENDING_PURGE_THRESHOLD {
                                pending.retain(|_, reply| !reply.is_closed());
                            }
                            pending.insert(counter, reply);
                            Message::new(counter, command, payload)
                        }
                        Outbound::Reply(message) => message,
                        Outbound::Close => break,
                    };
                    if let Err(error) = sink.send(message).await {
                        tracing::debug!(tag, subtag = "Main", %error, "Could not send to peer; closing the connection.");
                        break;
                    }
                }
                Some(_) = handlers.join_next(), if !handlers.is_empty() => {}
                item = stream.next(), if handlers.len() < max_handlers => match item {
                    Some(Ok(message)) => {
                        if let Some(reply) = pending.remove(&message.counter) {
                            if reply.send(message).is_err() {
                                tracing::debug!(tag, subtag = "Main", "Dropped a reply that arrived after its request timed out.");
                            }
                        } else if is_reply_command(&message.command) {
                            tracing::debug!(tag, subtag = "Main", command = %message.command, counter = message.counter,
                                "Dropped a reply to no pending request.");
                        } else {
                            match dispatch(&parts, &handle, &mut handlers, &mut last_in_order, message) {
                                Dispatched::Started => {}
                                Dispatched::Unknown(reply) => {
                                    if sink.send(reply).await.is_err() {
                                        break;
                                    }
                                }
                                Dispatched::Refused(reply) => {
                                    let _ = sink.send(reply).await;
                                    break;
                                }
                            }
                        }
                    }
                    Some(Err(error)) => {
                        tracing::debug!(tag, subtag = "Main", %error, "Connection error; closing the connection.");
                        break;
                    }
                    None => break,
                },
            }
        }
        let _ = closed_tx.send(true);
        drop(pending);
        handlers.abort_all();
        tokio::select! {
            biased;
            _ = sink.close() => {}
            () = parts.clock.sleep(CLOSE_GRACE) => {}
        }
    }
}

/// What became of an inbound request.
enum Dispatched {
    /// Its handler runs.
    Started,
    /// No handler: the `err` reply of an unknown command.
    Unknown(Message),
    /// The router's gate refused it: the `err` reply to send before closing the session.
    Refused(Message),
}

/// Starts the handler of `message`, or says why not. `last_in_order` ends when the last
/// handler of a command [`in_arrival_order`] ends.
fn dispatch<Ctx: Send + Sync + 'static>(
    parts: &SessionParts<Ctx>,
    handle: &SessionHandle,
    handlers: &mut JoinSet<()>,
    last_in_order: &mut Option<oneshot::Receiver<()>>,
    message: Message,
) -> Dispatched {
    if let Err(refusal) = parts.router.admit(&parts.ctx, &message.command) {
        tracing::info!(
            tag = parts.tag.as_str(),
            subtag = "Main",
            "Refused {} from {}: {refusal}; closing the connection.",
            message.command,
            parts.peer
        );
        return Dispatched::Refused(Message::new(message.counter, names::ERR, refusal.to_json()));
    }
    let Some(handler) = parts.router.handler(&message.command) else {
        tracing::debug!(tag = parts.tag.as_str(), subtag = "Main", command = %message.command,
            "Unknown command received.");
        return Dispatched::Unknown(Message::new(
            message.counter,
            names::ERR,
            unknown_command_payload(message.command.as_bytes()),
        ));
    };
    let ctx = parts.ctx.clone();
    let outbound = handle.outbound.clone();
    let request = Request {
        counter: message.counter,
        command: message.command,
        payload: message.payload,
        session: handle.clone(),
    };
    let turn = in_arrival_order(&request.command).then(|| {
        let (ended, next) = oneshot::channel::<()>();
        (last_in_order.replace(next), ended)
    });
    handlers.spawn(async move {
        let counter = request.counter;
        // Dropped when this handler ends (or is aborted): the next one in order starts.
        let _ended = match turn {
            Some((previous, ended)) => {
                if let Some(previous) = previous {
                    let _ = previous.await;
                }
                Some(ended)
            }
            None => None,
        };
        let reply = match handler.handle(&ctx, request).await {
            Ok(Some(reply)) => Message::new(counter, reply.command, reply.payload),
            Ok(None) => return,
            Err(error) => Message::new(counter, names::ERR, error.to_json()),
        };
        let _ = outbound.send(Outbound::Reply(reply));
    });
    Dispatched::Started
}
