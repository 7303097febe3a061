//! The SQLite agent store against the core's agent-store conformance suite, in memory and on a
//! file, plus survival across a reopen.

use wazuh_cluster_core::agents::store_suite::check_agent_store;
use wazuh_cluster_core::agents::{
    AgentId, AgentInfoRecord, AgentIp, AgentKey, AgentRecord, AgentStore, ConnectionStatus,
};
use wazuh_clusterd::storage::SqliteStorage;

#[tokio::test]
async fn in_memory_passes_the_agent_store_suite() {
    let store = SqliteStorage::in_memory().await.expect("in memory");
    check_agent_store(&store).await;
}

#[tokio::test]
async fn file_passes_the_agent_store_suite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStorage::open_in_home(dir.path()).await.unwrap();
    check_agent_store(&store).await;
    store.close().await;
}

#[tokio::test]
async fn agents_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let agent = AgentRecord {
        id: AgentId(12),
        name: "web-12".into(),
        ip: "10.0.0.12".parse::<AgentIp>().unwrap(),
        key: AgentKey::from_bytes([0xab; 32]),
        groups: vec!["web".into(), "default".into()],
        registered_at: 1_727_784_000,
    };
    let info = AgentInfoRecord {
        id: AgentId(12),
        status: ConnectionStatus::Active,
        last_keepalive: Some(1_727_784_100),
        disconnection_time: None,
        version: Some("Wazuh v4.9.2".into()),
        os: None,
        node: Some("worker02".into()),
    };
    let store = SqliteStorage::open_in_home(dir.path()).await.unwrap();
    store.insert_agent(&agent).await.unwrap();
    store.insert_group("web").await.unwrap();
    store
        .set_agent_groups(AgentId(40), &["web".into()])
        .await
        .unwrap();
    store.apply_info(std::slice::from_ref(&info)).await.unwrap();
    store.close().await;

    let reopened = SqliteStorage::open_in_home(dir.path()).await.unwrap();
    assert_eq!(reopened.agents().await.unwrap(), vec![agent.clone()]);
    assert_eq!(
        reopened.agents().await.unwrap()[0].key.as_str(),
        agent.key.as_str()
    );
    assert_eq!(reopened.groups().await.unwrap(), ["web"]);
    assert_eq!(reopened.agent_groups().await.unwrap().len(), 2);
    assert_eq!(
        reopened.infos_of(&[AgentId(12)]).await.unwrap(),
        vec![info.clone()]
    );
    // The stored time still decides after the reopen: an older row from another node loses.
    let stale = AgentInfoRecord {
        last_keepalive: Some(1_727_784_050),
        node: Some("worker01".into()),
        ..info.clone()
    };
    assert_eq!(reopened.apply_info(&[stale]).await.unwrap(), 0);
    assert_eq!(reopened.infos().await.unwrap(), vec![info]);
    reopened.close().await;
}

/// An operation on a store closed by the node's stop fails with the typed "closed" kind (the
/// caller logs what was cut as a warning), not as a failure of the database.
#[tokio::test]
async fn operations_on_a_closed_store_say_closed() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStorage::open_in_home(dir.path()).await.unwrap();
    store.close().await;
    let set = store
        .set_agent_groups(AgentId(1888), &["loadtest-g07".into()])
        .await
        .unwrap_err();
    assert!(set.is_closed(), "{set}");
    assert!(set.to_string().contains("the node stops"), "{set}");
    let batch = store
        .set_groups_of(&[(AgentId(1), vec!["web".into()])])
        .await
        .unwrap_err();
    assert!(batch.is_closed(), "{batch}");
    assert!(store.agent_groups().await.unwrap_err().is_closed());
    let info = AgentInfoRecord {
        id: AgentId(1),
        status: ConnectionStatus::Active,
        last_keepalive: Some(1),
        disconnection_time: None,
        version: None,
        os: None,
        node: None,
    };
    assert!(store.ingest_info(&[info]).await.unwrap_err().is_closed());
}

/// A real failure keeps the failure kind: the caller logs it as an error.
#[tokio::test]
async fn a_refused_write_is_a_failure_not_a_close() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStorage::open_in_home(dir.path()).await.unwrap();
    let agent = AgentRecord {
        id: AgentId(1),
        name: "a".into(),
        ip: AgentIp::Any,
        key: AgentKey::from_bytes([1; 32]),
        groups: Vec::new(),
        registered_at: 0,
    };
    store.insert_agent(&agent).await.unwrap();
    let refused = store.insert_agent(&agent).await.unwrap_err();
    assert!(!refused.is_closed(), "{refused}");
    assert!(refused.to_string().contains("failed"), "{refused}");
    store.close().await;
}
