//! Master failover (`<failover>yes</failover>`): the Raft group of the master-eligible nodes
//! (every `<node>`), which decides which of them serves as master, and replicates the agent
//! registry (`wazuh_cluster_core::replicated`).
//!
//! - Members: the `<nodes>` entries, member id = position + 1 (every node lists the same
//!   `<nodes>` in the same order); a member's address is its cluster `host:port`.
//! - Transport: the `raft_*` commands of `wazuh_cluster_proto::payload::raft`, Fernet-framed
//!   (inside TLS with `<tls>`) like all cluster traffic, on each member's cluster port, without
//!   `hello` (open routes served by the master and by the standby's redirect listener).
//! - Storage: the log and the state machine in the node's SQLite database (`RaftDb`), every
//!   commit fsynced before it is acknowledged.
//! - Roles: [`FailoverNode::follow`] turns leadership ([`Leadership`]) into the role the
//!   supervisor runs: master while leading with a fresh quorum, standby (worker of the master
//!   plus redirections on the cluster port) otherwise; it logs every election and step-down.
//! - Timers: heartbeat [`HEARTBEAT`], election timeout [`ELECTION_TIMEOUT`], and the lease
//!   [`LEASE`] (shorter than the shortest election timeout) a leader must hold to serve.

pub mod manifest;
pub mod master_side;
mod sessions;
pub mod standby;

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::Duration;

use openraft::async_runtime::WatchReceiver;
use openraft::{BasicNode, Config, SnapshotPolicy};
use rand::Rng;
use tokio::sync::watch;
use wazuh_cluster_core::replicated::runtime::seed_election_rng;
use wazuh_cluster_core::replicated::{
    Leadership, MemberDirectory, PeerNetwork, RegistryRaft, SessionConnector, install_raft_routes,
};
use wazuh_cluster_core::session::{DuplicateRoute, Router};
use wazuh_cluster_proto::Fernet;
use wazuh_cluster_proto::payload::MasterLocation;

use super::NodeError;
use crate::clock::SystemClock;
use crate::config::{ClusterConfig, NodeType};
use crate::net::{ClusterTls, PeerObserver, ReplayProtection, TcpConnector};
use crate::replicated::{RaftDb, SqliteStateMachine};
use crate::storage::SqliteStorage;
use sessions::RaftSessions;
use wazuh_cluster_core::agents::{AgentRecord, AgentStore};

/// The replicated registry's Raft node in the daemon.
pub type ReplicatedRaft = RegistryRaft<SqliteStateMachine>;

/// How often the leader sends heartbeats.
pub const HEARTBEAT: Duration = Duration::from_millis(250);
/// A follower that hears no leader for a random time in this range starts an election.
pub const ELECTION_TIMEOUT: RangeInclusive<Duration> =
    Duration::from_millis(1200)..=Duration::from_millis(2400);
/// How fresh a leader's last quorum acknowledgement must be for it to serve as master.
pub const LEASE: Duration = Duration::from_millis(1000);
/// Log entries between two snapshots (a snapshot holds the whole registry).
const SNAPSHOT_EVERY: u64 = 20_000;

/// This node's membership in the Raft group.
#[derive(Clone)]
pub struct FailoverNode {
    /// The Raft node.
    pub raft: ReplicatedRaft,
    /// Its state machine (the committed registry).
    pub machine: SqliteStateMachine,
    /// Member names, learned from the Raft traffic.
    pub members: MemberDirectory,
    /// Member addresses (`host:port`), by member id.
    pub addresses: Arc<BTreeMap<u64, String>>,
    /// The agents and groups this node held from the single-master mode when it joined a
    /// replicated registry that had none, until it leads and imports them.
    pub pending_import: Arc<std::sync::Mutex<Option<LocalRegistry>>>,
}

/// The agents and groups of a node's own store (what a master that ran without failover holds).
#[derive(Debug, Clone)]
pub struct LocalRegistry {
    /// The agents.
    pub agents: Vec<AgentRecord>,
    /// The groups.
    pub groups: Vec<String>,
}

impl std::fmt::Debug for FailoverNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FailoverNode")
            .field("id", &self.members.own_id())
            .field("addresses", &self.addresses)
            .finish_non_exhaustive()
    }
}

/// The member ids and addresses `<nodes>` gives.
fn member_addresses(config: &ClusterConfig) -> BTreeMap<u64, (String, u16)> {
    config
        .nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            (
                i as u64 + 1,
                (node.host_string(), node.port_or(config.port)),
            )
        })
        .collect()
}

fn raft_config() -> Config {
    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    Config {
        cluster_name: "wazuh-cluster".to_owned(),
        heartbeat_interval: ms(HEARTBEAT),
        election_timeout_min: ms(*ELECTION_TIMEOUT.start()),
        election_timeout_max: ms(*ELECTION_TIMEOUT.end()),
        snapshot_policy: SnapshotPolicy::LogsSinceLast(SNAPSHOT_EVERY),
        ..Config::default()
    }
}

impl FailoverNode {
    /// Opens the Raft storage in `storage`'s database and joins the group of `config`'s
    /// `<nodes>` (initializing it on a new cluster: every member proposes the same membership,
    /// which openraft allows).
    pub async fn start(
        config: &ClusterConfig,
        home: &std::path::Path,
        storage: &SqliteStorage,
        fernet: Fernet,
        clock: SystemClock,
        peers: &PeerObserver,
    ) -> Result<FailoverNode, NodeError> {
        let own = config
            .own_node
            .expect("a master-eligible node found itself in <nodes> (checked by the config)")
            as u64
            + 1;
        let members = MemberDirectory::new(own, config.node_name.clone());
        let addresses = member_addresses(config);
        let tls = ClusterTls::from_config(config, home)?;
        let connectors = addresses
            .iter()
            .filter(|&(&id, _)| id != own)
            .map(|(&id, (host, port))| {
                let connector =
                    TcpConnector::new(host.clone(), *port, fernet.clone(), clock, "Raft")
                        .with_replay(ReplayProtection::from_config(config))
                        .with_tls(tls.clone())
                        .observed_by(peers.clone());
                (id, connector)
            })
            .collect();
        let sessions = Arc::new(RaftSessions::new(connectors, clock));
        let network = PeerNetwork::new(Arc::new(SessionConnector::new(sessions, members.clone())));
        let db = RaftDb::open(storage).await?;
        let machine = db.state_machine().await?;
        let pending_import = pending_import(storage, &machine).await?;
        seed_election_rng(rand::rng().random());
        let raft_config = Arc::new(raft_config().validate().expect("the Raft timers are valid"));
        let raft = ReplicatedRaft::new(own, raft_config, network, db.log_store(), machine.clone())
            .await
            .map_err(|e| NodeError::Raft(e.to_string()))?;
        let nodes: BTreeMap<u64, BasicNode> = addresses
            .iter()
            .map(|(&id, (host, port))| (id, BasicNode::new(address(host, *port))))
            .collect();
        if !raft
            .is_initialized()
            .await
            .map_err(|e| NodeError::Raft(e.to_string()))?
        {
            // Every member of a new cluster proposes the same membership; a member that already
            // heard from another refuses, which is fine.
            if let Err(error) = raft.initialize(nodes.clone()).await {
                tracing::debug!(
                    tag = "Cluster",
                    subtag = "Raft",
                    "Not initializing: {error}"
                );
            }
        }
        tracing::info!(
            tag = "Cluster",
            subtag = "Raft",
            "Master-eligible member {own} of {} ({}).",
            nodes.len(),
            nodes
                .iter()
                .map(|(id, n)| format!("{id}={}", n.addr))
                .collect::<Vec<_>>()
                .join(", ")
        );
        Ok(FailoverNode {
            raft,
            machine,
            members,
            addresses: Arc::new(nodes.into_iter().map(|(id, n)| (id, n.addr)).collect()),
            pending_import: Arc::new(std::sync::Mutex::new(pending_import)),
        })
    }

    /// Routes the Raft RPCs of `router` to this node.
    pub fn install_routes<Ctx: Send + Sync + 'static>(
        &self,
        router: &mut Router<Ctx>,
    ) -> Result<(), DuplicateRoute> {
        install_raft_routes(router, self.raft.clone(), &self.members)
    }

    /// Where member `id` is, as a worker is told to go there.
    pub fn location(&self, id: u64) -> Option<MasterLocation> {
        let address = self.addresses.get(&id)?.clone();
        Some(MasterLocation {
            name: self.members.name(id).unwrap_or_else(|| address.clone()),
            address,
        })
    }

    /// Follows leadership until the node stops: `roles` gets the role to run (master while
    /// leading with a fresh quorum, worker otherwise), `master` the master's location. Logs
    /// every election and step-down.
    pub async fn follow(
        &self,
        roles: watch::Sender<NodeType>,
        master: watch::Sender<Option<MasterLocation>>,
    ) {
        let mut metrics = self.raft.metrics();
        let mut last: Option<Leadership> = None;
        loop {
            let now = Leadership::of(&metrics.borrow_watched(), LEASE);
            if last != Some(now) {
                self.announce(last, now);
                last = Some(now);
                let (role, location) = match now {
                    Leadership::Leading { .. } => (NodeType::Master, None),
                    Leadership::Following { leader, .. } => {
                        (NodeType::Worker, leader.and_then(|id| self.location(id)))
                    }
                };
                master.send_replace(location);
                roles.send_if_modified(|current| {
                    let changed = *current != role;
                    *current = role;
                    changed
                });
            } else if let Leadership::Following {
                leader: Some(id), ..
            } = now
            {
                // The leader's name arrives with its first heartbeat after the election.
                let location = self.location(id);
                master.send_if_modified(|current| {
                    let changed = *current != location;
                    current.clone_from(&location);
                    changed
                });
            }
            // The lease runs out without any metric changing: look again at least every
            // heartbeat.
            tokio::select! {
                changed = metrics.changed() => if changed.is_err() { return },
                () = tokio::time::sleep(HEARTBEAT) => {}
            }
        }
    }

    fn announce(&self, before: Option<Leadership>, now: Leadership) {
        let tag = "Cluster";
        match now {
            Leadership::Leading { term } => tracing::info!(
                tag,
                subtag = "Raft",
                "Elected master (term {term}): this node serves as master now."
            ),
            Leadership::Following { term, leader } => {
                if matches!(before, Some(Leadership::Leading { .. })) {
                    tracing::warn!(
                        tag,
                        subtag = "Raft",
                        "Stepping down (term {term}): this node lost its quorum or another \
                         node was elected; it runs as a worker of the master now."
                    );
                }
                match leader.and_then(|id| self.location(id).map(|l| (id, l))) {
                    Some((id, location)) => tracing::info!(
                        tag,
                        subtag = "Raft",
                        "Master is member {id} {} at {} (term {term}).",
                        location.name,
                        location.address
                    ),
                    None => tracing::info!(
                        tag,
                        subtag = "Raft",
                        "No master elected (term {term}); waiting for a quorum of \
                         master-eligible nodes."
                    ),
                }
            }
        }
    }
}

/// The agents of this node's store when the replicated registry has none: kept before any role
/// runs (a standby's worker role drops agents that are not in the master's `client.keys`), to
/// be imported when this node leads.
async fn pending_import(
    storage: &SqliteStorage,
    machine: &SqliteStateMachine,
) -> Result<Option<LocalRegistry>, NodeError> {
    let replicated = machine
        .read(|state| !state.registry.data().agents.is_empty())
        .await;
    if replicated {
        return Ok(None);
    }
    let failed = |e: &dyn std::fmt::Display| {
        NodeError::Raft(format!("reading the local agents to import: {e}"))
    };
    let agents = storage.agents().await.map_err(|e| failed(&e))?;
    if agents.is_empty() {
        return Ok(None);
    }
    let groups = storage.groups().await.map_err(|e| failed(&e))?;
    tracing::info!(
        tag = "Cluster",
        subtag = "Raft",
        "{} agents of the single-master registry wait to be imported into the replicated \
         registry; they are imported when this node is master (hand the role to it with \
         cluster_control --transfer-master if another node is elected first).",
        agents.len()
    );
    Ok(Some(LocalRegistry { agents, groups }))
}

/// `host:port`, with brackets around an IPv6 address.
fn address(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}
