//! `verify-adr-lang-pairs`: CI's gate for the bilingual ADR discipline, and the
//! `promote` helper that turns a draft into an accepted pair.
//!
//! Exit status: 0 clean, 1 findings, 2 usage or I/O error.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use verify_adr_lang_pairs::filename::{AdrId, is_valid_slug};
use verify_adr_lang_pairs::{Error, PromoteOptions, Report, check, promote, report};

const LONG_ABOUT: &str = "\
Checks that every English ADR in docs/adr/ has a Korean mirror of the same name in \
docs/adr-ko/ (and vice versa), that the ADR numbers agree, and that the `## Status` \
text is byte-identical. docs/adr-proposed/ and docs/adr-history/ are not checked.

Without a subcommand it runs `check`, which is what CI calls.

Exit status: 0 clean, 1 problems found, 2 usage or I/O error.";

#[derive(Debug, Parser)]
#[command(
    name = "verify-adr-lang-pairs",
    version,
    about = "Verify that English ADRs and their Korean mirrors agree",
    long_about = LONG_ABOUT,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    /// Options of the default `check` mode, for the bare invocation CI uses.
    #[command(flatten)]
    check: CheckArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check the EN/KO ADR pairs (the default without a subcommand).
    Check(CheckArgs),
    /// Promote a draft from docs/adr-proposed/ to an accepted EN/KO pair, then check.
    ///
    /// Assigns the next free ADR number (one more than any number used in docs/adr,
    /// docs/adr-ko or docs/adr-history), writes docs/adr/NNNN-SLUG.md and
    /// docs/adr-ko/NNNN-SLUG.md with the heading number set to it (the texts may say
    /// `# ADR-XXXX: Title`), removes the draft, and runs the check. It never
    /// overwrites; a refused promotion changes nothing. Paths are relative to the
    /// current directory.
    Promote(PromoteArgs),
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// Repository root; ADRs are read from DIR/docs/adr and DIR/docs/adr-ko.
    #[arg(long, value_name = "DIR", default_value = ".")]
    root: PathBuf,
    /// Print `{"pairs_checked": N, "findings": [{"code", "paths", "message"}]}`.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct PromoteArgs {
    /// Repository root.
    #[arg(long, value_name = "DIR", default_value = ".")]
    root: PathBuf,
    /// The draft to retire, a file inside DIR/docs/adr-proposed/; removed on success.
    #[arg(long, value_name = "FILE")]
    draft: PathBuf,
    /// The English text [default: the draft itself, when it was written in English].
    #[arg(long, value_name = "FILE")]
    en: Option<PathBuf>,
    /// The Korean translation (keeping `## Status` and its English text).
    #[arg(long, value_name = "FILE")]
    ko: PathBuf,
    /// File name slug: lowercase letters and digits, separated by `-` or `_`.
    #[arg(long, value_parser = parse_slug)]
    slug: String,
    /// Use this ADR number instead of the next free one; refused if already used.
    #[arg(long, value_name = "NNNN", value_parser = parse_id)]
    id: Option<AdrId>,
    /// Print the result and the check report as one JSON document.
    #[arg(long)]
    json: bool,
}

fn parse_slug(s: &str) -> Result<String, String> {
    if is_valid_slug(s) {
        Ok(s.to_owned())
    } else {
        Err("use lowercase letters and digits, separated by `-` or `_`".to_owned())
    }
}

fn parse_id(s: &str) -> Result<AdrId, String> {
    match s.parse::<u16>() {
        Ok(n) if (1..=AdrId::MAX).contains(&n) && s.len() <= 4 => Ok(AdrId(n)),
        _ => Err("expected a number from 1 to 9999, e.g. 0007".to_owned()),
    }
}

/// What `run` produced: the text to print and the exit status it implies.
#[derive(Debug)]
struct Outcome {
    stdout: String,
    status: u8,
}

fn status_of(report: &Report) -> u8 {
    if report.is_clean() { 0 } else { 1 }
}

fn run(cli: Cli) -> Result<Outcome, Error> {
    match cli.command {
        None => run_check(&cli.check),
        Some(Command::Check(args)) => run_check(&args),
        Some(Command::Promote(args)) => {
            let promoted = promote(&PromoteOptions {
                root: args.root.clone(),
                draft: args.draft,
                en: args.en,
                ko: args.ko,
                slug: args.slug,
                id: args.id,
            })?;
            let result = check(&args.root)?;
            let stdout = if args.json {
                report::promoted_json(&promoted, &result)?
            } else {
                report::promoted_human(&promoted) + &report::human(&result)
            };
            Ok(Outcome {
                stdout,
                status: status_of(&result),
            })
        }
    }
}

fn run_check(args: &CheckArgs) -> Result<Outcome, Error> {
    let result = check(&args.root)?;
    let stdout = if args.json {
        report::json(&result)?
    } else {
        report::human(&result)
    };
    Ok(Outcome {
        stdout,
        status: status_of(&result),
    })
}

// The tool's errors go to stderr so stdout stays a clean report (and valid JSON).
#[allow(clippy::print_stderr)]
fn main() -> ExitCode {
    // clap prints usage errors itself and exits with status 2.
    let cli = Cli::parse();
    match run(cli) {
        Ok(outcome) => {
            let mut stdout = io::stdout().lock();
            if let Err(e) = stdout
                .write_all(outcome.stdout.as_bytes())
                .and_then(|()| stdout.flush())
            {
                eprintln!("error: cannot write the report: {e}");
                return ExitCode::from(2);
            }
            ExitCode::from(outcome.status)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
