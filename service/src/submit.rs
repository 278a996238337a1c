//! Accepting a submission: quota first (nothing is read for a caller who cannot submit),
//! then the upload, streamed with a cap, then the same load-time checks as `kernbench
//! validate` and the same spec checks as the run, and only then the queue.

use crate::auth::{Caller, random_id};
use crate::clock::now_ms;
use crate::db::SubmissionRow;
use crate::error::ServiceError;
use crate::spec::{MAX_SPEC_BYTES, RunSpec};
use crate::state::AppState;
use axum::extract::Multipart;
use axum::extract::multipart::{Field, MultipartError};
use kernbench_host::model::Policy;

/// The longest component file name kept.
pub const MAX_FILE_NAME_BYTES: usize = 200;

/// Check, store and queue one submission.
pub async fn accept(
    state: &AppState,
    caller: &Caller,
    mut multipart: Multipart,
) -> Result<SubmissionRow, ServiceError> {
    if state.is_draining() {
        return Err(ServiceError::ShuttingDown);
    }
    check_quota(state, caller).await?;
    let policy = Policy::strict();
    let component_cap = usize::try_from(policy.limits.component_bytes).unwrap_or(usize::MAX);
    let mut spec = None;
    let mut component = None;
    let upload_limit = state.limits.max_upload_bytes;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(e, upload_limit))?
    {
        match field.name() {
            Some("spec") => {
                spec = Some(read_capped(field, MAX_SPEC_BYTES, "spec", upload_limit).await?)
            }
            Some("component") => {
                let name = field
                    .file_name()
                    .map(str::to_owned)
                    .unwrap_or_else(|| "component.wasm".to_owned());
                if name.len() > MAX_FILE_NAME_BYTES {
                    return Err(ServiceError::bad(
                        "component",
                        format!("file name longer than {MAX_FILE_NAME_BYTES} bytes"),
                    ));
                }
                let bytes = read_capped(field, component_cap, "component", upload_limit).await?;
                component = Some((name, bytes));
            }
            Some(other) => {
                return Err(ServiceError::bad(
                    other.to_owned(),
                    "unknown part: expected `spec` and `component`",
                ));
            }
            None => return Err(ServiceError::bad("multipart", "a part without a name")),
        }
    }
    let spec = spec.ok_or_else(|| ServiceError::bad("spec", "missing part"))?;
    let (name, bytes) = component.ok_or_else(|| ServiceError::bad("component", "missing part"))?;
    let spec = RunSpec::parse(&spec)?;
    match &spec.suite {
        // A suite's runs were checked when it was registered.
        Some(suite) => {
            if state.db.suite(suite).await?.is_none() {
                return Err(ServiceError::UnknownSuite(suite.clone()));
            }
        }
        None => {
            spec.options(policy)?;
        }
    }
    if let Err(refused) = kernbench_host::runtime::validate::validate(&bytes) {
        return Err(ServiceError::Refused {
            kind: refused.kind().to_owned(),
            message: refused.to_string(),
        });
    }
    let sha = state.store.put(&bytes)?;
    let id = random_id("sub");
    let spec_json =
        serde_json::to_string(&spec).map_err(|e| ServiceError::Corrupt(format!("spec: {e}")))?;
    state
        .db
        .insert_submission(
            &id,
            &caller.token.id,
            &name,
            &spec_json,
            &sha,
            spec.suite.as_deref(),
        )
        .await?;
    tracing::info!(%id, token = %caller.token.id, bytes = bytes.len(), "queued");
    state
        .db
        .submission(&id, None)
        .await?
        .ok_or_else(|| ServiceError::Corrupt(format!("{id} vanished after insert")))
}

async fn check_quota(state: &AppState, caller: &Caller) -> Result<(), ServiceError> {
    let usage = state.db.usage(&caller.token.id).await?;
    let limits = state.limits;
    if usage.active >= limits.max_active_per_token {
        return Err(ServiceError::Quota {
            message: format!(
                "quota: {} submissions queued or running (max_active_per_token {})",
                usage.active, limits.max_active_per_token
            ),
            retry_after_secs: 10,
        });
    }
    if usage.last_hour >= limits.max_per_hour {
        let oldest = usage.oldest_in_hour_ms.unwrap_or_else(now_ms);
        let wait_ms = (oldest + 3_600_000 - now_ms()).max(1000);
        return Err(ServiceError::Quota {
            message: format!(
                "quota: {} submissions in the last hour (max_per_hour {})",
                usage.last_hour, limits.max_per_hour
            ),
            retry_after_secs: u64::try_from((wait_ms + 999) / 1000).unwrap_or(3600),
        });
    }
    Ok(())
}

/// Read one part, refusing (413) as soon as it passes `cap`: never buffers more.
async fn read_capped(
    mut field: Field<'_>,
    cap: usize,
    part: &str,
    upload_limit: usize,
) -> Result<Vec<u8>, ServiceError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| multipart_error(e, upload_limit))?
    {
        if bytes.len() + chunk.len() > cap {
            tracing::info!(part, cap, "upload refused: part too large");
            return Err(ServiceError::TooLarge { limit: cap as u64 });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

fn multipart_error(e: MultipartError, upload_limit: usize) -> ServiceError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ServiceError::TooLarge {
            limit: upload_limit as u64,
        }
    } else {
        ServiceError::bad("multipart", e.body_text())
    }
}
