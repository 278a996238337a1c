//! The service's errors: each one is a named kind with an HTTP status, so a client (and a
//! test) can tell a bad spec from a full quota from a refused component.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Everything the service can answer with instead of a result.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No token, an unknown one, or a revoked one.
    #[error("missing or invalid token")]
    Unauthorized,
    /// The token is valid but not an admin's.
    #[error("this needs an admin token")]
    Forbidden,
    /// No such resource for this caller (another submitter's id answers this too).
    #[error("{0} not found")]
    NotFound(String),
    /// A malformed request: names the field.
    #[error("{field}: {message}")]
    BadRequest {
        /// The field (or multipart part) at fault.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The component was refused by the load-time checks (the kinds of `kernbench validate`).
    #[error("{kind}: {message}")]
    Refused {
        /// `invalid-component`, `denied-import`, `wit-version`, `component-too-large` ...
        kind: String,
        /// The checks' message.
        message: String,
    },
    /// The spec is well-formed but cannot run (world size above the policy, bad topology).
    #[error("{field}: {message}")]
    Unprocessable {
        /// The field at fault.
        field: String,
        /// Why it cannot run.
        message: String,
    },
    /// A submission names a suite that is not registered.
    #[error("spec.suite: no suite named {0:?} (GET /api/v1/suites lists them)")]
    UnknownSuite(String),
    /// The resource already exists (a suite is immutable once registered).
    #[error("{0}")]
    Conflict(String),
    /// The upload is larger than the service accepts.
    #[error("upload larger than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// A quota is used up; retry after the given seconds.
    #[error("{message}")]
    Quota {
        /// Which quota and its value.
        message: String,
        /// Seconds until a retry can succeed.
        retry_after_secs: u64,
    },
    /// The server is draining (SIGTERM) and takes no new submissions.
    #[error("the server is shutting down")]
    ShuttingDown,
    /// A wrong operator setting.
    #[error("configuration: {0}")]
    Config(String),
    /// The database failed.
    #[error("database: {0}")]
    Database(String),
    /// The blob store failed.
    #[error("store: {0}")]
    Store(String),
    /// Stored data that does not parse.
    #[error("corrupt state: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> Self {
        ServiceError::Database(e.to_string())
    }
}

impl ServiceError {
    /// The error's kind as the API names it.
    pub fn kind(&self) -> &str {
        match self {
            ServiceError::Unauthorized => "unauthorized",
            ServiceError::Forbidden => "forbidden",
            ServiceError::NotFound(_) => "not-found",
            ServiceError::BadRequest { .. } => "bad-request",
            ServiceError::Refused { kind, .. } => kind,
            ServiceError::Unprocessable { .. } => "unprocessable",
            ServiceError::UnknownSuite(_) => "unknown-suite",
            ServiceError::Conflict(_) => "conflict",
            ServiceError::TooLarge { .. } => "too-large",
            ServiceError::Quota { .. } => "quota-exceeded",
            ServiceError::ShuttingDown => "shutting-down",
            ServiceError::Config(_) => "config",
            ServiceError::Database(_) | ServiceError::Store(_) | ServiceError::Corrupt(_) => {
                "internal"
            }
        }
    }

    /// The HTTP status it answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            ServiceError::Unauthorized => StatusCode::UNAUTHORIZED,
            ServiceError::Forbidden => StatusCode::FORBIDDEN,
            ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
            ServiceError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ServiceError::Refused { .. }
            | ServiceError::Unprocessable { .. }
            | ServiceError::UnknownSuite(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ServiceError::Conflict(_) => StatusCode::CONFLICT,
            ServiceError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ServiceError::Quota { .. } => StatusCode::TOO_MANY_REQUESTS,
            ServiceError::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            ServiceError::Config(_)
            | ServiceError::Database(_)
            | ServiceError::Store(_)
            | ServiceError::Corrupt(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A bad request naming its field.
    pub fn bad(field: impl Into<String>, message: impl Into<String>) -> Self {
        ServiceError::BadRequest {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            // The details stay in the log; the client learns only that it was us.
            tracing::error!(error = %self, "request failed");
        }
        let message = if status.is_server_error() {
            "internal error (see the server log)".to_owned()
        } else {
            self.to_string()
        };
        let mut body = json!({ "error": self.kind(), "message": message });
        if let ServiceError::BadRequest { field, .. } | ServiceError::Unprocessable { field, .. } =
            &self
        {
            body["field"] = json!(field);
        }
        if let ServiceError::UnknownSuite(_) = &self {
            body["field"] = json!("spec.suite");
        }
        let mut response = (status, axum::Json(body)).into_response();
        if let ServiceError::Quota {
            retry_after_secs, ..
        } = &self
            && let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}
