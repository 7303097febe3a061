//! The master's file manifest in the Raft log: while a node serves as master it commits, every
//! [`PUBLISH_EVERY`], what changed in its integrity table (path, hash, mode of each synchronized
//! file), so that every master-eligible node knows which version of each file is the master's.
//! A node that takes over first says how many of its own files differ from the manifest the
//! previous master committed (they are pushed as they are on the new master).

use std::sync::Arc;
use std::time::Duration;

use wazuh_cluster_core::files::ClusterItems;
use wazuh_cluster_core::integrity::MasterIntegrity;
use wazuh_cluster_core::replicated::manifest_changes;

use super::FailoverNode;

/// How often the master compares its integrity table with the committed manifest.
pub const PUBLISH_EVERY: Duration = Duration::from_secs(5);

/// Runs while the node serves as master (ends with the role).
pub async fn publish(failover: FailoverNode, integrity: Arc<MasterIntegrity>) {
    let items = ClusterItems::wazuh_default();
    let mut first = true;
    loop {
        tokio::time::sleep(if first {
            Duration::from_millis(200)
        } else {
            PUBLISH_EVERY
        })
        .await;
        if !integrity.is_ready() {
            continue;
        }
        let table = integrity.table().await;
        let (commands, had_manifest) = failover
            .machine
            .read(|state| {
                let committed = &state.registry.data().manifest;
                (
                    manifest_changes(&table, &items, committed),
                    !committed.is_empty(),
                )
            })
            .await;
        if first {
            first = false;
            if had_manifest && !commands.is_empty() {
                tracing::warn!(
                    tag = "Master",
                    subtag = "Manifest",
                    "This node's synchronized files differ from the manifest the previous \
                     master committed ({}); workers get this node's copies.",
                    commands
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        for command in commands {
            let what = command.to_string();
            match failover.raft.client_write(command).await {
                Ok(answer) => match &answer.response().0 {
                    Ok(_) => tracing::debug!(tag = "Master", subtag = "Manifest", "{what}."),
                    Err(refused) => {
                        tracing::error!(tag = "Master", subtag = "Manifest", "{what}: {refused}")
                    }
                },
                Err(error) => {
                    tracing::warn!(
                        tag = "Master",
                        subtag = "Manifest",
                        "{what} not committed: {error}; retrying in {}s.",
                        PUBLISH_EVERY.as_secs()
                    );
                    break;
                }
            }
        }
    }
}
