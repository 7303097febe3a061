//! The conformance suite every [`AgentStore`] must pass. Give it an empty store:
//! `check_agent_store(&MyStore::open(..).await?).await`; it panics on the first broken
//! obligation.

use super::model::{AgentId, AgentInfoRecord, AgentIp, AgentKey, AgentRecord, ConnectionStatus};
use super::store::{AgentStore, InfoIngested, count_statuses};

fn record(id: u32, name: &str, groups: &[&str]) -> AgentRecord {
    AgentRecord {
        id: AgentId(id),
        name: name.to_owned(),
        ip: if id.is_multiple_of(2) {
            AgentIp::Any
        } else {
            AgentIp::Addr(format!("10.0.0.{id}").parse().expect("valid ip"))
        },
        key: AgentKey::from_bytes([id as u8; 32]),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        registered_at: 1_700_000_000 + i64::from(id),
    }
}

fn info(id: u32, node: &str, keepalive: i64) -> AgentInfoRecord {
    AgentInfoRecord {
        id: AgentId(id),
        status: ConnectionStatus::Active,
        last_keepalive: Some(keepalive),
        disconnection_time: None,
        version: Some("Wazuh v4.9.2".into()),
        os: Some("Ubuntu".into()),
        node: Some(node.into()),
    }
}

/// Runs every check on `store`, which must be empty.
pub async fn check_agent_store(store: &dyn AgentStore) {
    assert!(
        store.agents().await.unwrap().is_empty(),
        "the suite needs an empty store"
    );
    registry_round_trip(store).await;
    upsert_replaces_and_keeps_info(store).await;
    groups_and_assignments(store).await;
    info_newer_wins(store).await;
    ingest_registered_newer_wins(store).await;
    lookups_by_id(store).await;
    silent_agents_disconnect(store).await;
    status_counts_match_the_rows(store).await;
    removal_is_complete_and_targeted(store).await;
}

async fn registry_round_trip(store: &dyn AgentStore) {
    let a = record(3, "web", &["default", "web"]);
    let b = record(1, "db", &["default"]);
    store.insert_agent(&a).await.unwrap();
    store.insert_agent(&b).await.unwrap();
    assert!(
        store.insert_agent(&record(3, "other", &[])).await.is_err(),
        "an existing id is refused"
    );
    let agents = store.agents().await.unwrap();
    assert_eq!(
        agents,
        vec![b.clone(), a.clone()],
        "ascending by id, groups included"
    );
    assert_eq!(agents[1].key.as_str(), a.key.as_str());
}

async fn upsert_replaces_and_keeps_info(store: &dyn AgentStore) {
    let old = record(21, "edge", &["default"]);
    store.insert_agent(&old).await.unwrap();
    let info = AgentInfoRecord {
        id: AgentId(21),
        status: ConnectionStatus::Active,
        last_keepalive: Some(1_700_000_000),
        disconnection_time: None,
        version: Some("Wazuh v4.9.2".to_owned()),
        os: None,
        node: Some("worker01".to_owned()),
    };
    store.apply_info(std::slice::from_ref(&info)).await.unwrap();
    let changed = record(21, "edge", &["default", "dmz"]);
    let new = record(22, "core", &[]);
    store
        .upsert_agents(&[changed.clone(), new.clone()])
        .await
        .unwrap();
    let agents = store.agents().await.unwrap();
    let held: Vec<&AgentRecord> = agents.iter().filter(|a| a.id.0 >= 21).collect();
    assert_eq!(held, vec![&changed, &new], "replaced and inserted");
    assert_eq!(
        store.infos_of(&[AgentId(21)]).await.unwrap(),
        vec![info],
        "an upsert keeps the agent-info"
    );
    store.remove_agent(AgentId(21)).await.unwrap();
    store.remove_agent(AgentId(22)).await.unwrap();
}

async fn groups_and_assignments(store: &dyn AgentStore) {
    assert!(store.insert_group("web").await.unwrap());
    assert!(store.insert_group("default").await.unwrap());
    assert!(
        !store.insert_group("web").await.unwrap(),
        "a group exists once"
    );
    assert_eq!(store.groups().await.unwrap(), ["default", "web"]);
    let groups = vec!["web".to_owned(), "default".to_owned()];
    store.set_agent_groups(AgentId(1), &groups).await.unwrap();
    // A worker holds assignments of agents it has no record of.
    store.set_agent_groups(AgentId(50), &groups).await.unwrap();
    let assignments = store.agent_groups().await.unwrap();
    assert_eq!(
        assignments.iter().map(|(id, _)| id.0).collect::<Vec<_>>(),
        [1, 3, 50]
    );
    assert_eq!(assignments[0].1, groups, "order of groups is kept");
    assert_eq!(store.agents().await.unwrap()[0].groups, groups);
    store.set_agent_groups(AgentId(50), &[]).await.unwrap();
    assert_eq!(
        store.agent_groups().await.unwrap().len(),
        2,
        "empty list removes"
    );
    let web = vec!["web".to_owned()];
    store
        .set_groups_of(&[
            (AgentId(60), groups.clone()),
            (AgentId(1), Vec::new()),
            (AgentId(61), web.clone()),
            (AgentId(60), web.clone()),
        ])
        .await
        .unwrap();
    assert_eq!(
        store.agent_groups().await.unwrap(),
        [
            (AgentId(3), vec!["default".to_owned(), "web".to_owned()]),
            (AgentId(60), web.clone()),
            (AgentId(61), web.clone()),
        ],
        "a batch removes, adds and replaces; the last row of an agent wins"
    );
    store
        .set_groups_of(&[(AgentId(60), Vec::new()), (AgentId(61), Vec::new())])
        .await
        .unwrap();
    store.set_agent_groups(AgentId(1), &groups).await.unwrap();
    assert_eq!(
        store.agent_groups().await.unwrap().len(),
        2,
        "the state before the batches"
    );
}

async fn info_newer_wins(store: &dyn AgentStore) {
    assert_eq!(
        store.apply_info(&[info(1, "worker01", 100)]).await.unwrap(),
        1
    );
    // The agent moved to worker02, later.
    assert_eq!(
        store.apply_info(&[info(1, "worker02", 200)]).await.unwrap(),
        1
    );
    // worker01 comes back with its stale row, and with a row of the same time.
    let stale = [info(1, "worker01", 150), info(1, "worker01", 200)];
    assert_eq!(store.apply_info(&stale).await.unwrap(), 0);
    // The same node may change the status of the same time (disconnection).
    let mut bye = info(1, "worker02", 200);
    bye.status = ConnectionStatus::Disconnected;
    assert_eq!(store.apply_info(&[bye.clone()]).await.unwrap(), 1);
    let infos = store.infos().await.unwrap();
    assert_eq!(infos, vec![bye]);
    let mut bare = info(3, "master01", 300);
    bare.version = None;
    bare.os = None;
    store.apply_info(&[bare.clone()]).await.unwrap();
    assert_eq!(
        store.infos().await.unwrap()[1],
        bare,
        "absent fields stay absent"
    );
}

async fn ingest_registered_newer_wins(store: &dyn AgentStore) {
    // Records 1 and 3 exist; row 1 is (worker02, 200, disconnected), row 3 (master01, 300).
    let before = store.infos().await.unwrap();
    let none = store.ingest_info(&[]).await.unwrap();
    assert_eq!(none, InfoIngested::default());
    let unknown_only = [info(50, "worker01", 900), info(2, "worker01", 900)];
    assert_eq!(
        store.ingest_info(&unknown_only).await.unwrap(),
        InfoIngested {
            written: 0,
            unknown: 2
        },
        "rows of agents without a record are dropped"
    );
    assert_eq!(store.infos().await.unwrap(), before, "nothing written");
    let stale = info(1, "worker01", 150);
    let newer = info(3, "worker02", 400);
    let mut later_same_batch = info(3, "worker02", 450);
    later_same_batch.version = Some("Wazuh v4.10.0".into());
    let older_same_batch = info(3, "worker03", 420);
    let batch = [
        info(50, "worker01", 900),
        stale,
        newer,
        later_same_batch.clone(),
        info(2, "worker01", 900),
        older_same_batch,
    ];
    assert_eq!(
        store.ingest_info(&batch).await.unwrap(),
        InfoIngested {
            written: 2,
            unknown: 2
        },
        "registered rows newer than the stored (or an earlier row of the batch) are written"
    );
    let infos = store.infos().await.unwrap();
    assert_eq!(infos, vec![before[0].clone(), later_same_batch]);
    // Put row 3 back as the later checks expect it (same node, later time).
    let mut bare = info(3, "master01", 500);
    bare.version = None;
    bare.os = None;
    store.ingest_info(&[bare.clone()]).await.unwrap();
    let mut back = store.infos().await.unwrap();
    assert_eq!(back.pop(), Some(bare));
}

async fn lookups_by_id(store: &dyn AgentStore) {
    // Records 1 and 3 exist; rows 1 and 3 exist.
    let asked = [AgentId(50), AgentId(3), AgentId(2), AgentId(1), AgentId(3)];
    let rows = store.infos_of(&asked).await.unwrap();
    assert_eq!(
        rows.iter().map(|i| i.id.0).collect::<Vec<_>>(),
        [1, 3],
        "existing rows ascending, each once"
    );
    let all = store.infos().await.unwrap();
    assert_eq!(rows, all, "the same rows as the full listing");
    assert!(store.infos_of(&[AgentId(2)]).await.unwrap().is_empty());
    assert!(store.infos_of(&[]).await.unwrap().is_empty());
}

async fn silent_agents_disconnect(store: &dyn AgentStore) {
    store
        .apply_info(&[info(7, "worker01", 1000)])
        .await
        .unwrap();
    assert_eq!(
        store.mark_silent_disconnected(1000, 1500).await.unwrap(),
        1,
        "only agent 3"
    );
    let infos = store.infos().await.unwrap();
    let by_id = |id| infos.iter().find(|i| i.id == AgentId(id)).unwrap();
    assert_eq!(by_id(3).status, ConnectionStatus::Disconnected);
    assert_eq!(by_id(3).disconnection_time, Some(1500));
    assert_eq!(by_id(7).status, ConnectionStatus::Active);
    assert_eq!(by_id(1).status, ConnectionStatus::Disconnected);
}

async fn status_counts_match_the_rows(store: &dyn AgentStore) {
    let mut bare = info(8, "worker02", 1600);
    bare.node = None;
    store.apply_info(&[bare]).await.unwrap();
    let counts = store.status_counts().await.unwrap();
    let rows = store.infos().await.unwrap();
    assert!(rows.len() >= 4, "rows of several nodes and statuses");
    assert_eq!(
        counts,
        count_statuses(rows.into_iter().map(|i| (i.node, i.status))),
        "the counts of the rows, sorted"
    );
    assert!(
        counts.iter().any(|c| c.node.is_none()) && counts.iter().any(|c| c.status == "active"),
        "{counts:?}"
    );
    assert!(store.remove_agent(AgentId(8)).await.unwrap());
}

async fn removal_is_complete_and_targeted(store: &dyn AgentStore) {
    assert!(store.remove_agent(AgentId(1)).await.unwrap());
    assert!(!store.remove_agent(AgentId(1)).await.unwrap());
    assert!(!store.remove_agent(AgentId(99)).await.unwrap());
    let agents = store.agents().await.unwrap();
    assert_eq!(agents.iter().map(|a| a.id.0).collect::<Vec<_>>(), [3]);
    let assignments = store.agent_groups().await.unwrap();
    assert_eq!(
        assignments.iter().map(|(id, _)| id.0).collect::<Vec<_>>(),
        [3]
    );
    let infos = store.infos().await.unwrap();
    assert_eq!(infos.iter().map(|i| i.id.0).collect::<Vec<_>>(), [3, 7]);
    // Info without a record (a worker) is removed too.
    assert!(store.remove_agent(AgentId(7)).await.unwrap());
    assert_eq!(store.infos().await.unwrap().len(), 1);
    assert_eq!(
        store.groups().await.unwrap(),
        ["default", "web"],
        "groups stay"
    );
}
