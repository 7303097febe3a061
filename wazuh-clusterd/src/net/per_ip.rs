//! The cap on connections per source address, and the transport wrapper that frees its slot
//! when the connection is dropped.

use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures_util::{Sink, Stream};
use wazuh_cluster_core::{BoxTransport, TransportError};
use wazuh_cluster_proto::Message;

/// Most simultaneous connections the master accepts from one address (Wazuh 4.14.7's
/// `MAX_CONNECTIONS_PER_IP`).
pub const MAX_CONNECTIONS_PER_IP: usize = 10;

/// Open connections per source address.
#[derive(Debug, Default, Clone)]
pub(crate) struct PerIpCounter(Arc<Mutex<HashMap<IpAddr, usize>>>);

impl PerIpCounter {
    /// Takes a slot for `ip`, or `None` when it already holds `max`.
    pub fn try_take(&self, ip: IpAddr, max: usize) -> Option<Slot> {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let count = counts.entry(ip).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(Slot {
            counter: self.clone(),
            ip,
        })
    }

    fn release(&self, ip: IpAddr) {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = counts.get_mut(&ip) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&ip);
            }
        }
    }
}

/// One taken connection slot; dropping it frees the slot.
#[derive(Debug)]
pub(crate) struct Slot {
    counter: PerIpCounter,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.counter.release(self.ip);
    }
}

/// A transport that holds its address's slot for as long as it lives.
pub(crate) struct Counted {
    pub inner: BoxTransport,
    pub _slot: Slot,
}

impl Stream for Counted {
    type Item = Result<Message, TransportError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl Sink<Message> for Counted {
    type Error = TransportError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.as_mut().poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), Self::Error> {
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
    use super::*;

    #[test]
    fn slots_are_capped_per_address_and_freed_on_drop() {
        let counter = PerIpCounter::default();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = counter.try_take(a, 2).unwrap();
        let _second = counter.try_take(a, 2).unwrap();
        assert!(counter.try_take(a, 2).is_none());
        assert!(counter.try_take(b, 2).is_some());
        drop(first);
        assert!(counter.try_take(a, 2).is_some());
    }
}
