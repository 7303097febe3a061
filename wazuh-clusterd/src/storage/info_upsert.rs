//! The agent-info upsert shared by the agent store's writes and the group commit of the
//! master's ingests: one `VALUES` tuple per row, statements of [`INFO_BATCH`] rows.

use sqlx::{AssertSqlSafe, Sqlite, Transaction};
use wazuh_cluster_core::agents::{AgentId, AgentInfoRecord};

/// Ids as the JSON array `json_each` reads.
pub(super) fn id_array(ids: &[AgentId]) -> String {
    let mut text = String::with_capacity(ids.len() * 7 + 2);
    text.push('[');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&id.0.to_string());
    }
    text.push(']');
    text
}

/// Agent-info rows written by one statement (8 parameters each, within SQLite's 32766): a
/// worker's envelope (1000 rows in Wazuh's chunks) is one statement.
pub(super) const INFO_BATCH: usize = 4000;

/// The upsert of `rows` agent-info rows: one `VALUES` tuple per row, in order, so a later row
/// of the same agent meets the earlier one; with `registered_only`, rows of agents without a
/// record are skipped. Only placeholders vary, never data.
fn upsert_info_sql(rows: usize, registered_only: bool) -> AssertSqlSafe<String> {
    let mut sql = String::from(
        "INSERT INTO agent_info \
         (id, status, last_keepalive, disconnection_time, version, os, node, seen_at) \
         SELECT * FROM (VALUES ",
    );
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?,?,?,?,?,?,?)");
    }
    sql.push_str(if registered_only {
        ") AS v WHERE EXISTS (SELECT 1 FROM agent WHERE agent.id = v.column1)"
    } else {
        // `WHERE true`: SQLite's parser needs a WHERE before an upsert's ON CONFLICT.
        ") WHERE true"
    });
    sql.push_str(
        " ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
         last_keepalive = excluded.last_keepalive, \
         disconnection_time = excluded.disconnection_time, \
         version = excluded.version, os = excluded.os, node = excluded.node, \
         seen_at = excluded.seen_at \
         WHERE excluded.seen_at > agent_info.seen_at \
         OR (excluded.seen_at = agent_info.seen_at AND excluded.node IS agent_info.node)",
    );
    AssertSqlSafe(sql)
}

/// Writes `rows` in statements of [`INFO_BATCH`] ([`upsert_info_sql`]); answers how many
/// were written.
pub(super) async fn upsert_info(
    tx: &mut Transaction<'_, Sqlite>,
    rows: &[AgentInfoRecord],
    registered_only: bool,
) -> Result<u64, sqlx::Error> {
    let mut written = 0;
    for batch in rows.chunks(INFO_BATCH) {
        written += upsert_info_query(batch, registered_only)
            .execute(&mut **tx)
            .await?
            .rows_affected();
    }
    Ok(written)
}

/// The statement of [`upsert_info_sql`] for `rows` with their values bound.
pub(super) fn upsert_info_query(
    rows: &[AgentInfoRecord],
    registered_only: bool,
) -> sqlx::query::Query<'_, Sqlite, sqlx::sqlite::SqliteArguments> {
    let mut query = sqlx::query(upsert_info_sql(rows.len(), registered_only));
    for row in rows {
        query = query
            .bind(i64::from(row.id.0))
            .bind(row.status.as_str())
            .bind(row.last_keepalive)
            .bind(row.disconnection_time)
            .bind(row.version.as_deref())
            .bind(row.os.as_deref())
            .bind(row.node.as_deref())
            .bind(row.seen_at());
    }
    query
}
