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

fn registered(id: u32) -> AgentRecord {
    AgentRecord {
        id: AgentId(id),
        name: format!("agent{id}"),
        ip: AgentIp::Any,
        key: AgentKey::from_bytes([1; 32]),
        groups: Vec::new(),
        registered_at: 0,
    }
}

fn seen(id: u32, keepalive: i64, node: &str) -> AgentInfoRecord {
    AgentInfoRecord {
        id: AgentId(id),
        status: ConnectionStatus::Active,
        last_keepalive: Some(keepalive),
        disconnection_time: None,
        version: None,
        os: None,
        node: Some(node.into()),
    }
}

/// Ingests of many workers at once (written together by the group commit) each get their own
/// result, and land in the order they were sent: of two rows of one agent for the same time
/// from two nodes, the first sent stays (a row of another node with an equal time never wins).
#[tokio::test]
async fn concurrent_ingests_get_their_own_results_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStorage::open_in_home(dir.path()).await.unwrap();
    let agents: Vec<AgentRecord> = (1..=2_000).map(registered).collect();
    store.upsert_agents(&agents).await.unwrap();
    // 40 workers of 50 agents each, plus one row of an agent nobody registered per worker;
    // then two workers report agent 1 at the same time, `w-late` after `w-early`.
    let envelopes: Vec<(String, Vec<AgentInfoRecord>)> = (0..40u32)
        .map(|w| {
            let node = format!("w{w:02}");
            let mut rows: Vec<AgentInfoRecord> =
                (1..=50).map(|i| seen(w * 50 + i, 500, &node)).collect();
            rows.push(seen(90_000 + w, 500, &node));
            (node, rows)
        })
        .chain([
            ("w-early".to_owned(), vec![seen(1, 900, "w-early")]),
            ("w-late".to_owned(), vec![seen(1, 900, "w-late")]),
        ])
        .collect();
    let results =
        futures_util::future::join_all(envelopes.iter().map(|(_, rows)| store.ingest_info(rows)))
            .await;
    for ((node, rows), result) in envelopes.iter().zip(&results) {
        let ingested = result.as_ref().unwrap();
        match node.as_str() {
            "w-early" => assert_eq!(ingested.written, 1, "{node}"),
            "w-late" => assert_eq!(ingested.written, 0, "{node}: same time, other node"),
            _ => {
                assert_eq!(ingested.written, rows.len() - 1, "{node}");
                assert_eq!(ingested.unknown, 1, "{node}");
            }
        }
    }
    let infos = store.infos().await.unwrap();
    assert_eq!(infos.len(), 2_000);
    assert_eq!(infos[0].node.as_deref(), Some("w-early"));
    assert_eq!(infos[0].last_keepalive, Some(900));
    assert_eq!(infos[1_999].node.as_deref(), Some("w39"));
    store.close().await;
}

/// An ingest that fails among others written at the same moment fails alone: its rows are
/// not written (all or nothing, also for an envelope of several statements), the others are.
#[tokio::test]
async fn a_failed_ingest_among_others_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStorage::open_in_home(dir.path()).await.unwrap();
    let agents: Vec<AgentRecord> = (1..=20_000).map(registered).collect();
    store.upsert_agents(&agents).await.unwrap();
    sqlx::query(
        "CREATE TRIGGER refuse_13 BEFORE INSERT ON agent_info WHEN NEW.id IN (13, 19999) \
         BEGIN SELECT RAISE(ABORT, 'refused'); END",
    )
    .execute(store.pool())
    .await
    .unwrap();
    let small_good: Vec<AgentInfoRecord> = (1..=10).map(|i| seen(i, 5, "w1")).collect();
    let small_bad: Vec<AgentInfoRecord> = (11..=20).map(|i| seen(i, 5, "w2")).collect();
    // More rows than one statement holds: the refused row is in its last statement.
    let large_bad: Vec<AgentInfoRecord> = (5_000..=19_999).map(|i| seen(i, 5, "w3")).collect();
    let large_good: Vec<AgentInfoRecord> = (100..=4_999).map(|i| seen(i, 5, "w4")).collect();
    let (a, b, c, d) = tokio::join!(
        store.ingest_info(&small_good),
        store.ingest_info(&small_bad),
        store.ingest_info(&large_bad),
        store.ingest_info(&large_good),
    );
    assert_eq!(a.unwrap().written, 10);
    let refused = b.unwrap_err();
    assert!(
        refused.to_string().contains("ingest 10 agent-info rows"),
        "{refused}"
    );
    assert!(c.is_err(), "the large envelope with a refused row");
    assert_eq!(d.unwrap().written, 4_900);
    let infos = store.infos().await.unwrap();
    assert_eq!(
        infos.len(),
        10 + 4_900,
        "none of the refused envelopes' rows"
    );
    assert!(infos.iter().all(|i| i.node.as_deref() != Some("w2")));
    assert!(infos.iter().all(|i| i.node.as_deref() != Some("w3")));
    store.close().await;
}
