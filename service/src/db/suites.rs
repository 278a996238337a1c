//! Suites and their leaderboards (ADR-0014).

use super::Db;
use crate::clock::now_ms;
use crate::error::ServiceError;
use crate::suite::Suite;
use serde::Serialize;
use sqlx::Row;

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
