//! The KernBench submission service (ADR-0012): third parties submit bench components over
//! HTTP; workers run each in a sandboxed child process (ADR-0013) and keep the report.
//!
//! Layers: `api` and `pages` (HTTP) -> `submit` -> `db`, `store`, `auth`; `worker` -> `db`,
//! `store`, `sandbox`, `cgroup`, `scoring` -> `suite` (suites and leaderboards, ADR-0014);
//! `server` wires them; `client` is the other end, for `kernbench submit`.
//! Runs go through the host library (`kernbench_host::runtime`), never the CLI.

pub mod api;
pub mod auth;
pub mod cgroup;
pub mod client;
pub mod clock;
pub mod db;
pub mod error;
pub mod pages;
pub mod sandbox;
pub mod scoring;
pub mod server;
pub mod spec;
pub mod state;
pub mod store;
pub mod submit;
pub mod suite;
pub mod worker;

pub use error::ServiceError;
