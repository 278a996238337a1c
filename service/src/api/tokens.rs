//! The admin's token routes: create (the secret is shown once), list, revoke.

use crate::auth::{self, Caller};
use crate::db::TokenRow;
use crate::error::ServiceError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

/// Body of `POST /tokens`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewToken {
    /// The submitter's name.
    name: String,
    /// Whether the token is an admin's (default false).
    #[serde(default)]
    admin: bool,
}

pub(super) async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<NewToken>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ServiceError> {
    caller.require_admin()?;
    let Json(body) = body.map_err(|e| ServiceError::bad("body", e.body_text()))?;
    let (row, secret) = auth::create_token(&state.db, &body.name, body.admin).await?;
    let view = json!({ "id": row.id, "name": row.name, "admin": row.admin, "token": secret });
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

pub(super) async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<TokenRow>>, ServiceError> {
    caller.require_admin()?;
    Ok(Json(state.db.tokens().await?))
}

pub(super) async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ServiceError> {
    caller.require_admin()?;
    if state.db.revoke_token(&id).await? {
        Ok(Json(json!({ "id": id, "revoked": true })))
    } else {
        Err(ServiceError::NotFound(format!("token {id}")))
    }
}
