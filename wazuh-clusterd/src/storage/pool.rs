//! How the cluster database's connection pools wait for a connection.

use std::time::Duration;

use sqlx::sqlite::SqlitePoolOptions;

/// How long an operation waits for a connection of its pool before failing (sqlx's default is
/// 30 s): an operation queues rather than fails while the node is busy, since what it carries
/// (a worker's agent-info, its file sync states, a full agent-groups resync) is lost or redone
/// when it gives up. At 25 workers the first syncs store 10,000 states each, one after another,
/// and the setup's peak held the agent store's connections for more than 30 s (`pool timed out
/// while waiting for an open connection`, measured by `loadtest`).
pub(super) const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(600);

/// A pool of `connections` waiting [`ACQUIRE_TIMEOUT`] for one.
pub(super) fn pool_options(connections: u32) -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
}
