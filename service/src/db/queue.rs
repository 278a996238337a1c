//! The queue: claims under a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL), heartbeats,
//! expired leases taken back, and the one write of a result under its lease.

use super::{Backend, Db, Status, lease_ms};
use crate::clock::now_ms;
use crate::error::ServiceError;
use sqlx::Row;
use std::time::Duration;

/// A job a worker claimed: what it needs to run it, and the lease that lets it write back.
#[derive(Debug, Clone)]
pub struct Claim {
    /// The submission.
    pub id: String,
    /// The uploaded file's name (the report's bench name).
    pub name: String,
    /// The run spec, as JSON.
    pub spec: String,
    /// The component's sha256.
    pub component_sha: String,
    /// The lease: only a write that names it is accepted.
    pub lease_id: String,
    /// Which attempt this is (1 for the first).
    pub attempt: i64,
    /// The suite it runs, if any.
    pub suite: Option<String>,
}

/// What a finished attempt writes back.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Final status.
    pub status: Status,
    /// sha256 of the JSON report, if the run produced one.
    pub report_sha: Option<String>,
    /// sha256 of the text report.
    pub text_sha: Option<String>,
    /// sha256 of the trace.
    pub trace_sha: Option<String>,
    /// `kernbench run`'s exit status for it.
    pub exit_code: Option<i64>,
    /// Why there is no report, if there is none.
    pub error: Option<String>,
    /// A suite submission's per-run results.
    pub suite_result_sha: Option<String>,
    /// A suite submission's scores (JSON).
    pub scores: Option<String>,
    /// A valid suite submission's sort keys (ascending = better); all `None` otherwise.
    pub rank: [Option<f64>; 3],
}

impl Db {
    /// Put back (or fail, past `max_attempts`) every running job whose lease has expired:
    /// its worker died or lost the database.
    pub async fn requeue_expired(&self, max_attempts: i64) -> Result<u64, ServiceError> {
        let now = now_ms();
        let failed = sqlx::query(
            "UPDATE submissions SET status = 'failed', finished_ms = $1, lease_id = NULL, \
             lease_until_ms = NULL, error = 'its worker stopped answering on every attempt \
             (' || CAST(attempts AS TEXT) || ' of ' || CAST($2 AS TEXT) || ')' \
             WHERE status = 'running' AND lease_until_ms < $1 AND attempts >= $2",
        )
        .bind(now)
        .bind(max_attempts)
        .execute(&self.pool)
        .await?;
        let requeued = sqlx::query(
            "UPDATE submissions SET status = 'queued', lease_id = NULL, lease_until_ms = NULL \
             WHERE status = 'running' AND lease_until_ms < $1",
        )
        .bind(now)
        .execute(&self.pool)
        .await?;
        let n = requeued.rows_affected();
        if n > 0 || failed.rows_affected() > 0 {
            tracing::warn!(
                requeued = n,
                failed = failed.rows_affected(),
                "expired leases taken back"
            );
        }
        Ok(n)
    }

    /// Claim the oldest queued job for `worker` with a lease of `lease`.
    pub async fn claim(
        &self,
        worker: &str,
        lease: Duration,
    ) -> Result<Option<Claim>, ServiceError> {
        let lease_id = crate::auth::random_id("lease");
        let now = now_ms();
        let lock = match self.backend {
            // SQLite has one writer: the statement is atomic as it is.
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        let row = sqlx::query(&format!(
            "UPDATE submissions SET status = 'running', attempts = attempts + 1, \
               cancel_requested = 0, lease_id = $1, worker = $2, lease_until_ms = $3, \
               started_ms = $4 \
             WHERE status = 'queued' AND seq = (SELECT seq FROM submissions \
               WHERE status = 'queued' ORDER BY seq LIMIT 1{lock}) \
             RETURNING id, name, spec, component_sha, attempts, suite"
        ))
        .bind(&lease_id)
        .bind(worker)
        .bind(now + lease_ms(lease))
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Claim {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                spec: r.try_get(2)?,
                component_sha: r.try_get(3)?,
                attempt: r.try_get(4)?,
                suite: r.try_get(5)?,
                lease_id,
            })
        })
        .transpose()
    }

    /// Extend a lease. `Ok(None)`: the lease is lost (expired and taken back), stop the run;
    /// `Ok(Some(true))`: a cancel was asked.
    pub async fn heartbeat(
        &self,
        claim: &Claim,
        lease: Duration,
    ) -> Result<Option<bool>, ServiceError> {
        let row = sqlx::query(
            "UPDATE submissions SET lease_until_ms = $1 \
             WHERE id = $2 AND lease_id = $3 AND status = 'running' RETURNING cancel_requested",
        )
        .bind(now_ms() + lease_ms(lease))
        .bind(&claim.id)
        .bind(&claim.lease_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok(r.try_get::<i64, _>(0)? != 0)).transpose()
    }

    /// Write an attempt's result, once: only while the lease is still this attempt's. False
    /// when the lease was lost (the job was taken back; another attempt will write).
    pub async fn finish(&self, claim: &Claim, outcome: &Outcome) -> Result<bool, ServiceError> {
        let done = sqlx::query(
            "UPDATE submissions SET status = $1, report_sha = $2, text_sha = $3, trace_sha = $4, \
               exit_code = $5, error = $6, finished_ms = $7, lease_id = NULL, \
               lease_until_ms = NULL, suite_result_sha = $10, scores = $11, rank1 = $12, \
               rank2 = $13, rank3 = $14 \
             WHERE id = $8 AND lease_id = $9 AND status = 'running'",
        )
        .bind(outcome.status.as_str())
        .bind(outcome.report_sha.as_deref())
        .bind(outcome.text_sha.as_deref())
        .bind(outcome.trace_sha.as_deref())
        .bind(outcome.exit_code)
        .bind(outcome.error.as_deref())
        .bind(now_ms())
        .bind(&claim.id)
        .bind(&claim.lease_id)
        .bind(outcome.suite_result_sha.as_deref())
        .bind(outcome.scores.as_deref())
        .bind(outcome.rank[0])
        .bind(outcome.rank[1])
        .bind(outcome.rank[2])
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Give a job back to the queue without a result (the worker is stopping before it
    /// could finish). The attempt still counts.
    pub async fn release(&self, claim: &Claim) -> Result<bool, ServiceError> {
        let done = sqlx::query(
            "UPDATE submissions SET status = 'queued', lease_id = NULL, lease_until_ms = NULL \
             WHERE id = $1 AND lease_id = $2 AND status = 'running'",
        )
        .bind(&claim.id)
        .bind(&claim.lease_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Count submissions by status (for the load benchmark and the drain).
    pub async fn count_by_status(&self, status: Status) -> Result<i64, ServiceError> {
        Ok(
            sqlx::query("SELECT COUNT(*) FROM submissions WHERE status = $1")
                .bind(status.as_str())
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?,
        )
    }
}
