//! Bench arguments (argv after `kernbench run BENCH --`), read with [`lexopt`] (a small,
//! well-kept getopt-style parser; the bundled benches use this module too): each bench
//! matches the flags it accepts and hands anything else to [`unexpected`], so an unknown flag,
//! a stray word, a missing or unparsable value is an `InvalidArgument` error naming the
//! argument, and `main` returns it. Values follow getopt: `-b 8`, `-b8`, `--minbytes 8`,
//! `--minbytes=8`; a flag given twice keeps its last value.
//!
//! ```no_run
//! use kernbench::args::{self, Args, Long, Short};
//!
//! fn main() -> Result<(), kernbench::Error> {
//!     let (mut steps, mut meta) = (2u32, false);
//!     let mut args = Args::from_env();
//!     while let Some(arg) = args.next_arg()? {
//!         match arg {
//!             Short('n') | Long("steps") => steps = args.value()?,
//!             Long("meta") => meta = true,
//!             other => return Err(args::unexpected(other)),
//!         }
//!     }
//!     args::at_least("--steps", steps, 1)?;
//!     println!("{steps} steps, meta {meta}");
//!     Ok(())
//! }
//! ```

use crate::{Error, ErrorKind};
use std::fmt::Display;
use std::str::FromStr;

pub use lexopt::Arg::{Long, Short};

/// The bench's arguments, one flag at a time.
#[derive(Debug)]
pub struct Args {
    parser: lexopt::Parser,
    /// The flag [`Args::next_arg`] returned last, as the user typed it (`-b`, `--minbytes`).
    flag: String,
}

impl Args {
    /// The arguments the bench was started with.
    pub fn from_env() -> Args {
        Args {
            parser: lexopt::Parser::from_env(),
            flag: String::new(),
        }
    }

    /// The next flag; an `InvalidArgument` error for a malformed argument.
    pub fn next_arg(&mut self) -> Result<Option<lexopt::Arg<'_>>, Error> {
        let arg = self.parser.next().map_err(invalid)?;
        self.flag = match &arg {
            Some(Short(c)) => format!("-{c}"),
            Some(Long(name)) => format!("--{name}"),
            _ => String::new(),
        };
        Ok(arg)
    }

    /// The value of the flag just returned by [`Args::next_arg`], parsed.
    pub fn value<T: FromStr>(&mut self) -> Result<T, Error>
    where
        T::Err: Display,
    {
        let raw = self.raw_value()?;
        raw.parse()
            .map_err(|e| usage(format!("{} {raw}: {e}", self.flag)))
    }

    /// The value of the flag just returned, as a byte size: `8`, `64K`, `16M`, `1G` (binary
    /// units, as nccl-tests reads them).
    pub fn bytes(&mut self) -> Result<u64, Error> {
        let raw = self.raw_value()?;
        let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
        let (digits, unit) = raw.split_at(split);
        let shift = match unit.to_ascii_uppercase().as_str() {
            "" | "B" => 0,
            "K" | "KB" | "KIB" => 10,
            "M" | "MB" | "MIB" => 20,
            "G" | "GB" | "GIB" => 30,
            _ => {
                return Err(usage(format!(
                    "{} {raw}: unknown unit (use K, M or G)",
                    self.flag
                )));
            }
        };
        digits
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(1 << shift))
            .ok_or_else(|| usage(format!("{} {raw}: not a valid size", self.flag)))
    }

    /// Fails unless every argument has been read: for benches that take none.
    pub fn none() -> Result<(), Error> {
        let mut args = Args::from_env();
        match args.next_arg()? {
            Some(arg) => Err(unexpected(arg)),
            None => Ok(()),
        }
    }

    fn raw_value(&mut self) -> Result<String, Error> {
        let value = self.parser.value().map_err(invalid)?;
        value
            .into_string()
            .map_err(|v| usage(format!("{} {v:?}: not valid UTF-8", self.flag)))
    }
}

/// The error for an argument the bench does not accept.
pub fn unexpected(arg: lexopt::Arg<'_>) -> Error {
    invalid(arg.unexpected())
}

/// `Ok` if `value >= min`, else an error naming `flag`.
pub fn at_least<T: PartialOrd + Display>(flag: &str, value: T, min: T) -> Result<(), Error> {
    if value >= min {
        Ok(())
    } else {
        Err(usage(format!("{flag} {value}: must be at least {min}")))
    }
}

/// An `InvalidArgument` error with `message`.
pub fn usage(message: String) -> Error {
    Error::new(ErrorKind::InvalidArgument, message)
}

fn invalid(e: lexopt::Error) -> Error {
    usage(e.to_string())
}
