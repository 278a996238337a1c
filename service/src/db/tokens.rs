//! Tokens: only their hashes are stored; revoked ones stay for the record.

use super::Db;
use crate::clock::now_ms;
use crate::error::ServiceError;
use serde::Serialize;
use sqlx::Row;

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

impl Db {
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
