//! The master's registry keeps its agents in memory: after reading the store once, a
//! registration, deletion, group change or adoption reads no agent back from the store, and the
//! store, the registry's answers and `client.keys` stay the same set of agents.

use std::collections::BTreeSet;
use std::sync::Arc;

use wazuh_cluster_core::agents::client_keys::{CLIENT_KEYS_PATH, render_client_keys};
use wazuh_cluster_core::agents::{
    AgentError, AgentId, AgentKey, AgentRecord, AgentRegistry, AgentStore, AgentSummary,
    MemoryAgentStore,
};
use wazuh_cluster_core::files::ClusterItems;
use wazuh_cluster_core::files::memory::MemoryFileSource;
use wazuh_cluster_core::testing::VirtualClock;

const SEEDED: u32 = 1000;

fn record(id: u32, name: &str, groups: &[&str]) -> AgentRecord {
    AgentRecord {
        id: AgentId(id),
        name: name.to_owned(),
        ip: "any".parse().unwrap(),
        key: AgentKey::from_bytes([7; 32]),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        registered_at: 0,
    }
}

async fn seeded() -> (Arc<MemoryAgentStore>, Arc<MemoryFileSource>, AgentRegistry) {
    let store = Arc::new(MemoryAgentStore::new());
    for group in ["default", "web", "db"] {
        store.insert_group(group).await.unwrap();
    }
    for id in 1..=SEEDED {
        let ip = format!("10.0.{}.{}", id / 256, id % 256);
        store
            .insert_agent(&AgentRecord {
                ip: ip.parse().unwrap(),
                ..record(id, &format!("seeded{id}"), &["default"])
            })
            .await
            .unwrap();
    }
    let files = Arc::new(MemoryFileSource::new(ClusterItems::wazuh_default()));
    let registry = AgentRegistry::new(
        store.clone(),
        files.clone(),
        Arc::new(VirtualClock::default()),
        Some(3),
    );
    (store, files, registry)
}

/// How many `merged.mg` files there are.
fn merged_files(files: &MemoryFileSource) -> usize {
    files
        .snapshot()
        .keys()
        .filter(|p| p.ends_with("merged.mg"))
        .count()
}

/// The store, the registry's listing and `client.keys` hold the same agents.
async fn assert_consistent(
    store: &MemoryAgentStore,
    files: &MemoryFileSource,
    registry: &AgentRegistry,
) {
    let stored = store.agents().await.unwrap();
    let reads = store.full_reads();
    let listed = registry.list_agents().await.unwrap();
    let expected: Vec<AgentSummary> = stored.iter().map(AgentSummary::from).collect();
    assert_eq!(listed, expected, "the registry lists what the store holds");
    assert_eq!(
        files.snapshot().get(CLIENT_KEYS_PATH),
        Some(&render_client_keys(&stored)),
        "client.keys renders what the store holds"
    );
    assert_eq!(
        store.full_reads(),
        reads,
        "listing reads no agent from the store"
    );
}

#[tokio::test]
async fn changes_read_no_agent_back_and_stay_consistent_with_the_store() {
    let (store, files, registry) = seeded().await;
    let registry = Arc::new(registry);
    let registrations = (0..40).map(|n| {
        let registry = registry.clone();
        async move {
            let groups: Vec<String> = match n % 4 {
                0 => vec!["web".into(), "db".into()],
                1 => vec!["web".into()],
                _ => Vec::new(),
            };
            registry
                .register(&format!("new{n}"), "any", &groups)
                .await
                .unwrap()
        }
    });
    let added = futures_util::future::join_all(registrations).await;
    let ids: BTreeSet<AgentId> = added.iter().map(|a| a.id).collect();
    assert_eq!(ids.len(), 40, "distinct ids");
    assert_eq!(
        ids.first(),
        Some(&AgentId(SEEDED + 1)),
        "after the highest stored id"
    );
    assert_eq!(ids.last(), Some(&AgentId(SEEDED + 40)));
    assert_consistent(&store, &files, &registry).await;
    assert_eq!(merged_files(&files), 1, "one merged.mg, for web,db");

    assert!(matches!(
        registry.register("seeded17", "any", &[]).await,
        Err(AgentError::DuplicateName { id, .. }) if id == "017"
    ));
    assert!(matches!(
        registry.register("other", "10.0.0.17", &[]).await,
        Err(AgentError::DuplicateIp { id, .. }) if id == "017"
    ));

    registry.delete(AgentId(17)).await.unwrap();
    registry.delete(AgentId(SEEDED + 40)).await.unwrap();
    assert!(matches!(
        registry.delete(AgentId(17)).await,
        Err(AgentError::NotFound { .. })
    ));
    let again = registry
        .register("seeded17", "10.0.0.17", &[])
        .await
        .unwrap();
    assert_eq!(
        again.id,
        AgentId(SEEDED + 40),
        "the highest held id plus one"
    );
    let web_db: Vec<AgentId> = registry
        .list_agents()
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.groups == ["web", "db"])
        .map(|a| a.id.parse().unwrap())
        .collect();
    assert_eq!(web_db.len(), 10);
    for id in &web_db[..5] {
        registry.unassign_group(*id, "db").await.unwrap();
    }
    registry.assign_group(AgentId(5), "db").await.unwrap();
    registry
        .adopt_agent(&record(5000, "adopted", &["db", "web"]))
        .await
        .unwrap();
    registry
        .adopt_groups(AgentId(6), &["web".into(), "db".into()])
        .await
        .unwrap();
    registry.adopt_deletion(AgentId(7)).await.unwrap();
    assert_consistent(&store, &files, &registry).await;
    assert_eq!(merged_files(&files), 3, "web,db and db,web and default,db");

    registry.delete(AgentId(5000)).await.unwrap();
    registry
        .adopt_groups(AgentId(6), &["default".into()])
        .await
        .unwrap();
    registry.unassign_group(AgentId(5), "db").await.unwrap();
    for id in &web_db[5..] {
        registry.delete(*id).await.unwrap();
    }
    assert_eq!(
        merged_files(&files),
        0,
        "no agent uses several groups any more"
    );
    assert_consistent(&store, &files, &registry).await;
    assert_eq!(
        store.full_reads(),
        1 + 3,
        "the registry read the agents from the store once, to build its index (the other \
         reads are the three consistency checks')"
    );
}

#[tokio::test]
async fn a_failed_write_undoes_the_change_in_the_store_and_the_index() {
    let (store, files, registry) = seeded().await;
    registry.write_files().await.unwrap();
    files.fail_writes_to(CLIENT_KEYS_PATH);
    assert!(matches!(
        registry.register("lost", "any", &[]).await,
        Err(AgentError::Files { .. })
    ));
    assert!(matches!(
        registry.delete(AgentId(3)).await,
        Err(AgentError::Files { .. })
    ));
    let stored = store.agents().await.unwrap();
    assert_eq!(
        stored.len(),
        SEEDED as usize,
        "the registration was undone, the deletion too"
    );
    assert!(stored.iter().all(|a| a.name != "lost"));
    let listed = registry.list_agents().await.unwrap();
    assert_eq!(
        listed,
        stored.iter().map(AgentSummary::from).collect::<Vec<_>>()
    );
    assert!(
        matches!(
            registry.register("seeded3", "any", &[]).await,
            Err(AgentError::DuplicateName { .. })
        ),
        "agent 3 is back in the index"
    );
}

#[tokio::test]
async fn adopting_the_whole_registry_replaces_the_index() {
    let (store, files, registry) = seeded().await;
    registry.register("before", "any", &[]).await.unwrap();
    let wanted = vec![
        record(2, "two", &["default"]),
        record(9, "nine", &["web", "db"]),
    ];
    registry
        .adopt_all(&wanted, &["default".to_owned(), "extra".to_owned()].into())
        .await
        .unwrap();
    assert_eq!(store.agents().await.unwrap(), wanted);
    assert_consistent(&store, &files, &registry).await;
    assert!(
        registry
            .list_groups()
            .await
            .unwrap()
            .contains(&"extra".to_owned())
    );
    let next = registry.register("ten", "any", &[]).await.unwrap();
    assert_eq!(next.id, AgentId(10));
}
