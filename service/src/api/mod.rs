//! The HTTP API under `/api/v1` (JSON, `Authorization: Bearer TOKEN`). Every read is scoped
//! to the caller's own submissions (another's id is `404`, not `403`); admins see all.

use crate::auth::{self, Caller};
use crate::db::{Status, SubmissionRow, TokenRow};
use crate::error::ServiceError;
use crate::scoring::SuiteResult;
use crate::state::AppState;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Multipart, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use kernbench_host::model::Policy;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

mod suites;
mod tokens;

pub use suites::{find_suite, leaderboard_view};

/// The OpenAPI document of this API (kept beside the code; a test checks every route is in it).
pub const OPENAPI: &str = include_str!("../openapi.json");

/// Every route of the API, as `(method, path)`: the router is built from the same handlers,
/// and the OpenAPI test reads this list.
pub const ROUTES: &[(&str, &str)] = &[
    ("post", "/api/v1/submissions"),
    ("get", "/api/v1/submissions"),
    ("get", "/api/v1/submissions/{id}"),
    ("delete", "/api/v1/submissions/{id}"),
    ("get", "/api/v1/submissions/{id}/report"),
    ("get", "/api/v1/submissions/{id}/trace"),
    ("get", "/api/v1/suites"),
    ("post", "/api/v1/suites"),
    ("get", "/api/v1/suites/{name}"),
    ("get", "/api/v1/suites/{name}/leaderboard"),
    ("post", "/api/v1/tokens"),
    ("get", "/api/v1/tokens"),
    ("delete", "/api/v1/tokens/{id}"),
    ("get", "/api/v1/whoami"),
    ("get", "/api/v1/limits"),
    ("get", "/api/v1/openapi.json"),
];

/// The API's routes.
pub fn router(state: AppState) -> Router {
    let upload_limit = state.limits.max_upload_bytes;
    Router::new()
        .route(
            "/api/v1/submissions",
            post(submit)
                .get(list)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/api/v1/submissions/{id}", get(show).delete(cancel))
        .route("/api/v1/submissions/{id}/report", get(report))
        .route("/api/v1/submissions/{id}/trace", get(trace))
        .route(
            "/api/v1/suites",
            get(suites::list_suites)
                .post(suites::create_suite)
                .layer(DefaultBodyLimit::max(crate::suite::MAX_SUITE_BYTES)),
        )
        .route("/api/v1/suites/{name}", get(suites::show_suite))
        .route(
            "/api/v1/suites/{name}/leaderboard",
            get(suites::leaderboard),
        )
        .route(
            "/api/v1/tokens",
            post(tokens::create_token).get(tokens::list_tokens),
        )
        .route("/api/v1/tokens/{id}", delete(tokens::revoke_token))
        .route("/api/v1/whoami", get(whoami))
        .route("/api/v1/limits", get(limits))
        .route(
            "/api/v1/openapi.json",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], OPENAPI) }),
        )
        .with_state(state)
}

/// The name of the cookie the web pages sign in with.
pub const SESSION_COOKIE: &str = "kb_session";

impl FromRequestParts<AppState> for Caller {
    type Rejection = ServiceError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Caller, ServiceError> {
        let secret = bearer(parts)
            .or_else(|| session_cookie(parts))
            .ok_or(ServiceError::Unauthorized)?;
        auth::authenticate(&state.db, &secret).await
    }
}

fn bearer(parts: &Parts) -> Option<String> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ")?;
    Some(token.trim().to_owned())
}

fn session_cookie(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == SESSION_COOKIE).then(|| value.to_owned())
        })
}

/// A submission as the API shows it.
#[derive(Debug, Serialize)]
pub struct SubmissionView {
    /// Its id.
    pub id: String,
    /// The uploaded file's name, verbatim.
    pub name: String,
    /// Where it is.
    pub status: Status,
    /// Queued submissions ahead of it (only while queued).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    /// Claims so far.
    pub attempts: i64,
    /// Unix ms.
    pub created_ms: i64,
    /// Unix ms.
    pub started_ms: Option<i64>,
    /// Unix ms.
    pub finished_ms: Option<i64>,
    /// The exit status `kernbench run` would give.
    pub exit_code: Option<i64>,
    /// Why there is no report, when there is none.
    pub error: Option<String>,
    /// The run spec.
    pub spec: Value,
    /// The suite it was submitted to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suite: Option<String>,
    /// A suite submission's runs and scores, hidden runs reduced to pass/fail (only in
    /// `GET /submissions/{id}`, once it ran).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suite_result: Option<Value>,
    /// The report, as `kernbench run --json` prints it (only in `GET /submissions/{id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<Value>,
}

impl SubmissionView {
    /// The view of a row, without the report.
    pub fn of(row: &SubmissionRow) -> SubmissionView {
        SubmissionView {
            id: row.id.clone(),
            name: row.name.clone(),
            status: row.status,
            position: None,
            attempts: row.attempts,
            created_ms: row.created_ms,
            started_ms: row.started_ms,
            finished_ms: row.finished_ms,
            exit_code: row.exit_code,
            error: row.error.clone(),
            spec: serde_json::from_str(&row.spec).unwrap_or(Value::Null),
            suite: row.suite.clone(),
            suite_result: None,
            report: None,
        }
    }
}

/// `POST /submissions`: multipart with a `spec` part (JSON) and a `component` part (bytes).
async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    multipart: Multipart,
) -> Result<Response, ServiceError> {
    // A declared length past the limit is refused before a byte of the body is read; an
    // undeclared or false one is caught while streaming (`submit::accept`).
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let limit = state.limits.max_upload_bytes as u64;
    if declared.is_some_and(|n| n > limit) {
        return Err(ServiceError::TooLarge { limit });
    }
    let row = crate::submit::accept(&state, &caller, multipart).await?;
    let body = json!({ "id": row.id, "status": Status::Queued });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Query of `GET /submissions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// Only submissions before this cursor (the `next` of the previous page).
    before: Option<i64>,
    /// Page size (1..=100, default 20).
    limit: Option<i64>,
}

/// The largest page `GET /submissions` returns.
pub const MAX_PAGE: i64 = 100;

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ServiceError> {
    let limit = query.limit.unwrap_or(20);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ServiceError::bad(
            "limit",
            format!("must be between 1 and {MAX_PAGE}"),
        ));
    }
    let rows = state
        .db
        .submissions(caller.scope(), query.before, limit)
        .await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.seq))
        .flatten();
    let items: Vec<_> = rows.iter().map(SubmissionView::of).collect();
    Ok(Json(json!({ "submissions": items, "next": next })))
}

/// The caller's submission `id`, or 404.
pub async fn owned(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<SubmissionRow, ServiceError> {
    state
        .db
        .submission(id, caller.scope())
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("submission {id}")))
}

/// The full view of a submission: position while queued, report once written, a suite
/// submission's runs (hidden ones as pass/fail, unless the caller is an admin).
pub async fn full_view(
    state: &AppState,
    caller: &Caller,
    row: &SubmissionRow,
) -> Result<SubmissionView, ServiceError> {
    let mut view = SubmissionView::of(row);
    if row.status == Status::Queued {
        view.position = Some(state.db.queue_position(row.seq).await?);
    }
    if let Some(result) = suite_result(state, row)? {
        view.suite_result = Some(if caller.token.admin {
            serde_json::to_value(&result)
                .map_err(|e| ServiceError::Corrupt(format!("suite result: {e}")))?
        } else {
            result.public_view()
        });
    }
    if let Some(sha) = &row.report_sha {
        let bytes = state.store.get(sha)?;
        view.report = Some(
            serde_json::from_slice(&bytes)
                .map_err(|e| ServiceError::Corrupt(format!("report {sha}: {e}")))?,
        );
    }
    Ok(view)
}

/// A suite submission's stored result, if it has one.
pub fn suite_result(
    state: &AppState,
    row: &SubmissionRow,
) -> Result<Option<SuiteResult>, ServiceError> {
    row.suite_result_sha
        .as_ref()
        .map(|sha| {
            serde_json::from_slice(&state.store.get(sha)?)
                .map_err(|e| ServiceError::Corrupt(format!("suite result {sha}: {e}")))
        })
        .transpose()
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<SubmissionView>, ServiceError> {
    let row = owned(&state, &caller, &id).await?;
    Ok(Json(full_view(&state, &caller, &row).await?))
}

async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ServiceError> {
    owned(&state, &caller, &id).await?;
    let status = state
        .db
        .cancel(&id, caller.scope())
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("submission {id}")))?;
    Ok(Json(json!({ "id": id, "status": status })))
}

/// Query of `GET /submissions/{id}/report`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportQuery {
    /// `json` (default) or `text`: the report as `kernbench run [--json]` prints it.
    format: Option<String>,
    /// A suite submission's run (visible runs only); its first visible run when omitted.
    run: Option<String>,
}

async fn report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<ReportQuery>,
) -> Result<Response, ServiceError> {
    let mut row = owned(&state, &caller, &id).await?;
    if let Some(run) = &query.run {
        let result = suite_result(&state, &row)?;
        let found = result
            .as_ref()
            .and_then(|r| r.runs.iter().find(|r| &r.name == run))
            .filter(|r| caller.token.admin || !r.hidden)
            .ok_or_else(|| ServiceError::NotFound(format!("run {run:?} of {id}")))?;
        row.report_sha = found.report_sha.clone();
        row.text_sha = found.text_sha.clone();
    }
    let (sha, content_type) = match query.format.as_deref().unwrap_or("json") {
        "json" => (&row.report_sha, "application/json"),
        "text" => (&row.text_sha, "text/plain; charset=utf-8"),
        other => {
            return Err(ServiceError::bad(
                "format",
                format!("{other:?}: use json or text"),
            ));
        }
    };
    let sha = sha.as_ref().ok_or_else(|| {
        ServiceError::NotFound(format!("report of {id} (status {})", row.status.as_str()))
    })?;
    Ok((
        [(header::CONTENT_TYPE, content_type)],
        state.store.get(sha)?,
    )
        .into_response())
}

async fn trace(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ServiceError> {
    let row = owned(&state, &caller, &id).await?;
    let sha = row
        .trace_sha
        .as_ref()
        .ok_or_else(|| ServiceError::NotFound(format!("trace of {id}")))?;
    let disposition = format!("attachment; filename=\"{id}.trace.json\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        state.store.get(sha)?,
    )
        .into_response())
}

/// The upload limits and quotas, so a client can refuse an oversized upload before sending
/// it (the server refuses it mid-stream and closes the connection).
async fn limits(State(state): State<AppState>, _caller: Caller) -> Json<Value> {
    let limits = state.limits;
    Json(json!({
        "max_upload_bytes": limits.max_upload_bytes,
        "component_bytes": Policy::strict().limits.component_bytes,
        "max_active_per_token": limits.max_active_per_token,
        "max_per_hour": limits.max_per_hour,
    }))
}

async fn whoami(caller: Caller) -> Json<TokenRow> {
    Json(caller.token)
}
