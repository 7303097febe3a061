//! [`InfoWriter`]: the group commit of the master's agent-info ingests on the agent store's
//! writing connection.
//!
//! Each worker's envelope used to be a write of its own, every one waiting its turn for the
//! one writing connection: at 100 workers the ingests queued for the whole pool timeout
//! (600 s) and failed (`loadtest --workers 100`, benches/README.md). Now an ingest is a job
//! sent to one writing task, which takes every job waiting when it starts a write and writes
//! them together in one `BEGIN IMMEDIATE` transaction (one commit for all), in the order they
//! arrived, so a later envelope of an agent meets the earlier one. Each job is atomic on its
//! own: a job of one statement is atomic as a statement, a longer one runs in a savepoint; a
//! job that fails is rolled back alone and answered its error, the others are committed. A
//! single job of one statement is written without a transaction (one hand-over to SQLite's
//! thread, as before).
//!
//! Memory: a job holds a copy of one envelope's rows while its caller waits for the answer,
//! and the master refuses a worker's next envelope while its previous one is being ingested
//! (`syn_a_w_m_p` → `False`), so at most one job per worker waits.

use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};
use wazuh_cluster_core::StorageError;
use wazuh_cluster_core::agents::AgentInfoRecord;

use super::error::storage_error;
use super::info_upsert::{INFO_BATCH, upsert_info};

/// Rows the writing task takes into one transaction at most (it stops taking jobs once past
/// it): about 80 ms of writing at the measured 40 ms per 10,000 rows, so a registration or a
/// group change waiting for the same connection is not held back longer.
pub(super) const MAX_GROUP_ROWS: usize = 20_000;

/// One envelope to write and where to answer.
struct Job {
    rows: Vec<AgentInfoRecord>,
    reply: oneshot::Sender<Result<u64, StorageError>>,
}

/// The sending side of the writing task; cloning shares the task. The task ends when every
/// clone is dropped.
#[derive(Debug, Clone)]
pub(super) struct InfoWriter {
    jobs: mpsc::UnboundedSender<Job>,
}

/// The operation a job's error names.
fn operation(rows: usize) -> String {
    format!("ingest {rows} agent-info rows")
}

impl InfoWriter {
    /// Starts the writing task on `pool` (the agent store's writing connection) on the current
    /// tokio runtime.
    pub(super) fn start(pool: SqlitePool) -> Self {
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(write_jobs(pool, queue));
        Self { jobs }
    }

    /// Writes `rows` of registered agents that supersede the stored ones, atomically, with
    /// whatever other ingests are waiting; answers how many rows were written.
    pub(super) async fn ingest(&self, rows: Vec<AgentInfoRecord>) -> Result<u64, StorageError> {
        let count = rows.len();
        let stopped = || storage_error(operation(count), sqlx::Error::PoolClosed);
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Job { rows, reply }).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// The writing task: one group of waiting jobs after another, until every sender is gone.
async fn write_jobs(pool: SqlitePool, mut queue: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = queue.recv().await {
        let mut rows = first.rows.len();
        let mut group = vec![first];
        while rows < MAX_GROUP_ROWS {
            match queue.try_recv() {
                Ok(job) => {
                    rows += job.rows.len();
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        write_group(&pool, group).await;
    }
}

/// Writes `group` and answers each job.
async fn write_group(pool: &SqlitePool, mut group: Vec<Job>) {
    if let [job] = group.as_slice()
        && job.rows.len() <= INFO_BATCH
    {
        let job = group.remove(0);
        let written = write_alone(pool, &job.rows).await;
        let _ = job
            .reply
            .send(written.map_err(|e| storage_error(operation(job.rows.len()), e)));
        return;
    }
    let results = match write_together(pool, &group).await {
        Ok(results) => results
            .into_iter()
            .zip(&group)
            .map(|(result, job)| result.map_err(|e| storage_error(operation(job.rows.len()), e)))
            .collect(),
        Err(shared) => {
            let failed = storage_error("write a group of agent-info ingests", shared);
            group
                .iter()
                .map(|job| {
                    Err(
                        StorageError::new(operation(job.rows.len()), failed.to_string())
                            .with_kind(failed.kind),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    for (job, result) in group.into_iter().zip(results) {
        let _ = job.reply.send(result);
    }
}

/// One statement of at most [`INFO_BATCH`] rows, atomic by itself.
async fn write_alone(pool: &SqlitePool, rows: &[AgentInfoRecord]) -> Result<u64, sqlx::Error> {
    let mut connection = pool.acquire().await?;
    super::info_upsert::upsert_info_query(rows, true)
        .execute(&mut *connection)
        .await
        .map(|done| done.rows_affected())
}

/// Every job of `group` in one transaction, each atomic on its own: answers each job's result,
/// or the error that made the whole transaction fail (then nothing was written).
async fn write_together(
    pool: &SqlitePool,
    group: &[Job],
) -> Result<Vec<Result<u64, sqlx::Error>>, sqlx::Error> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let mut results = Vec::with_capacity(group.len());
    for job in group {
        if job.rows.len() <= INFO_BATCH {
            results.push(upsert_info(&mut tx, &job.rows, true).await);
            continue;
        }
        sqlx::query("SAVEPOINT ingest").execute(&mut *tx).await?;
        let written = upsert_info(&mut tx, &job.rows, true).await;
        if written.is_err() {
            sqlx::query("ROLLBACK TO ingest").execute(&mut *tx).await?;
        }
        sqlx::query("RELEASE ingest").execute(&mut *tx).await?;
        results.push(written);
    }
    tx.commit().await?;
    Ok(results)
}
