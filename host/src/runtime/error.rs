//! The three ways a host import can fail, kept apart on purpose (STYLE #7):
//! - [`HostError::Guest`]: the bench asked for something impossible; it gets a WIT `error`
//!   value and may handle it.
//! - [`Abort`]: the run cannot go on (mismatched collectives, deadlock, a sandbox limit); the
//!   rank traps with a named failure and the run ends.
//! - any other `wasmtime::Error`: a trap raised by wasmtime itself (bad handle, out of fuel).

use crate::model::{FailureKind, RankFailure};
use crate::sim::SimError;
use thiserror::Error;

/// `wasmtime::Error` is not a `std::error::Error`, so anyhow's `.context` does not apply to
/// wasmtime results directly; this converts first.
pub trait IntoAnyhow<T> {
    /// The same result with an `anyhow::Error`.
    fn into_anyhow(self) -> anyhow::Result<T>;
}

impl<T> IntoAnyhow<T> for wasmtime::Result<T> {
    fn into_anyhow(self) -> anyhow::Result<T> {
        self.map_err(anyhow::Error::from)
    }
}

/// Error type of every fallible host import (`trappable_error_type` in the bindings).
#[derive(Debug)]
pub enum HostError {
    /// Returned to the guest as the WIT `error` variant.
    Guest(SimError),
    /// Ends the rank with a trap.
    Trap(wasmtime::Error),
}

impl From<SimError> for HostError {
    fn from(err: SimError) -> Self {
        HostError::Guest(err)
    }
}

impl From<Abort> for HostError {
    fn from(abort: Abort) -> Self {
        HostError::Trap(wasmtime::Error::new(abort))
    }
}

impl From<wasmtime::Error> for HostError {
    fn from(err: wasmtime::Error) -> Self {
        HostError::Trap(err)
    }
}

/// Host imports return this when the run must end; it travels inside the trap and is
/// recovered by [`RankFailure::from_trap`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct Abort {
    /// The named failure.
    pub kind: FailureKind,
    /// What happened, naming ranks and calls.
    pub message: String,
}

impl Abort {
    /// An abort of `kind` with `message`.
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Abort {
            kind,
            message: message.into(),
        }
    }
}

/// Classify the error a rank's `run` ended with. `stderr` is the rank's captured error
/// output, searched for a Rust panic message. `Ok(())` for `exit(0)`.
pub fn classify_trap(err: &wasmtime::Error, stderr: &str) -> Result<(), RankFailure> {
    if let Some(abort) = err.downcast_ref::<Abort>() {
        return Err(RankFailure::new(abort.kind, abort.message.clone()));
    }
    if let Some(exit) = err.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return match exit.0 {
            0 => Ok(()),
            code => Err(RankFailure::new(
                FailureKind::ExitStatus,
                exit_message(code, stderr),
            )),
        };
    }
    if let Some(trap) = err.downcast_ref::<wasmtime::Trap>() {
        let (kind, what) = match trap {
            wasmtime::Trap::OutOfFuel => (
                FailureKind::FuelExhausted,
                "the rank's fuel (instruction budget) ran out".to_owned(),
            ),
            wasmtime::Trap::Interrupt => (FailureKind::DeadlineExceeded, "interrupted".to_owned()),
            other => (FailureKind::Trap, format!("wasm trap: {other}")),
        };
        let message = match panic_message(stderr) {
            Some(panic) => format!("{what}: {panic}"),
            None => what,
        };
        return Err(RankFailure::new(kind, message));
    }
    Err(RankFailure::new(FailureKind::Trap, format!("{err:#}")))
}

/// `main` returned `Err`: Rust printed `Error: <Debug>` on stderr, which is quoted. An
/// SDK error keeps its name (`out of memory: ...` is `hbm-out-of-memory`).
pub fn main_returned_error(stderr: &str) -> RankFailure {
    let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
    match last.map(|l| l.trim().trim_start_matches("Error: ")) {
        Some(error) => RankFailure::new(
            guest_error_kind(error),
            format!("main returned an error: {error}"),
        ),
        None => RankFailure::new(FailureKind::ExitStatus, "main returned an error"),
    }
}

/// The named failure for an SDK error message (`kernbench::Error` prints `<label>: <message>`).
fn guest_error_kind(error: &str) -> FailureKind {
    const LABELS: [(&str, FailureKind); 6] = [
        ("out of memory: ", FailureKind::HbmOutOfMemory),
        ("limit exceeded: ", FailureKind::LimitExceeded),
        ("invalid argument: ", FailureKind::InvalidArgument),
        ("invalid device: ", FailureKind::InvalidDevice),
        ("not initialized: ", FailureKind::NotInitialized),
        ("unsupported: ", FailureKind::Unsupported),
    ];
    LABELS
        .iter()
        .find(|(label, _)| error.starts_with(label))
        .map_or(FailureKind::ExitStatus, |(_, kind)| *kind)
}

fn exit_message(code: i32, stderr: &str) -> String {
    // `fn main() -> Result<..>` prints `Error: ...` before exiting with 1: quote it.
    let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
    match (panic_message(stderr), last) {
        (Some(panic), _) => format!("exited with status {code}: {panic}"),
        (None, Some(line)) => format!("exited with status {code}: {}", line.trim()),
        (None, None) => format!("exited with status {code}"),
    }
}

/// The last Rust panic message in `stderr`: `panicked at src/main.rs:3:5: boom`.
pub fn panic_message(stderr: &str) -> Option<String> {
    let start = stderr.rfind("panicked at ")?;
    let text = &stderr[start..];
    let end = text.find("\nnote: ").unwrap_or(text.len());
    let joined: Vec<&str> = text[..end]
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    Some(joined.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_message_joins_location_and_text() {
        let stderr = "noise\nthread 'main' panicked at src/bin/x.rs:3:5:\nboom\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(
            panic_message(stderr).as_deref(),
            Some("panicked at src/bin/x.rs:3:5: boom")
        );
        assert_eq!(panic_message("nothing here"), None);
    }

    #[test]
    fn abort_survives_the_trip_through_a_wasmtime_error() {
        let err = wasmtime::Error::new(Abort::new(FailureKind::Deadlock, "rank 1 waits"));
        let got = classify_trap(&err, "");
        assert_eq!(
            got,
            Err(RankFailure::new(FailureKind::Deadlock, "rank 1 waits"))
        );
    }

    #[test]
    fn exit_zero_is_success_and_nonzero_quotes_stderr() {
        let ok = wasmtime::Error::new(wasmtime_wasi::I32Exit(0));
        assert_eq!(classify_trap(&ok, ""), Ok(()));
        let bad = wasmtime::Error::new(wasmtime_wasi::I32Exit(1));
        let got = classify_trap(&bad, "Error: InvalidDevice(\"device 9\")\n");
        assert_eq!(
            got,
            Err(RankFailure::new(
                FailureKind::ExitStatus,
                "exited with status 1: Error: InvalidDevice(\"device 9\")"
            ))
        );
    }
}
