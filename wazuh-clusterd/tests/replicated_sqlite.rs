//! The Raft storage on SQLite: openraft's storage conformance suite on a file and in memory,
//! and a node that restarts from its database (log, vote, snapshot and state machine) with
//! nothing lost.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use openraft::testing::log::{StoreBuilder, Suite};
use openraft::{BasicNode, Config, SnapshotPolicy, StorageError};
use tempfile::TempDir;
use wazuh_cluster_core::agents::{AgentId, AgentIp, AgentKey};
use wazuh_cluster_core::replicated::memory::MemoryRouter;
use wazuh_cluster_core::replicated::{
    Applied, ManifestEntry, PeerNetwork, RegistryCommand, RegistryRaft, RegistryRaftConfig,
};
use wazuh_clusterd::replicated::{RaftDb, SqliteLogStore, SqliteStateMachine};
use wazuh_clusterd::storage::SqliteStorage;

const WAIT: Option<Duration> = Some(Duration::from_secs(20));

struct OnFile;

impl StoreBuilder<RegistryRaftConfig, SqliteLogStore, SqliteStateMachine, TempDir> for OnFile {
    async fn build(
        &self,
    ) -> Result<(TempDir, SqliteLogStore, SqliteStateMachine), StorageError<RegistryRaftConfig>>
    {
        let dir = tempfile::tempdir().expect("temp dir");
        let storage = SqliteStorage::open_in_home(dir.path())
            .await
            .expect("database");
        let db = RaftDb::open(&storage).await.expect("Raft connections");
        let machine = db.state_machine().await.expect("state machine");
        Ok((dir, db.log_store(), machine))
    }
}

struct InMemory;

impl StoreBuilder<RegistryRaftConfig, SqliteLogStore, SqliteStateMachine> for InMemory {
    async fn build(
        &self,
    ) -> Result<((), SqliteLogStore, SqliteStateMachine), StorageError<RegistryRaftConfig>> {
        let storage = SqliteStorage::in_memory().await.expect("database");
        let db = RaftDb::open(&storage).await.expect("Raft connections");
        let machine = db.state_machine().await.expect("state machine");
        Ok(((), db.log_store(), machine))
    }
}

#[tokio::test]
async fn file_passes_openraft_storage_suite() {
    Suite::test_all(OnFile)
        .await
        .unwrap_or_else(|e| panic!("openraft storage suite on a file: {e}"));
}

#[tokio::test]
async fn in_memory_passes_openraft_storage_suite() {
    Suite::test_all(InMemory)
        .await
        .unwrap_or_else(|e| panic!("openraft storage suite in memory: {e}"));
}

type Node = RegistryRaft<SqliteStateMachine>;

/// A one-member cluster on the database of `home`; initialized when `fresh`.
async fn start(home: &Path, config: &Config, fresh: bool) -> (Node, SqliteStateMachine) {
    let storage = SqliteStorage::open_in_home(home).await.expect("database");
    let db = RaftDb::open(&storage).await.expect("Raft connections");
    let machine = db.state_machine().await.expect("state machine");
    let raft = Node::new(
        1,
        Arc::new(config.clone().validate().expect("valid config")),
        PeerNetwork::new(Arc::new(MemoryRouter::<SqliteStateMachine>::new())),
        db.log_store(),
        machine.clone(),
    )
    .await
    .expect("Raft node starts");
    if fresh {
        raft.initialize(BTreeMap::from([(1, BasicNode::new("127.0.0.1:1516"))]))
            .await
            .expect("initializes");
    }
    raft.wait(WAIT)
        .leader_with_quorum_acked(None, "leads alone")
        .await
        .expect("the only member leads");
    (raft, machine)
}

fn registration(i: u32) -> RegistryCommand {
    RegistryCommand::RegisterAgent {
        id: None,
        name: format!("agent-{i:04}"),
        ip: format!("10.0.{}.{}", i / 250, i % 250 + 1)
            .parse()
            .expect("IP"),
        key: AgentKey::from_bytes([i as u8; 32]),
        groups: Vec::new(),
        registered_at: 1_700_000_000 + i64::from(i),
    }
}

#[tokio::test]
async fn a_restarted_node_has_every_committed_change() {
    let home = tempfile::tempdir().expect("temp dir");
    let config = Config {
        snapshot_policy: SnapshotPolicy::LogsSinceLast(40),
        max_in_snapshot_log_to_keep: 5,
        ..Config::default()
    };
    let (raft, machine) = start(home.path(), &config, true).await;
    let writes = (0..100).map(|i| raft.client_write(registration(i)));
    for answer in join_all(writes).await {
        assert!(matches!(
            answer.expect("committed").response().0,
            Ok(Applied::Registered { .. })
        ));
    }
    for command in [
        RegistryCommand::CreateGroup { name: "web".into() },
        RegistryCommand::AssignGroup {
            id: AgentId(7),
            group: "web".into(),
        },
        RegistryCommand::DeleteAgent { id: AgentId(3) },
        RegistryCommand::SetManifestEntries {
            entries: vec![ManifestEntry {
                path: "etc/shared/web/agent.conf".into(),
                hash: "ab".repeat(64),
                mode: 0o660,
            }],
        },
    ] {
        assert!(
            raft.client_write(command)
                .await
                .expect("committed")
                .response()
                .0
                .is_ok()
        );
    }
    raft.wait(WAIT)
        .metrics(|m| m.purged.is_some(), "snapshot and purge")
        .await
        .expect("the log is compacted");
    let before = machine.read(|s| s.clone()).await;
    raft.shutdown().await.expect("stops");
    drop((raft, machine));

    let (raft, machine) = start(home.path(), &config, false).await;
    let after = machine.read(|s| s.clone()).await;
    assert_eq!(
        after.registry, before.registry,
        "the registry survives a restart"
    );
    assert_eq!(after.registry.data().agents.len(), 99);
    assert_eq!(
        after.registry.agent(AgentId(7)).expect("agent 7").groups,
        ["default", "web"]
    );
    assert!(after.registry.agent(AgentId(3)).is_none());
    assert_eq!(after.registry.data().manifest.len(), 1);
    // The restarted log continues: ids keep increasing after the restart.
    let answer = raft
        .client_write(registration(500))
        .await
        .expect("committed");
    assert_eq!(
        answer.response().0,
        Ok(Applied::Registered { id: AgentId(101) })
    );
    let agent = machine
        .read(|s| s.registry.agent(AgentId(101)).cloned())
        .await;
    assert_eq!(
        agent.expect("agent 101").ip,
        "10.0.2.1".parse::<AgentIp>().expect("IP")
    );
    raft.shutdown().await.expect("stops");
}
