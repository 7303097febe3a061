//! [`SqliteStateMachine`]: the replicated registry applied to `raft_agent`, `raft_group`,
//! `raft_manifest` and `raft_meta`, with its last snapshot in `raft_snapshot`.
//!
//! The registry is held in memory as well (its rules need every name and IP at hand); each
//! batch of entries is applied there through the core's `apply_batch`, then the rows it touched
//! and the applied log id are written in one transaction, and only then are the clients
//! answered. A crash between the two loses nothing: the state machine restarts from the rows
//! and openraft applies the log again from `applied`.

use std::collections::BTreeSet;
use std::io;
use std::sync::Arc;

use futures_util::Stream;
use openraft::storage::{EntryResponder, RaftSnapshotBuilder, RaftStateMachine};
use sqlx::sqlite::{SqliteConnection, SqlitePool};
use sqlx::{QueryBuilder, Sqlite};
use tokio::sync::Mutex;
use wazuh_cluster_core::agents::{AgentId, AgentRecord};
use wazuh_cluster_core::replicated::{
    Applied, CommandResponse, MachineState, ManifestEntry, Registry, RegistryData, RegistryLogId,
    RegistryMembership, RegistryRaftConfig as C, RegistrySnapshot, RegistrySnapshotMeta,
    apply_batch,
};

use super::db::{from_json, io_error, read_meta, to_json, write_meta};

const APPLIED: &str = "applied";
const MEMBERSHIP: &str = "membership";
const NEXT_ID: &str = "next_id";

/// The state machine; clones share the state (a clone is a test's or the supervisor's window
/// on the registry).
#[derive(Debug, Clone)]
pub struct SqliteStateMachine {
    pool: SqlitePool,
    state: Arc<Mutex<MachineState>>,
}

/// What a batch changed, to write.
#[derive(Default)]
struct Touched {
    agents: BTreeSet<AgentId>,
    groups: BTreeSet<String>,
    manifest: BTreeSet<String>,
}

impl Touched {
    fn note(&mut self, response: &CommandResponse) {
        match &response.0 {
            Ok(Applied::Registered { id } | Applied::Deleted { id }) => {
                self.agents.insert(*id);
            }
            Ok(Applied::GroupsChanged { id, .. }) => {
                self.agents.insert(*id);
            }
            Ok(Applied::GroupCreated { name }) => {
                self.groups.insert(name.clone());
            }
            Ok(Applied::ManifestSet { paths } | Applied::ManifestRemoved { paths }) => {
                self.manifest.extend(paths.iter().cloned());
            }
            Ok(Applied::NoCommand) | Err(_) => {}
        }
    }
}

fn db(what: &'static str) -> impl Fn(sqlx::Error) -> io::Error {
    move |e| io_error(what, e)
}

impl SqliteStateMachine {
    /// Loads the state machine from its tables (empty on a new database).
    pub(super) async fn load(pool: SqlitePool) -> io::Result<Self> {
        let mut conn = pool.acquire().await.map_err(db("connect"))?;
        let rows: Vec<(i64, String, String, String, String, i64)> = sqlx::query_as(
            "SELECT id, name, ip, key, groups, registered_at FROM raft_agent ORDER BY id",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(db("read agents"))?;
        let mut data = RegistryData::default();
        for (id, name, ip, key, groups, registered_at) in rows {
            let id = AgentId(
                u32::try_from(id).map_err(|_| io_error("agent id", format!("{id} is invalid")))?,
            );
            let record = AgentRecord {
                id,
                name,
                ip: ip.parse().map_err(|e| io_error("agent IP", e))?,
                key: key.parse().map_err(|e| io_error("agent key", e))?,
                groups: from_json("agent groups", &groups)?,
                registered_at,
            };
            data.agents.insert(id, record);
        }
        let groups: Vec<String> = sqlx::query_scalar("SELECT name FROM raft_group")
            .fetch_all(&mut *conn)
            .await
            .map_err(db("read groups"))?;
        data.groups.extend(groups);
        let manifest: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT path, hash, mode FROM raft_manifest")
                .fetch_all(&mut *conn)
                .await
                .map_err(db("read the manifest"))?;
        for (path, hash, mode) in manifest {
            let mode = u32::try_from(mode)
                .map_err(|_| io_error("manifest mode", format!("{mode} of {path}")))?;
            data.manifest
                .insert(path.clone(), ManifestEntry { path, hash, mode });
        }
        if let Some(next) = read_meta(&mut *conn, NEXT_ID).await? {
            data.next_id = next;
        }
        let state = MachineState {
            last_applied: read_meta::<Option<RegistryLogId>>(&mut *conn, APPLIED)
                .await?
                .flatten(),
            membership: read_meta(&mut *conn, MEMBERSHIP).await?.unwrap_or_default(),
            registry: Registry::from(data),
        };
        drop(conn);
        Ok(SqliteStateMachine {
            pool,
            state: Arc::new(Mutex::new(state)),
        })
    }

    /// Reads the state machine (without copying the registry).
    pub async fn read<R>(&self, f: impl FnOnce(&MachineState) -> R) -> R {
        f(&*self.state.lock().await)
    }
}

async fn write_applied(conn: &mut SqliteConnection, state: &MachineState) -> io::Result<()> {
    write_meta(&mut *conn, APPLIED, &state.last_applied).await?;
    write_meta(&mut *conn, MEMBERSHIP, &state.membership).await?;
    write_meta(&mut *conn, NEXT_ID, &state.registry.data().next_id).await
}

/// Rows per multi-row `INSERT` (six parameters each, far below SQLite's 32,766).
const ROWS_PER_INSERT: usize = 256;

/// Writes these agents' rows (replacing any with the same id).
async fn write_agents(conn: &mut SqliteConnection, agents: &[&AgentRecord]) -> io::Result<()> {
    let rows = agents
        .iter()
        .map(|a| Ok((*a, to_json("agent groups", &a.groups)?)))
        .collect::<io::Result<Vec<_>>>()?;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        QueryBuilder::<Sqlite>::new(
            "INSERT OR REPLACE INTO raft_agent (id, name, ip, key, groups, registered_at) ",
        )
        .push_values(chunk, |mut row, (a, groups)| {
            row.push_bind(i64::from(a.id.0))
                .push_bind(&a.name)
                .push_bind(a.ip.to_string())
                .push_bind(a.key.as_str())
                .push_bind(groups)
                .push_bind(a.registered_at);
        })
        .build()
        .execute(&mut *conn)
        .await
        .map_err(db("write agents"))?;
    }
    Ok(())
}

/// Removes these agents' rows.
async fn delete_agents(conn: &mut SqliteConnection, ids: &[AgentId]) -> io::Result<()> {
    for chunk in ids.chunks(ROWS_PER_INSERT) {
        let mut query = QueryBuilder::<Sqlite>::new("DELETE FROM raft_agent WHERE id IN (");
        let mut list = query.separated(", ");
        for id in chunk {
            list.push_bind(i64::from(id.0));
        }
        query
            .push(")")
            .build()
            .execute(&mut *conn)
            .await
            .map_err(db("delete agents"))?;
    }
    Ok(())
}

/// Writes the rows of the agents `ids` as `registry` has them: present ones replaced,
/// absent ones removed.
async fn sync_agents(
    conn: &mut SqliteConnection,
    registry: &Registry,
    ids: &BTreeSet<AgentId>,
) -> io::Result<()> {
    let (present, absent): (Vec<AgentId>, Vec<AgentId>) =
        ids.iter().partition(|id| registry.agent(**id).is_some());
    delete_agents(conn, &absent).await?;
    let records: Vec<&AgentRecord> = present
        .iter()
        .filter_map(|id| registry.agent(*id))
        .collect();
    write_agents(conn, &records).await
}

async fn write_group(conn: &mut SqliteConnection, name: &str) -> io::Result<()> {
    sqlx::query("INSERT OR IGNORE INTO raft_group (name) VALUES (?)")
        .bind(name)
        .execute(&mut *conn)
        .await
        .map_err(db("write a group"))?;
    Ok(())
}

async fn write_manifest(
    conn: &mut SqliteConnection,
    path: &str,
    entry: Option<&ManifestEntry>,
) -> io::Result<()> {
    let query = match entry {
        Some(e) => {
            sqlx::query("INSERT OR REPLACE INTO raft_manifest (path, hash, mode) VALUES (?, ?, ?)")
                .bind(path)
                .bind(&e.hash)
                .bind(i64::from(e.mode))
        }
        None => sqlx::query("DELETE FROM raft_manifest WHERE path = ?").bind(path),
    };
    query
        .execute(&mut *conn)
        .await
        .map_err(db("write the manifest"))?;
    Ok(())
}

/// Replaces every table of the state machine with `state` (installing a snapshot).
async fn write_all(conn: &mut SqliteConnection, state: &MachineState) -> io::Result<()> {
    for clear in [
        "DELETE FROM raft_agent",
        "DELETE FROM raft_group",
        "DELETE FROM raft_manifest",
    ] {
        sqlx::query(clear)
            .execute(&mut *conn)
            .await
            .map_err(db("clear the state machine"))?;
    }
    let data = state.registry.data();
    write_agents(conn, &data.agents.values().collect::<Vec<_>>()).await?;
    for group in &data.groups {
        write_group(conn, group).await?;
    }
    for (path, entry) in &data.manifest {
        write_manifest(conn, path, Some(entry)).await?;
    }
    write_applied(conn, state).await
}

async fn write_snapshot(
    conn: &mut SqliteConnection,
    snapshot: &RegistrySnapshot,
) -> io::Result<()> {
    sqlx::query("INSERT OR REPLACE INTO raft_snapshot (id, meta, data) VALUES (1, ?, ?)")
        .bind(to_json("snapshot meta", &snapshot.meta)?)
        .bind(to_json("snapshot", &snapshot.snapshot)?)
        .execute(&mut *conn)
        .await
        .map_err(db("write the snapshot"))?;
    Ok(())
}

impl RaftStateMachine<C> for SqliteStateMachine {
    type SnapshotData = Registry;
    type SnapshotBuilder = SqliteSnapshotBuilder;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<RegistryLogId>, RegistryMembership), io::Error> {
        let state = self.state.lock().await;
        Ok((state.last_applied, state.membership.clone()))
    }

    async fn apply<S>(&mut self, entries: S) -> Result<(), io::Error>
    where
        S: Stream<Item = Result<EntryResponder<C>, io::Error>> + Unpin + Send,
    {
        let mut state = self.state.lock().await;
        let mut touched = Touched::default();
        let answers =
            apply_batch(&mut state, entries, |_, response| touched.note(response)).await?;
        let mut tx = self.pool.begin().await.map_err(db("begin an apply"))?;
        sync_agents(&mut tx, &state.registry, &touched.agents).await?;
        let data = state.registry.data();
        for group in &touched.groups {
            write_group(&mut tx, group).await?;
        }
        for path in &touched.manifest {
            write_manifest(&mut tx, path, data.manifest.get(path)).await?;
        }
        write_applied(&mut tx, &state).await?;
        tx.commit().await.map_err(db("commit an apply"))?;
        drop(state);
        answers.send();
        Ok(())
    }

    async fn get_snapshot_builder(&mut self) -> SqliteSnapshotBuilder {
        SqliteSnapshotBuilder {
            pool: self.pool.clone(),
            snapshot: self.state.lock().await.snapshot(),
        }
    }

    async fn install_snapshot(
        &mut self,
        meta: &RegistrySnapshotMeta,
        registry: Registry,
    ) -> Result<(), io::Error> {
        let installed = MachineState::from_snapshot(meta, registry);
        let mut state = self.state.lock().await;
        let mut tx = self.pool.begin().await.map_err(db("begin an install"))?;
        write_all(&mut tx, &installed).await?;
        write_snapshot(&mut tx, &installed.snapshot()).await?;
        tx.commit().await.map_err(db("commit an install"))?;
        *state = installed;
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<RegistrySnapshot>, io::Error> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT meta, data FROM raft_snapshot WHERE id = 1")
                .fetch_optional(&self.pool)
                .await
                .map_err(db("read the snapshot"))?;
        row.map(|(meta, data)| {
            Ok(RegistrySnapshot {
                meta: from_json("snapshot meta", &meta)?,
                snapshot: from_json("snapshot", &data)?,
            })
        })
        .transpose()
    }
}

/// Builds a snapshot of the state as it was when the builder was made, and stores it.
pub struct SqliteSnapshotBuilder {
    pool: SqlitePool,
    snapshot: RegistrySnapshot,
}

impl RaftSnapshotBuilder<C> for SqliteSnapshotBuilder {
    type SnapshotData = Registry;

    async fn build_snapshot(&mut self) -> Result<RegistrySnapshot, io::Error> {
        let mut conn = self.pool.acquire().await.map_err(db("connect"))?;
        write_snapshot(&mut conn, &self.snapshot).await?;
        Ok(self.snapshot.clone())
    }
}
