//! The service's state in one database, SQLite (embedded default) or PostgreSQL (many
//! machines), behind sqlx's `Any` driver: one set of queries, two schemas. Every state change
//! of a submission is one statement, so SQLite needs no multi-statement transaction and
//! PostgreSQL's row locks (`FOR UPDATE SKIP LOCKED`) make parallel claims safe (ADR-0012).

use crate::error::ServiceError;
use serde::{Deserialize, Serialize};
use sqlx::AnyPool;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use std::path::Path;
use std::time::Duration;

mod queue;
mod submissions;
mod suites;
mod tokens;

pub use queue::{Claim, Outcome};
pub use submissions::{SubmissionRow, Usage};
pub use suites::{LeaderRow, MAX_LISTED, SuiteRow};
pub use tokens::TokenRow;

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
}

pub(super) fn lease_ms(lease: Duration) -> i64 {
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
