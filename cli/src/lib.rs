//! The `kernbench` command line: one file per subcommand, this file parses and dispatches.

mod bench_source;
mod build;
mod demo;
mod job;
mod progress;
mod run;
mod service;
mod submit;
mod topology;
mod validate;

use clap::{ArgAction, Parser, Subcommand};
use std::process::ExitCode;

/// Run WebAssembly benches on a simulated multi-SIP accelerator, one instance per rank.
#[derive(Debug, Parser)]
#[command(
    name = "kernbench",
    version,
    about,
    long_about = None,
    after_help = "Exit status: 0 the run succeeded; 1 the run failed (a rank trapped, deadlocked, \
mismatched a collective, hit a limit ...); 2 the command could not run (bad flag, config, \
unreadable file); 3 the component was refused at load."
)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace); RUST_LOG wins if set.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a bench component (a .wasm file or a bundled bench name) on N ranks.
    Run(Box<run::RunArgs>),
    /// Compile a bench crate (or a bundled bench by name) to a component and print its path.
    Build(build::BuildArgs),
    /// Build the bundled benches and run them on the embedded default topology.
    Demo(demo::DemoArgs),
    /// Print the embedded default topology as JSON (a starting point for --topology).
    Topology(topology::TopologyArgs),
    /// Run the load-time checks on a component and print its world, imports and SDK version.
    Validate(validate::ValidateArgs),
    /// Serve the submission service: API, web pages and in-process workers.
    Serve(Box<service::ServeArgs>),
    /// Run submission jobs from a shared (PostgreSQL) database.
    Worker(Box<service::WorkerArgs>),
    /// Create, revoke or list submitter tokens.
    #[command(subcommand)]
    Token(service::TokenCommand),
    /// Register or list suites (the service's leaderboards).
    #[command(subcommand)]
    Suite(service::SuiteCommand),
    /// Print a suite's leaderboard from a service.
    Leaderboard(submit::LeaderboardArgs),
    /// Submit a bench component to a service, wait, and print its report as `run` would.
    Submit(Box<submit::SubmitArgs>),
    /// Print where a submission is.
    Status(submit::StatusArgs),
    /// Print a finished submission's report (and optionally its trace).
    Report(submit::ReportArgs),
    /// Run one job in a worker's child process (started by workers, not by hand).
    #[command(hide = true)]
    RunJob(job::JobArgs),
}

/// Exit statuses: the run's outcome is distinguishable from bad input.
pub mod exit {
    /// Everything succeeded.
    pub const OK: u8 = 0;
    /// The bench ran and failed (a rank trapped, deadlocked, exceeded a limit ...).
    pub const RUN_FAILED: u8 = 1;
    /// The command could not run: bad arguments, config, or an unreadable file.
    pub const USAGE: u8 = 2;
    /// The component was refused at load (invalid component, denied import, WIT version).
    pub const REFUSED: u8 = 3;
}

/// Parse the command line, run it, and turn errors into a message and an exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let result = match cli.command {
        Command::Run(args) => run::run(*args),
        Command::Build(args) => build::build(args),
        Command::Demo(args) => demo::demo(args),
        Command::Topology(args) => topology::topology(args),
        Command::Validate(args) => validate::validate(args),
        Command::Serve(args) => service::serve(*args),
        Command::Worker(args) => service::worker(*args),
        Command::Token(command) => service::token(command),
        Command::Suite(command) => service::suite(command),
        Command::Leaderboard(args) => submit::leaderboard(args),
        Command::Submit(args) => submit::submit(*args),
        Command::Status(args) => submit::status(args),
        Command::Report(args) => submit::report(args),
        Command::RunJob(args) => job::run_job(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            report_error(&err);
            ExitCode::from(exit::USAGE)
        }
    }
}

/// The whole error chain, one cause per line.
#[allow(clippy::print_stderr)] // The CLI's last resort: the error goes to the user, on stderr.
fn report_error(err: &anyhow::Error) {
    for line in error_lines(err) {
        eprintln!("{line}");
    }
}

/// The error chain as printed: the error, then each cause that adds something. Errors that
/// already include their source's text (`topology t.json: expected ...`) do not print it
/// twice.
fn error_lines(err: &anyhow::Error) -> Vec<String> {
    let mut lines = vec![format!("error: {err}")];
    let mut shown = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !shown.contains(&text) {
            lines.push(format!("  caused by: {text}"));
        }
        shown = text;
    }
    lines
}

fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("topology t.json: {0}")]
    struct Wraps(#[source] std::io::Error);

    #[test]
    fn a_cause_already_in_its_error_is_not_printed_twice() {
        let inner = std::io::Error::other("expected `,` at line 3 column 5");
        let err = anyhow::Error::new(Wraps(inner)).context("loading the run");
        assert_eq!(
            error_lines(&err),
            [
                "error: loading the run",
                "  caused by: topology t.json: expected `,` at line 3 column 5",
            ]
        );
    }
}
