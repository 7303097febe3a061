//! Agents written into the master's database and `client.keys` before it starts, as a manager
//! upgraded with its agents holds them: registering tens of thousands one by one through the
//! control socket takes hours today (each registration rereads every agent and rewrites
//! `client.keys`, see benches/README.md), so the rig registers a measured share through the
//! socket and seeds the rest. The groups are made here too (their row and their
//! `etc/shared/<group>/agent.conf`, as `group_add` makes them).

use std::path::Path;

use wazuh_cluster_core::agents::client_keys::{CLIENT_KEYS_PATH, render_client_keys};
use wazuh_cluster_core::agents::groups::EMPTY_AGENT_CONF;
use wazuh_cluster_core::agents::{AgentId, AgentIp, AgentKey, AgentRecord, AgentStore};

use super::names::{GROUPS, agent_name, group_name};
use crate::storage::SqliteStorage;

/// Creates the rig's groups and agents `0..count` (named by the `names` module) in
/// the database and `client.keys` of the master at `home`, which must not run yet. Returns
/// their ids.
pub fn seed(home: &Path, count: usize) -> std::io::Result<Vec<String>> {
    for n in 0..GROUPS {
        let folder = home.join("etc/shared").join(group_name(n));
        std::fs::create_dir_all(&folder)?;
        std::fs::write(folder.join("agent.conf"), EMPTY_AGENT_CONF)?;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let records = runtime.block_on(async {
        let store = SqliteStorage::open_in_home(home)
            .await
            .map_err(std::io::Error::other)?;
        for n in 0..GROUPS {
            store
                .insert_group(&group_name(n))
                .await
                .map_err(std::io::Error::other)?;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let mut records = Vec::with_capacity(count);
        for n in 0..count {
            let record = AgentRecord {
                id: AgentId(n as u32 + 1),
                name: agent_name(n),
                ip: AgentIp::Any,
                key: AgentKey::from_bytes(rand::random()),
                groups: vec![group_name(n % GROUPS)],
                registered_at: now,
            };
            store
                .insert_agent(&record)
                .await
                .map_err(std::io::Error::other)?;
            records.push(record);
        }
        store.close().await;
        Ok::<_, std::io::Error>(records)
    })?;
    std::fs::write(home.join(CLIENT_KEYS_PATH), render_client_keys(&records))?;
    Ok(records.iter().map(|r| r.id.to_string()).collect())
}
