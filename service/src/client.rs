//! The other end of the API, for `kernbench submit`, `status` and `report`: every answer
//! that is not a success becomes a [`ClientError`] carrying the server's named error.

use crate::spec::RunSpec;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use std::time::Duration;

/// What went wrong talking to a server.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached or the answer not read.
    #[error("talking to {url}: {source}")]
    Transport {
        /// The request's URL.
        url: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with a named error.
    #[error("the server answered {status}: {kind}: {message}")]
    Server {
        /// HTTP status.
        status: u16,
        /// The error's kind (`invalid-component`, `quota-exceeded` ...).
        kind: String,
        /// Its message.
        message: String,
        /// `Retry-After`, when the server sent one.
        retry_after: Option<u64>,
    },
    /// The upload is larger than the server accepts (checked before sending it: a server
    /// refuses it while it streams and closes the connection, which a client would otherwise
    /// see only as a broken pipe).
    #[error("{what} is {bytes} bytes; this server accepts at most {limit} bytes ({limit_name})")]
    TooLarge {
        /// What is too large.
        what: String,
        /// Its size.
        bytes: u64,
        /// The server's limit.
        limit: u64,
        /// The limit's name.
        limit_name: &'static str,
    },
    /// The answer was not what the API documents.
    #[error("unexpected answer from {url}: {message}")]
    Protocol {
        /// The request's URL.
        url: String,
        /// What was wrong.
        message: String,
    },
}

/// What multipart framing adds to the parts' bytes, at most (boundaries and part headers).
const MULTIPART_OVERHEAD: usize = 1024;

/// Percent-encode a name for a URL path segment or query value (suite and run names are
/// restricted to URL-safe characters, but a client should not rely on it).
fn path_segment(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A client of one server with one token.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    /// A client of `server` (e.g. `http://127.0.0.1:8080`) with `token`.
    pub fn new(server: &str, token: &str) -> Result<Client, ClientError> {
        let base = server.trim_end_matches('/').to_owned();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(300))
            .build()
            .map_err(|source| ClientError::Transport {
                url: base.clone(),
                source,
            })?;
        Ok(Client {
            http,
            base,
            token: token.trim().to_owned(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        url: &str,
    ) -> Result<reqwest::Response, ClientError> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|source| ClientError::Transport {
                url: url.to_owned(),
                source,
            })?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_owned);
        Err(ClientError::Server {
            status,
            kind: text("error").unwrap_or_else(|| "http".to_owned()),
            message: text("message").unwrap_or_else(|| "no error body".to_owned()),
            retry_after,
        })
    }

    async fn json(
        &self,
        request: reqwest::RequestBuilder,
        url: &str,
    ) -> Result<Value, ClientError> {
        self.send(request, url)
            .await?
            .json()
            .await
            .map_err(|source| ClientError::Transport {
                url: url.to_owned(),
                source,
            })
    }

    /// Upload a component with its run spec; returns the submission id.
    pub async fn submit(
        &self,
        file_name: &str,
        component: Vec<u8>,
        spec: &RunSpec,
    ) -> Result<String, ClientError> {
        let url = self.url("/submissions");
        let spec = serde_json::to_string(spec).map_err(|e| ClientError::Protocol {
            url: url.clone(),
            message: format!("serializing the spec: {e}"),
        })?;
        // A server that predates `GET /limits` still refuses an oversized upload itself.
        if let Ok(limits) = self.limits().await {
            let checks = [
                (
                    "the component",
                    component.len(),
                    "component_bytes",
                    "component_bytes",
                ),
                (
                    "the upload",
                    component.len() + spec.len() + MULTIPART_OVERHEAD,
                    "max_upload_bytes",
                    "max_upload_bytes",
                ),
            ];
            for (what, bytes, key, limit_name) in checks {
                if let Some(limit) = limits.get(key).and_then(Value::as_u64)
                    && bytes as u64 > limit
                {
                    return Err(ClientError::TooLarge {
                        what: what.to_owned(),
                        bytes: bytes as u64,
                        limit,
                        limit_name,
                    });
                }
            }
        }
        let form = Form::new()
            .part(
                "spec",
                Part::text(spec)
                    .mime_str("application/json")
                    .map_err(|source| ClientError::Transport {
                        url: url.clone(),
                        source,
                    })?,
            )
            .part(
                "component",
                Part::bytes(component).file_name(file_name.to_owned()),
            );
        let answer = self
            .json(self.http.post(&url).multipart(form), &url)
            .await?;
        answer
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| ClientError::Protocol {
                url,
                message: "no `id` in the answer".to_owned(),
            })
    }

    /// The server's upload limits and quotas (`GET /limits`).
    pub async fn limits(&self) -> Result<Value, ClientError> {
        let url = self.url("/limits");
        self.json(self.http.get(&url), &url).await
    }

    /// The registered suites.
    pub async fn suites(&self) -> Result<Value, ClientError> {
        let url = self.url("/suites");
        self.json(self.http.get(&url), &url).await
    }

    /// A suite's leaderboard.
    pub async fn leaderboard(&self, suite: &str) -> Result<Value, ClientError> {
        let url = self.url(&format!("/suites/{}/leaderboard", path_segment(suite)));
        self.json(self.http.get(&url), &url).await
    }

    /// Register a suite (admin).
    pub async fn create_suite(&self, definition: Vec<u8>) -> Result<Value, ClientError> {
        let url = self.url("/suites");
        let request = self
            .http
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(definition);
        self.json(request, &url).await
    }

    /// A submission as `GET /submissions/{id}` shows it.
    pub async fn status(&self, id: &str) -> Result<Value, ClientError> {
        let url = self.url(&format!("/submissions/{id}"));
        self.json(self.http.get(&url), &url).await
    }

    /// The report in `format` (`text` or `json`), as the server stored it; of the suite run
    /// `run` when given (a suite submission's visible runs each have one).
    pub async fn report(
        &self,
        id: &str,
        format: &str,
        run: Option<&str>,
    ) -> Result<Vec<u8>, ClientError> {
        let mut url = self.url(&format!("/submissions/{id}/report?format={format}"));
        if let Some(run) = run {
            url.push_str(&format!("&run={}", path_segment(run)));
        }
        self.bytes(&url).await
    }

    /// The run's trace.
    pub async fn trace(&self, id: &str) -> Result<Vec<u8>, ClientError> {
        let url = self.url(&format!("/submissions/{id}/trace"));
        self.bytes(&url).await
    }

    async fn bytes(&self, url: &str) -> Result<Vec<u8>, ClientError> {
        let response = self.send(self.http.get(url), url).await?;
        Ok(response
            .bytes()
            .await
            .map_err(|source| ClientError::Transport {
                url: url.to_owned(),
                source,
            })?
            .to_vec())
    }

    /// Cancel a submission.
    pub async fn cancel(&self, id: &str) -> Result<Value, ClientError> {
        let url = self.url(&format!("/submissions/{id}"));
        self.json(self.http.delete(&url), &url).await
    }

    /// Create a token (admin).
    pub async fn create_token(&self, name: &str, admin: bool) -> Result<Value, ClientError> {
        let url = self.url("/tokens");
        let body = serde_json::json!({ "name": name, "admin": admin });
        self.json(self.http.post(&url).json(&body), &url).await
    }
}
