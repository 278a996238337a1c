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
    /// The answer was not what the API documents.
    #[error("unexpected answer from {url}: {message}")]
    Protocol {
        /// The request's URL.
        url: String,
        /// What was wrong.
        message: String,
    },
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

    /// A submission as `GET /submissions/{id}` shows it.
    pub async fn status(&self, id: &str) -> Result<Value, ClientError> {
        let url = self.url(&format!("/submissions/{id}"));
        self.json(self.http.get(&url), &url).await
    }

    /// The report in `format` (`text` or `json`), as the server stored it.
    pub async fn report(&self, id: &str, format: &str) -> Result<Vec<u8>, ClientError> {
        let url = self.url(&format!("/submissions/{id}/report?format={format}"));
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
