//! The suites' routes: list, register (admin), show, and the leaderboard, each as the caller
//! may see it (hidden runs by name only, other submitters' ids never).

use crate::auth::Caller;
use crate::error::ServiceError;
use crate::scoring::Scores;
use crate::state::AppState;
use crate::suite::Suite;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub(super) async fn list_suites(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<Value>, ServiceError> {
    let suites: Vec<Value> = state
        .db
        .suites()
        .await?
        .iter()
        .map(|row| row.suite.public_view())
        .collect();
    Ok(Json(json!({ "suites": suites })))
}

pub(super) async fn create_suite(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, ServiceError> {
    caller.require_admin()?;
    let suite = Suite::parse(&body)?;
    state.db.insert_suite(&suite).await?;
    tracing::info!(suite = %suite.name, "suite registered");
    Ok((StatusCode::CREATED, Json(suite.public_view())).into_response())
}

/// A suite by name, or 404.
pub async fn find_suite(state: &AppState, name: &str) -> Result<Suite, ServiceError> {
    Ok(state
        .db
        .suite(name)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("suite {name}")))?
        .suite)
}

pub(super) async fn show_suite(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ServiceError> {
    let suite = find_suite(&state, &name).await?;
    Ok(Json(if caller.token.admin {
        serde_json::to_value(&suite).map_err(|e| ServiceError::Corrupt(e.to_string()))?
    } else {
        suite.public_view()
    }))
}

/// A suite's leaderboard as the caller may see it: everyone sees positions, names and the
/// visible scores; the submission id only on the caller's own lines (or an admin's).
pub async fn leaderboard_view(
    state: &AppState,
    caller: &Caller,
    suite: &Suite,
) -> Result<Value, ServiceError> {
    let rows = state.db.leaderboard(&suite.name).await?;
    let entries: Vec<Value> = rows
        .iter()
        .map(|row| {
            let scores: Scores = row
                .scores
                .as_deref()
                .and_then(|s| {
                    serde_json::from_str(s)
                        .map_err(|e| {
                            tracing::error!(id = %row.submission_id, error = %e, "stored scores");
                        })
                        .ok()
                })
                .unwrap_or_default();
            let mine = caller.token.admin || row.token_id == caller.token.id;
            let mut entry = json!({
                "position": row.position,
                "submitter": row.submitter,
                "finished_ms": row.finished_ms,
                "scores": scores.visible,
                "mine": row.token_id == caller.token.id,
            });
            if mine {
                entry["submission_id"] = json!(row.submission_id);
            }
            if caller.token.admin {
                entry["ranked_scores"] = json!(scores.all);
            }
            entry
        })
        .collect();
    let metrics: Vec<Value> = suite
        .rank
        .iter()
        .map(|m| json!({ "name": m.name, "better": m.better }))
        .collect();
    Ok(json!({ "suite": suite.name, "metrics": metrics, "entries": entries }))
}

pub(super) async fn leaderboard(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ServiceError> {
    let suite = find_suite(&state, &name).await?;
    Ok(Json(leaderboard_view(&state, &caller, &suite).await?))
}
