//! The submission service as its users meet it: real `kernbench serve` / `worker` processes,
//! real HTTP, real child runs of real components, on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod faults;
mod pages;
mod suites;
mod support;
