//! A simulated network on virtual time: nodes by IP, a listener per address, links with latency,
//! jitter and loss, partitions and heals. Deterministic for a given seed.
//!
//! Model (close to turmoil's): a message sent while its link is partitioned, or picked by the
//! link's loss rate, is lost, but the connection stays open (it looks dead until a keepalive
//! notices). Connecting across a partition or to an address nobody listens on fails at once.
//! Closing a connection reaches the peer after the link's latency, once the link is healed.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::{mpsc, watch};
use wazuh_cluster_proto::Message;

use super::transport::ChannelEnd;
use crate::clock::{Clock, Instant};
use crate::transport::{Connection, Connector, Listener, TransportError};

/// Latency, jitter and loss of the link between two nodes (both directions).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkConfig {
    /// One-way delay of every message.
    pub latency: Duration,
    /// Extra delay drawn uniformly in `0..=jitter` per message (order is kept).
    pub jitter: Duration,
    /// Probability that a message is lost, in `0.0..=1.0`.
    pub loss: f64,
}

impl Default for LinkConfig {
    fn default() -> Self {
        Self {
            latency: Duration::from_millis(1),
            jitter: Duration::ZERO,
            loss: 0.0,
        }
    }
}

/// Why a simulated connection could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// Nobody listens at the address.
    #[error("connection refused: nothing listens on {0}")]
    Refused(SocketAddr),
    /// The link is partitioned.
    #[error("network unreachable: {from} is partitioned from {to}")]
    Partitioned {
        /// The connecting node.
        from: IpAddr,
        /// The address it tried.
        to: SocketAddr,
    },
}

/// One end of a simulated connection: outgoing messages carry their delivery instant.
type SimEnd = ChannelEnd<(Instant, Message)>;

fn pair_key(a: IpAddr, b: IpAddr) -> (IpAddr, IpAddr) {
    if a <= b { (a, b) } else { (b, a) }
}

struct NetState {
    rng: StdRng,
    default_link: LinkConfig,
    links: BTreeMap<(IpAddr, IpAddr), LinkConfig>,
    partitions: BTreeSet<(IpAddr, IpAddr)>,
    listeners: BTreeMap<SocketAddr, mpsc::UnboundedSender<Connection>>,
    crashes: BTreeMap<IpAddr, u64>,
    next_port: u16,
}

/// The simulated network. Cloning it is cheap; every clone is the same network.
#[derive(Clone)]
pub struct SimNet {
    state: Arc<Mutex<NetState>>,
    changed: Arc<watch::Sender<u64>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for SimNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimNet").finish_non_exhaustive()
    }
}

impl SimNet {
    /// A network whose random choices (jitter, loss, ports) come from `seed`.
    pub fn new(seed: u64, clock: Arc<dyn Clock>, default_link: LinkConfig) -> Self {
        Self {
            state: Arc::new(Mutex::new(NetState {
                rng: StdRng::seed_from_u64(seed),
                default_link,
                links: BTreeMap::new(),
                partitions: BTreeSet::new(),
                listeners: BTreeMap::new(),
                crashes: BTreeMap::new(),
                next_port: 40_000,
            })),
            changed: Arc::new(watch::Sender::new(0)),
            clock,
        }
    }

    fn state(&self) -> MutexGuard<'_, NetState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn notify(&self) {
        self.changed.send_modify(|generation| *generation += 1);
    }

    /// Sets the link between `a` and `b`.
    pub fn set_link(&self, a: IpAddr, b: IpAddr, link: LinkConfig) {
        self.state().links.insert(pair_key(a, b), link);
    }

    /// Cuts every message between `a` and `b` until [`SimNet::heal`].
    pub fn partition(&self, a: IpAddr, b: IpAddr) {
        self.state().partitions.insert(pair_key(a, b));
        self.notify();
    }

    /// Restores the link between `a` and `b`.
    pub fn heal(&self, a: IpAddr, b: IpAddr) {
        self.state().partitions.remove(&pair_key(a, b));
        self.notify();
    }

    /// Restores every link.
    pub fn heal_all(&self) {
        self.state().partitions.clear();
        self.notify();
    }

    /// Marks the host `ip` as crashed: the connections it has open now vanish without their peers
    /// being told (no FIN, no RST), as when a machine loses power. Its later connections are
    /// normal.
    pub fn crash_host(&self, ip: IpAddr) {
        *self.state().crashes.entry(ip).or_default() += 1;
    }

    fn crash_count(&self, ip: IpAddr) -> u64 {
        self.state().crashes.get(&ip).copied().unwrap_or(0)
    }

    /// Whether `a` and `b` are partitioned.
    pub fn is_partitioned(&self, a: IpAddr, b: IpAddr) -> bool {
        self.state().partitions.contains(&pair_key(a, b))
    }

    /// Starts listening on `addr`, replacing any earlier listener there.
    pub fn listen(&self, addr: SocketAddr) -> SimListener {
        let (tx, rx) = mpsc::unbounded_channel();
        self.state().listeners.insert(addr, tx);
        SimListener { rx }
    }

    /// A connector from the node `from` to `to`.
    pub fn connector(&self, from: IpAddr, to: SocketAddr) -> SimConnector {
        SimConnector {
            net: self.clone(),
            from,
            to,
        }
    }

    /// Opens a connection from `from` to `to`, as a worker's connector does.
    pub async fn connect(&self, from: IpAddr, to: SocketAddr) -> Result<Connection, ConnectError> {
        let latency = self.link(from, to.ip()).latency;
        self.clock.sleep(latency).await;
        let (listener, local) = {
            let mut state = self.state();
            if state.partitions.contains(&pair_key(from, to.ip())) {
                return Err(ConnectError::Partitioned { from, to });
            }
            let listener = state
                .listeners
                .get(&to)
                .filter(|l| !l.is_closed())
                .cloned()
                .ok_or(ConnectError::Refused(to))?;
            state.next_port = state.next_port.checked_add(1).unwrap_or(40_000);
            (listener, SocketAddr::new(from, state.next_port))
        };
        let (client_end, server_end) = self.link_pair(local, to);
        listener
            .send(Connection {
                transport: Box::pin(server_end),
                peer: local,
            })
            .map_err(|_| ConnectError::Refused(to))?;
        Ok(Connection {
            transport: Box::pin(client_end),
            peer: to,
        })
    }

    fn link(&self, a: IpAddr, b: IpAddr) -> LinkConfig {
        let state = self.state();
        state
            .links
            .get(&pair_key(a, b))
            .copied()
            .unwrap_or(state.default_link)
    }

    /// When a message sent now from `from` to `to` arrives, or `None` if it is lost.
    fn route(&self, from: IpAddr, to: IpAddr, not_before: Instant) -> Option<Instant> {
        let mut state = self.state();
        if state.partitions.contains(&pair_key(from, to)) {
            return None;
        }
        let link = state
            .links
            .get(&pair_key(from, to))
            .copied()
            .unwrap_or(state.default_link);
        if link.loss > 0.0 && state.rng.random_bool(link.loss.clamp(0.0, 1.0)) {
            return None;
        }
        let jitter = if link.jitter.is_zero() {
            Duration::ZERO
        } else {
            Duration::from_nanos(state.rng.random_range(0..=link.jitter.as_nanos() as u64))
        };
        Some((self.clock.now() + link.latency + jitter).max(not_before))
    }

    fn link_pair(&self, a: SocketAddr, b: SocketAddr) -> (SimEnd, SimEnd) {
        let (a_sends, b_receives) = self.pipe(a, b);
        let (b_sends, a_receives) = self.pipe(b, a);
        (
            self.end(a, b, a_sends, a_receives),
            self.end(b, a, b_sends, b_receives),
        )
    }

    fn end(
        &self,
        local: SocketAddr,
        peer: SocketAddr,
        tx: mpsc::UnboundedSender<(Instant, Message)>,
        rx: mpsc::UnboundedReceiver<Message>,
    ) -> SimEnd {
        let net = self.clone();
        let mut last = Instant::default();
        ChannelEnd {
            tx: Some(tx),
            rx,
            peer,
            wrap: Box::new(move |message| {
                let at = net.route(local.ip(), peer.ip(), last)?;
                last = at;
                Some((at, message))
            }),
        }
    }

    /// Spawns the one-way pipe `from -> to`: returns its sending side and the receiving side of
    /// its destination.
    fn pipe(
        &self,
        from: SocketAddr,
        to: SocketAddr,
    ) -> (
        mpsc::UnboundedSender<(Instant, Message)>,
        mpsc::UnboundedReceiver<Message>,
    ) {
        let (in_tx, mut in_rx) = mpsc::unbounded_channel::<(Instant, Message)>();
        let (out_tx, out_rx) = mpsc::unbounded_channel();
        let net = self.clone();
        let crashes_at_open = self.crash_count(from.ip());
        tokio::spawn(async move {
            while let Some((at, message)) = in_rx.recv().await {
                net.clock.sleep_until(at).await;
                let _ = out_tx.send(message);
            }
            if net.crash_count(from.ip()) != crashes_at_open {
                out_tx.closed().await;
                return;
            }
            let mut changed = net.changed.subscribe();
            while net.is_partitioned(from.ip(), to.ip()) {
                if changed.changed().await.is_err() {
                    return;
                }
            }
            net.clock.sleep(net.link(from.ip(), to.ip()).latency).await;
            drop(out_tx);
        });
        (in_tx, out_rx)
    }
}

/// The accepting side of a simulated address.
#[derive(Debug)]
pub struct SimListener {
    rx: mpsc::UnboundedReceiver<Connection>,
}

#[async_trait]
impl Listener for SimListener {
    async fn accept(&mut self) -> Result<Option<Connection>, TransportError> {
        Ok(self.rx.recv().await)
    }
}

/// A worker's way to its master over the simulated network.
#[derive(Debug, Clone)]
pub struct SimConnector {
    net: SimNet,
    from: IpAddr,
    to: SocketAddr,
}

#[async_trait]
impl Connector for SimConnector {
    async fn connect(&self) -> Result<Connection, TransportError> {
        self.net
            .connect(self.from, self.to)
            .await
            .map_err(|e| TransportError::new(self.to, e))
    }
}
