//! The service's state in one database, SQLite (embedded default) or PostgreSQL (many
//! machines), behind sqlx's `Any` driver: one set of queries, two schemas. Every state change
//! of a submission is one statement, so SQLite needs no multi-statement transaction and
//! PostgreSQL's row locks (`FOR UPDATE SKIP LOCKED`) make parallel claims safe (ADR-0012).

use crate::clock::now_ms;
use crate::error::ServiceError;
use crate::suite::Suite;
use serde::{Deserialize, Serialize};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Row};
use std::path::Path;
use std::time::Duration;

/// Which database the URL names: the SQL differs in one place (the claim's row lock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file, opened in WAL mode.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A submission's state, as the API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Waiting for a worker.
    Queued,
    /// A worker holds its lease.
    Running,
    /// The run succeeded.
    Ok,
    /// The run failed, or could not produce a report.
    Failed,
    /// The component was refused at load.
    Refused,
    /// Cancelled by its submitter or an admin.
    Cancelled,
}

impl Status {
    /// The name stored in the database and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Refused => "refused",
            Status::Cancelled => "cancelled",
        }
    }

    fn parse(text: &str) -> Result<Status, ServiceError> {
        Ok(match text {
            "queued" => Status::Queued,
            "running" => Status::Running,
            "ok" => Status::Ok,
            "failed" => Status::Failed,
            "refused" => Status::Refused,
            "cancelled" => Status::Cancelled,
            other => {
                return Err(ServiceError::Corrupt(format!(
                    "unknown submission status {other:?}"
                )));
            }
        })
    }

    /// Whether the submission will not change any more.
    pub fn is_final(self) -> bool {
        !matches!(self, Status::Queued | Status::Running)
    }
}

/// A token's row (the secret itself is never stored, only its hash).
#[derive(Debug, Clone, Serialize)]
pub struct TokenRow {
    /// Public id (`tok_...`), used to revoke it and to own submissions.
    pub id: String,
    /// The submitter's name, verbatim.
    pub name: String,
    /// Whether it may see every submission and manage tokens.
    pub admin: bool,
    /// When it was created (Unix ms).
    pub created_ms: i64,
    /// When it was revoked, if it was.
    pub revoked_ms: Option<i64>,
}

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

const SUBMISSION_COLUMNS: &str = "seq, id, token_id, name, spec, component_sha, status, \
     attempts, cancel_requested, worker, created_ms, started_ms, finished_ms, report_sha, \
     text_sha, trace_sha, exit_code, error, suite, suite_result_sha, scores";

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

/// The database handle: cheap to clone (a pool).
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

impl Db {
    /// Open `url` (`sqlite://PATH` or `postgres://...`) and apply the migrations in the repo.
    pub async fn open(url: &str) -> Result<Db, ServiceError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(ServiceError::Config(format!(
                "database URL must start with sqlite:// or postgres://, got {:?}",
                redact(url)
            )));
        };
        let options = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 8 })
            .acquire_timeout(Duration::from_secs(30));
        let options = if backend == Backend::Sqlite {
            // Per connection: wait for the writer instead of failing at once.
            options.after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::query("PRAGMA busy_timeout = 10000")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA foreign_keys = ON")
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            })
        } else {
            options
        };
        let pool = options
            .connect(url)
            .await
            .map_err(|e| ServiceError::Database(format!("connecting to {}: {e}", redact(url))))?;
        if backend == Backend::Sqlite {
            // WAL is a property of the file: set once, kept by every later connection.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        let migrated = match backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(&pool).await,
            Backend::Postgres => sqlx::migrate!("migrations/postgres").run(&pool).await,
        };
        migrated.map_err(|e| ServiceError::Database(format!("applying migrations: {e}")))?;
        Ok(Db { pool, backend })
    }

    /// The SQLite database of a data directory.
    pub fn sqlite_url(data_dir: &Path) -> String {
        format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("kernbench.db").display()
        )
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Close the pool (waits for connections in use).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    // ---- tokens ----

    /// Store a new token (its hash only).
    pub async fn insert_token(
        &self,
        id: &str,
        name: &str,
        hash: &str,
        admin: bool,
    ) -> Result<TokenRow, ServiceError> {
        let created_ms = now_ms();
        sqlx::query(
            "INSERT INTO tokens (id, name, hash, admin, created_ms) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(name)
        .bind(hash)
        .bind(i64::from(admin))
        .bind(created_ms)
        .execute(&self.pool)
        .await?;
        Ok(TokenRow {
            id: id.to_owned(),
            name: name.to_owned(),
            admin,
            created_ms,
            revoked_ms: None,
        })
    }

    /// The live (not revoked) token whose secret hashes to `hash`.
    pub async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRow>, ServiceError> {
        let row = sqlx::query(
            "SELECT id, name, admin, created_ms, revoked_ms FROM tokens \
             WHERE hash = $1 AND revoked_ms IS NULL",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| token_row(&r)).transpose()
    }

    /// Whether any admin token exists (first start creates one).
    pub async fn has_admin(&self) -> Result<bool, ServiceError> {
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM tokens WHERE admin = 1")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        Ok(n > 0)
    }

    /// Every token, newest first.
    pub async fn tokens(&self) -> Result<Vec<TokenRow>, ServiceError> {
        let rows = sqlx::query(
            "SELECT id, name, admin, created_ms, revoked_ms FROM tokens ORDER BY created_ms DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_row).collect()
    }

    /// Revoke a token; false if there is no such live token.
    pub async fn revoke_token(&self, id: &str) -> Result<bool, ServiceError> {
        let done =
            sqlx::query("UPDATE tokens SET revoked_ms = $1 WHERE id = $2 AND revoked_ms IS NULL")
                .bind(now_ms())
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    // ---- submissions ----

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

    // ---- the queue ----

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

/// A suite's row: its file as registered.
#[derive(Debug, Clone)]
pub struct SuiteRow {
    /// The suite.
    pub suite: Suite,
    /// When it was registered (Unix ms).
    pub created_ms: i64,
}

/// One line of a leaderboard: a submitter's best valid submission.
#[derive(Debug, Clone, Serialize)]
pub struct LeaderRow {
    /// Its position, from 1.
    pub position: i64,
    /// The submission.
    pub submission_id: String,
    /// The submitter's token.
    pub token_id: String,
    /// The submitter's name, verbatim (escape it wherever it is shown).
    pub submitter: String,
    /// When it finished (Unix ms).
    pub finished_ms: Option<i64>,
    /// Its scores (JSON, hidden parts included: the API filters them).
    #[serde(skip)]
    pub scores: Option<String>,
}

/// The most suites `GET /suites` lists, and the longest leaderboard.
pub const MAX_LISTED: i64 = 100;

impl Db {
    /// Register a suite; a suite of that name already existing is a conflict.
    pub async fn insert_suite(&self, suite: &Suite) -> Result<(), ServiceError> {
        let definition = serde_json::to_string(suite)
            .map_err(|e| ServiceError::Corrupt(format!("suite: {e}")))?;
        let done = sqlx::query(
            "INSERT INTO suites (name, definition, created_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(&suite.name)
        .bind(&definition)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 1 {
            Ok(())
        } else {
            Err(ServiceError::Conflict(format!(
                "a suite named {:?} exists; a suite cannot change once registered \
                 (register the new version under a new name)",
                suite.name
            )))
        }
    }

    /// A suite by name.
    pub async fn suite(&self, name: &str) -> Result<Option<SuiteRow>, ServiceError> {
        let row = sqlx::query("SELECT definition, created_ms FROM suites WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| suite_row(&r)).transpose()
    }

    /// Every suite (at most [`MAX_LISTED`]), by name.
    pub async fn suites(&self) -> Result<Vec<SuiteRow>, ServiceError> {
        let rows = sqlx::query("SELECT definition, created_ms FROM suites ORDER BY name LIMIT $1")
            .bind(MAX_LISTED)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(suite_row).collect()
    }

    /// A suite's leaderboard: each live token's best valid submission (ties: the earlier
    /// one), best first, at most [`MAX_LISTED`].
    pub async fn leaderboard(&self, suite: &str) -> Result<Vec<LeaderRow>, ServiceError> {
        let rows = sqlx::query(
            "SELECT b.id, b.token_id, t.name, b.finished_ms, b.scores FROM ( \
               SELECT id, token_id, finished_ms, scores, seq, rank1, rank2, rank3, \
                 ROW_NUMBER() OVER (PARTITION BY token_id \
                   ORDER BY rank1, rank2, rank3, seq) AS best \
               FROM submissions WHERE suite = $1 AND rank1 IS NOT NULL) b \
             JOIN tokens t ON t.id = b.token_id \
             WHERE b.best = 1 AND t.revoked_ms IS NULL \
             ORDER BY b.rank1, b.rank2, b.rank3, b.seq LIMIT $2",
        )
        .bind(suite)
        .bind(MAX_LISTED)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .zip(1..)
            .map(|(r, position)| {
                Ok(LeaderRow {
                    position,
                    submission_id: r.try_get(0)?,
                    token_id: r.try_get(1)?,
                    submitter: r.try_get(2)?,
                    finished_ms: r.try_get(3)?,
                    scores: r.try_get(4)?,
                })
            })
            .collect()
    }
}

fn suite_row(row: &sqlx::any::AnyRow) -> Result<SuiteRow, ServiceError> {
    let definition: String = row.try_get(0)?;
    let suite = serde_json::from_str(&definition)
        .map_err(|e| ServiceError::Corrupt(format!("stored suite: {e}")))?;
    Ok(SuiteRow {
        suite,
        created_ms: row.try_get(1)?,
    })
}

fn lease_ms(lease: Duration) -> i64 {
    i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2)
}

/// A database URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

fn token_row(row: &sqlx::any::AnyRow) -> Result<TokenRow, ServiceError> {
    Ok(TokenRow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        admin: row.try_get::<i64, _>("admin")? != 0,
        created_ms: row.try_get("created_ms")?,
        revoked_ms: row.try_get("revoked_ms")?,
    })
}

fn submission_row(row: &sqlx::any::AnyRow) -> Result<SubmissionRow, ServiceError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_never_reaches_a_message() {
        assert_eq!(
            redact("postgres://kb:s3cret@127.0.0.1:5432/kb"),
            "postgres://kb:***@127.0.0.1:5432/kb"
        );
        assert_eq!(redact("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
    }
}
