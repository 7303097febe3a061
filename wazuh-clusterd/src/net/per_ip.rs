//! Connection slots per source address for connections that have not said `hello` yet, and the
//! transport wrapper that holds one until its `hello` succeeds.
//!
//! Wazuh 4.14.7 caps all connections per address at 10, so 10 silent sockets lock a real
//! worker on the same address (a NAT, a shared host) out until they time out. Here only
//! connections *before* a successful `hello` take a slot, at most [`MAX_PRE_HELLO_PER_IP`] per
//! address, and a new connection over the cap closes the **oldest** waiting one instead of
//! being refused: a flood of idle sockets only ever evicts itself, and a worker that connects
//! and says `hello` at once gets in. An authenticated session frees its slot and is never
//! counted again (the master's registry bounds those: one per worker name).
//!
//! How the listener learns that a connection authenticated, without the core telling it: the
//! wrapper sees every message both ways, and the master answers a successful `hello` with `ok`
//! under the `hello`'s counter (a refused one gets `err`, and anything else before `hello` is
//! refused and closed by the core's gate). Seeing that reply go out frees the slot. With
//! failover, an `ok` to a Raft RPC (sent without `hello` by another master-eligible node, and
//! answered only when it names this node as its target) frees it the same way.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;
use futures_util::{Sink, Stream};
use wazuh_cluster_core::{BoxTransport, TransportError};
use wazuh_cluster_proto::Message;
use wazuh_cluster_proto::command::names;
use wazuh_cluster_proto::payload::raft::is_raft_command;

/// Most connections from one address that may wait for their `hello` at the same time; the
/// oldest is closed when one more arrives.
pub const MAX_PRE_HELLO_PER_IP: usize = 4;

/// One connection waiting for its `hello`: whether it was evicted, and who to wake then.
#[derive(Debug, Default)]
struct Waiting {
    id: u64,
    evicted: AtomicBool,
    waker: AtomicWaker,
}

/// The connections waiting for their `hello`, per source address, oldest first.
#[derive(Debug, Default, Clone)]
pub(crate) struct PreHelloSlots {
    waiting: Arc<Mutex<HashMap<IpAddr, VecDeque<Arc<Waiting>>>>>,
    next_id: Arc<AtomicU64>,
}

impl PreHelloSlots {
    /// Takes a slot for a new connection from `ip`; when `ip` already has `max` waiting, the
    /// oldest is evicted (its transport ends with an error) and `true` is returned beside.
    pub fn take(&self, ip: IpAddr, max: usize) -> (Slot, bool) {
        let entry = Arc::new(Waiting {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            ..Waiting::default()
        });
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        let queue = waiting.entry(ip).or_default();
        let mut evicted = false;
        while queue.len() >= max.max(1) {
            if let Some(oldest) = queue.pop_front() {
                oldest.evicted.store(true, Ordering::Release);
                oldest.waker.wake();
                evicted = true;
            }
        }
        queue.push_back(entry.clone());
        let slot = Slot {
            slots: self.clone(),
            ip,
            entry,
        };
        (slot, evicted)
    }

    /// Connections from `ip` waiting for their `hello`.
    #[cfg(test)]
    fn waiting(&self, ip: IpAddr) -> usize {
        let waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        waiting.get(&ip).map_or(0, VecDeque::len)
    }

    fn release(&self, ip: IpAddr, id: u64) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(queue) = waiting.get_mut(&ip) {
            queue.retain(|entry| entry.id != id);
            if queue.is_empty() {
                waiting.remove(&ip);
            }
        }
    }
}

/// One connection's place among those waiting for `hello`; dropping it frees the place.
#[derive(Debug)]
pub(crate) struct Slot {
    slots: PreHelloSlots,
    ip: IpAddr,
    entry: Arc<Waiting>,
}

impl Slot {
    /// Whether a newer connection from the same address took this one's place.
    fn evicted(&self, cx: &mut Context<'_>) -> bool {
        self.entry.waker.register(cx.waker());
        self.entry.evicted.load(Ordering::Acquire)
    }

    /// Completes when a newer connection from the same address takes this one's place (to
    /// abandon a TLS handshake that has not finished by then).
    pub async fn evicted_now(&self) {
        std::future::poll_fn(|cx| {
            if self.evicted(cx) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.release(self.ip, self.entry.id);
    }
}

/// A transport that holds a pre-`hello` slot until the master accepts its `hello`, and ends
/// with an error when a newer connection evicts it first.
pub(crate) struct PreHello {
    inner: BoxTransport,
    slot: Option<Slot>,
    /// The counter of the peer's last `hello`, until it is answered.
    hello: Option<u32>,
}

impl PreHello {
    /// Wraps `inner`, holding `slot` until its `hello` succeeds.
    pub fn new(inner: BoxTransport, slot: Slot) -> Self {
        Self {
            inner,
            slot: Some(slot),
            hello: None,
        }
    }
}

impl Stream for PreHello {
    type Item = Result<Message, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(slot) = &self.slot
            && slot.evicted(cx)
        {
            let ip = slot.ip;
            self.slot = None;
            return Poll::Ready(Some(Err(TransportError::new(
                ip,
                format!(
                    "closed: it had not said hello when a newer connection from {ip} arrived \
                     ({MAX_PRE_HELLO_PER_IP} may wait per address)"
                ),
            ))));
        }
        let item = self.inner.as_mut().poll_next(cx);
        if let Poll::Ready(Some(Ok(message))) = &item
            && self.slot.is_some()
            && (message.command == names::HELLO || is_raft_command(&message.command))
        {
            self.hello = Some(message.counter);
        }
        item
    }
}

impl Sink<Message> for PreHello {
    type Error = TransportError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.as_mut().poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), Self::Error> {
        if self.hello == Some(item.counter) {
            self.hello = None;
            if item.command == names::OK {
                // The hello succeeded: an authenticated session holds no slot.
                self.slot = None;
            }
        }
        self.inner.as_mut().start_send(item)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.as_mut().poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.as_mut().poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use futures_util::{SinkExt, StreamExt};
    use wazuh_cluster_core::testing::memory_pair;

    use super::*;

    fn addr(port: u16) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn the_oldest_waiting_connection_is_evicted_and_places_free_on_drop() {
        let slots = PreHelloSlots::default();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let (first, evicted) = slots.take(a, 2);
        assert!(!evicted);
        let (second, _) = slots.take(a, 2);
        let (_third, evicted) = slots.take(a, 2);
        assert!(evicted);
        assert!(first.entry.evicted.load(Ordering::Acquire));
        assert!(!second.entry.evicted.load(Ordering::Acquire));
        assert_eq!(slots.waiting(a), 2);
        let (_other, evicted) = slots.take(b, 2);
        assert!(!evicted, "another address has its own places");
        drop(second);
        assert_eq!(slots.waiting(a), 1);
    }

    #[tokio::test]
    async fn a_successful_hello_frees_the_place_and_an_evicted_connection_ends() {
        let slots = PreHelloSlots::default();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let (server, mut worker) = memory_pair(addr(1), addr(2));
        let (slot, _) = slots.take(ip, 1);
        let mut accepted = PreHello::new(server, slot);
        worker
            .send(Message::new(5, names::HELLO, "w1 demo worker 4.9.2"))
            .await
            .unwrap();
        let hello = accepted.next().await.unwrap().unwrap();
        accepted
            .send(Message::new(hello.counter, names::ERR, "refused"))
            .await
            .unwrap();
        assert_eq!(slots.waiting(ip), 1, "a refused hello keeps the place");
        worker
            .send(Message::new(6, names::HELLO, "w1 demo worker 4.9.2"))
            .await
            .unwrap();
        let hello = accepted.next().await.unwrap().unwrap();
        accepted
            .send(Message::new(hello.counter, names::OK, "Client w1 added"))
            .await
            .unwrap();
        assert_eq!(slots.waiting(ip), 0, "an authenticated session holds none");

        let (server, _idle) = memory_pair(addr(3), addr(2));
        let (slot, _) = slots.take(ip, 1);
        let mut idle = PreHello::new(server, slot);
        let (_newer, evicted) = slots.take(ip, 1);
        assert!(evicted);
        let ended = tokio::time::timeout(std::time::Duration::from_secs(5), idle.next())
            .await
            .expect("ends at once");
        assert!(matches!(ended, Some(Err(_))), "{ended:?}");
        assert!(
            accepted.slot.is_none(),
            "the authenticated one is never evicted"
        );
    }
}
