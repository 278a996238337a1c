//! The three ways a host import can fail, kept apart on purpose (STYLE #7):
//! - [`HostError::Guest`]: the bench asked for something impossible; it gets a WIT `error`
//!   value and may handle it.
//! - [`Abort`]: the run cannot go on (mismatched collectives, deadlock, a sandbox limit); the
//!   rank traps with a named failure and the run ends.
//! - any other `wasmtime::Error`: a trap raised by wasmtime itself (bad handle, out of fuel).

use crate::model::text::quote;
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

/// Most bytes of a rank's stderr quoted in its failure message (the report shows it all).
pub const QUOTED_STDERR_BYTES: usize = 300;

/// The end of a rank's stderr, quoted as the guest's words: on one line, escaped, at most
/// [`QUOTED_STDERR_BYTES`]. Never read for meaning: a failure's kind comes from what the host
/// saw, not from what the guest printed.
pub fn stderr_tail(stderr: &str) -> Option<String> {
    let text = stderr.trim_end();
    if text.is_empty() {
        return None;
    }
    let mut start = text.len().saturating_sub(QUOTED_STDERR_BYTES);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let cut = if start > 0 { "..." } else { "" };
    Some(format!("{cut}{}", quote(&text[start..])))
}

/// `message`, then the quoted end of the rank's stderr when there is one.
fn with_stderr(message: String, stderr: &str) -> String {
    match stderr_tail(stderr) {
        Some(tail) => format!("{message}; its stderr ends with {tail}"),
        None => message,
    }
}

/// Classify the error a rank's `run` ended with, from what wasmtime and the host saw (the
/// trap code, an abort the host raised, an exit status). `stderr` is only quoted, as the
/// guest's output. `Ok(())` for `exit(0)`.
pub fn classify_trap(err: &wasmtime::Error, stderr: &str) -> Result<(), RankFailure> {
    if let Some(abort) = err.downcast_ref::<Abort>() {
        return Err(RankFailure::new(abort.kind, abort.message.clone()));
    }
    if let Some(exit) = err.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return match exit.0 {
            0 => Ok(()),
            code => Err(RankFailure::new(
                FailureKind::ExitStatus,
                with_stderr(format!("exited with status {code}"), stderr),
            )),
        };
    }
    let details = Some(format!("{err:?}"));
    if let Some(trap) = err.downcast_ref::<wasmtime::Trap>() {
        let failure = match trap {
            // Limits the host enforces: the guest's own words have no place in their message.
            wasmtime::Trap::OutOfFuel => RankFailure::new(
                FailureKind::FuelExhausted,
                "the rank's fuel (instruction budget) ran out",
            ),
            wasmtime::Trap::Interrupt => {
                RankFailure::new(FailureKind::DeadlineExceeded, "interrupted")
            }
            // A Rust panic aborts through `unreachable`; what it printed is on stderr.
            other => RankFailure::new(FailureKind::Trap, with_stderr(other.to_string(), stderr)),
        };
        return Err(RankFailure { details, ..failure });
    }
    // Any other error (a bad resource handle ...): its root cause on one line; the whole
    // chain with the wasm backtrace goes to the rank's details.
    let cause = err.root_cause().to_string();
    let line = cause.lines().next().unwrap_or_default().to_owned();
    Err(RankFailure {
        details,
        ..RankFailure::new(FailureKind::Trap, line)
    })
}

/// `main` returned `Err`. The failure is named after the last error the host returned to
/// this rank (`last`), which is what `main` gave up on when it propagated an SDK error with
/// `?`; with none, it is `exit-status`. What `main` printed is quoted, never parsed.
pub fn main_returned_error(last: Option<&RankFailure>, stderr: &str) -> RankFailure {
    match last {
        Some(last) => RankFailure::new(
            last.kind,
            with_stderr(
                format!(
                    "main returned an error; the last error the host returned to this rank was {}: {}",
                    last.kind, last.message
                ),
                stderr,
            ),
        ),
        None => RankFailure::new(
            FailureKind::ExitStatus,
            with_stderr(
                "main returned an error (the host had returned none to this rank)".to_owned(),
                stderr,
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_is_quoted_on_one_line_escaped_and_bounded() {
        assert_eq!(stderr_tail("  \n"), None);
        assert_eq!(
            stderr_tail("boom\n\x1b[31mred\n").as_deref(),
            Some("\"boom\\n\\x1b[31mred\"")
        );
        let long = "é".repeat(400);
        let tail = stderr_tail(&long).unwrap();
        assert!(
            tail.starts_with("...\"é") && tail.len() <= QUOTED_STDERR_BYTES + 8,
            "{tail}"
        );
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
                "exited with status 1; its stderr ends with \"Error: InvalidDevice(\\\"device 9\\\")\""
            ))
        );
    }

    #[test]
    fn what_main_printed_never_names_the_failure() {
        // A guest that prints an SDK-looking error it never got stays `exit-status`.
        let fake = "Error: limit exceeded: made up";
        let got = main_returned_error(None, fake);
        assert_eq!(got.kind, FailureKind::ExitStatus);
        // The kind comes from the last error the host returned, whatever was printed.
        let last = RankFailure::new(FailureKind::InvalidArgument, "bad shape");
        let got = main_returned_error(Some(&last), "partial line without newline");
        assert_eq!(got.kind, FailureKind::InvalidArgument);
        assert!(
            got.message.contains("invalid-argument: bad shape"),
            "{}",
            got.message
        );
    }
}
