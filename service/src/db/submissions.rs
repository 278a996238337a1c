//! Submissions: inserting, reading (scoped to their owner), cancelling, and the counts a
//! quota check needs.

use super::{Db, Status};
use crate::clock::now_ms;
use crate::error::ServiceError;
use sqlx::Row;

/// A submission's row.
#[derive(Debug, Clone)]
pub struct SubmissionRow {
    /// Queue order.
    pub seq: i64,
    /// Public id (`sub_...`).
    pub id: String,
    /// The token that submitted it.
    pub token_id: String,
    /// The uploaded file's name, verbatim (guest text: escape it wherever it is shown).
    pub name: String,
    /// The run spec, as JSON.
    pub spec: String,
    /// sha256 of the component in the blob store.
    pub component_sha: String,
    /// Where it is.
    pub status: Status,
    /// How many times a worker claimed it.
    pub attempts: i64,
    /// Whether a cancel was asked while it ran.
    pub cancel_requested: bool,
    /// The worker that holds (or last held) it.
    pub worker: Option<String>,
    /// Times (Unix ms).
    pub created_ms: i64,
    /// When the current or last attempt started.
    pub started_ms: Option<i64>,
    /// When it reached a final state.
    pub finished_ms: Option<i64>,
    /// sha256 of the JSON report, the text report and the trace, once written.
    pub report_sha: Option<String>,
    /// See `report_sha`.
    pub text_sha: Option<String>,
    /// See `report_sha`.
    pub trace_sha: Option<String>,
    /// The exit status `kernbench run` would have given.
    pub exit_code: Option<i64>,
    /// Why there is no report (a crashed child, attempts exhausted, cancelled while running).
    pub error: Option<String>,
    /// The suite it was submitted to, if any.
    pub suite: Option<String>,
    /// sha256 of its per-run results (a suite submission), hidden runs included.
    pub suite_result_sha: Option<String>,
    /// Its scores (JSON), once a suite submission has run.
    pub scores: Option<String>,
}

pub(super) const SUBMISSION_COLUMNS: &str = "seq, id, token_id, name, spec, component_sha, status, \
     attempts, cancel_requested, worker, created_ms, started_ms, finished_ms, report_sha, \
     text_sha, trace_sha, exit_code, error, suite, suite_result_sha, scores";

/// Counts a quota check needs.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// Queued or running submissions of the token.
    pub active: i64,
    /// Submissions of the token in the last hour.
    pub last_hour: i64,
    /// When the oldest of those was made (Unix ms), to say when the hour frees a slot.
    pub oldest_in_hour_ms: Option<i64>,
}

impl Db {
    /// Queue a submission.
    pub async fn insert_submission(
        &self,
        id: &str,
        token_id: &str,
        name: &str,
        spec: &str,
        component_sha: &str,
        suite: Option<&str>,
    ) -> Result<(), ServiceError> {
        sqlx::query(
            "INSERT INTO submissions \
               (id, token_id, name, spec, component_sha, status, created_ms, suite) \
             VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7)",
        )
        .bind(id)
        .bind(token_id)
        .bind(name)
        .bind(spec)
        .bind(component_sha)
        .bind(now_ms())
        .bind(suite)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// One submission, scoped to `owner` unless `None` (an admin).
    pub async fn submission(
        &self,
        id: &str,
        owner: Option<&str>,
    ) -> Result<Option<SubmissionRow>, ServiceError> {
        let row =
            match owner {
                Some(owner) => sqlx::query(&format!(
                    "SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE id = $1 AND token_id = $2"
                ))
                .bind(id)
                .bind(owner)
                .fetch_optional(&self.pool)
                .await?,
                None => {
                    sqlx::query(&format!(
                        "SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE id = $1"
                    ))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                }
            };
        row.map(|r| submission_row(&r)).transpose()
    }

    /// A page of submissions, newest first, before queue position `before` (exclusive).
    pub async fn submissions(
        &self,
        owner: Option<&str>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<SubmissionRow>, ServiceError> {
        let before = before.unwrap_or(i64::MAX);
        let rows = match owner {
            Some(owner) => {
                sqlx::query(&format!(
                    "SELECT {SUBMISSION_COLUMNS} FROM submissions \
                     WHERE token_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
                ))
                .bind(owner)
                .bind(before)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {SUBMISSION_COLUMNS} FROM submissions \
                     WHERE seq < $1 ORDER BY seq DESC LIMIT $2"
                ))
                .bind(before)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(submission_row).collect()
    }

    /// How many queued submissions are ahead of queue position `seq`.
    pub async fn queue_position(&self, seq: i64) -> Result<i64, ServiceError> {
        Ok(
            sqlx::query("SELECT COUNT(*) FROM submissions WHERE status = 'queued' AND seq < $1")
                .bind(seq)
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?,
        )
    }

    /// What a token has in flight and made in the last hour.
    pub async fn usage(&self, token_id: &str) -> Result<Usage, ServiceError> {
        let hour_ago = now_ms() - 3_600_000;
        let row = sqlx::query(
            "SELECT \
               (SELECT COUNT(*) FROM submissions WHERE token_id = $1 \
                  AND status IN ('queued', 'running')), \
               (SELECT COUNT(*) FROM submissions WHERE token_id = $1 AND created_ms > $2), \
               (SELECT MIN(created_ms) FROM submissions WHERE token_id = $1 AND created_ms > $2)",
        )
        .bind(token_id)
        .bind(hour_ago)
        .fetch_one(&self.pool)
        .await?;
        Ok(Usage {
            active: row.try_get(0)?,
            last_hour: row.try_get(1)?,
            oldest_in_hour_ms: row.try_get(2)?,
        })
    }

    /// Cancel: a queued submission ends at once; a running one is marked for its worker,
    /// which kills the run. Returns the status after the call, `None` if not found.
    pub async fn cancel(
        &self,
        id: &str,
        owner: Option<&str>,
    ) -> Result<Option<Status>, ServiceError> {
        let owner_clause = |n: u32| match owner {
            Some(_) => format!(" AND token_id = ${n}"),
            None => String::new(),
        };
        let sql = format!(
            "UPDATE submissions SET status = 'cancelled', finished_ms = $1, \
             error = 'cancelled before it ran' WHERE id = $2 AND status = 'queued'{}",
            owner_clause(3)
        );
        let mut queued = sqlx::query(&sql).bind(now_ms()).bind(id);
        if let Some(owner) = owner {
            queued = queued.bind(owner);
        }
        queued.execute(&self.pool).await?;
        let sql = format!(
            "UPDATE submissions SET cancel_requested = 1 WHERE id = $1 AND status = 'running'{}",
            owner_clause(2)
        );
        let mut running = sqlx::query(&sql).bind(id);
        if let Some(owner) = owner {
            running = running.bind(owner);
        }
        running.execute(&self.pool).await?;
        Ok(self.submission(id, owner).await?.map(|s| s.status))
    }
}

pub(super) fn submission_row(row: &sqlx::any::AnyRow) -> Result<SubmissionRow, ServiceError> {
    Ok(SubmissionRow {
        seq: row.try_get("seq")?,
        id: row.try_get("id")?,
        token_id: row.try_get("token_id")?,
        name: row.try_get("name")?,
        spec: row.try_get("spec")?,
        component_sha: row.try_get("component_sha")?,
        status: Status::parse(&row.try_get::<String, _>("status")?)?,
        attempts: row.try_get("attempts")?,
        cancel_requested: row.try_get::<i64, _>("cancel_requested")? != 0,
        worker: row.try_get("worker")?,
        created_ms: row.try_get("created_ms")?,
        started_ms: row.try_get("started_ms")?,
        finished_ms: row.try_get("finished_ms")?,
        report_sha: row.try_get("report_sha")?,
        text_sha: row.try_get("text_sha")?,
        trace_sha: row.try_get("trace_sha")?,
        exit_code: row.try_get("exit_code")?,
        error: row.try_get("error")?,
        suite: row.try_get("suite")?,
        suite_result_sha: row.try_get("suite_result_sha")?,
        scores: row.try_get("scores")?,
    })
}
