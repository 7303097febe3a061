//! [`RaftSessions`]: the connections a master-eligible node opens to the other members for its
//! Raft RPCs: one per member, opened on first use (TCP or mutual TLS, Fernet, no `hello`: the
//! RPCs are open routes on the member's cluster port), reopened after it closes.
//!
//! Each member has its own lock, so a member that does not answer delays only its own RPCs,
//! never the votes and heartbeats to the others.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use openraft::BasicNode;
use tokio::sync::Mutex;
use wazuh_cluster_core::replicated::{PeerError, SessionSource};
use wazuh_cluster_core::session::{Router, SessionHandle, SessionParts, session};
use wazuh_cluster_core::{Connector, SessionConfig};

use crate::clock::SystemClock;
use crate::net::TcpConnector;

/// One member: how to reach it, and the session open to it now.
struct Member {
    connector: TcpConnector,
    session: Mutex<Option<SessionHandle>>,
}

/// Sessions to the other members of the Raft group.
pub(super) struct RaftSessions {
    members: BTreeMap<u64, Member>,
    clock: SystemClock,
}

impl RaftSessions {
    /// Sessions to `members` (id → its connector).
    pub(super) fn new(members: BTreeMap<u64, TcpConnector>, clock: SystemClock) -> Self {
        RaftSessions {
            members: members
                .into_iter()
                .map(|(id, connector)| {
                    let member = Member {
                        connector,
                        session: Mutex::new(None),
                    };
                    (id, member)
                })
                .collect(),
            clock,
        }
    }
}

#[async_trait]
impl SessionSource for RaftSessions {
    async fn session(&self, target: u64, node: &BasicNode) -> Result<SessionHandle, PeerError> {
        let member = self
            .members
            .get(&target)
            .ok_or_else(|| PeerError::Unreachable {
                reason: format!(
                    "node {target} ({}) is not in <nodes>; every member must list the same \
                     <nodes> in the same order",
                    node.addr
                ),
            })?;
        let mut open = member.session.lock().await;
        if let Some(session) = open.as_ref().filter(|s| !s.is_closed()) {
            return Ok(session.clone());
        }
        let connection =
            member
                .connector
                .connect()
                .await
                .map_err(|error| PeerError::Unreachable {
                    reason: error.to_string(),
                })?;
        let (handle, driver) = session(
            connection.transport,
            SessionParts {
                router: Arc::new(Router::new()),
                ctx: Arc::new(()),
                clock: Arc::new(self.clock),
                config: SessionConfig::default(),
                counter_start: 0,
                peer: connection.peer,
                tag: format!("Raft {}", node.addr),
            },
        );
        tokio::spawn(driver.run());
        *open = Some(handle.clone());
        Ok(handle)
    }
}
