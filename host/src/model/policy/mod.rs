//! Sandbox policies: every limit a run enforces, in one strict, named profile.
//!
//! Two built-in profiles: `strict` for third-party components (the default for anything not
//! built from this repository) and `trusted` for the bundled benches. A policy file names a
//! profile, picks one to extend, and overrides fields; `--limit key=value` overrides a field
//! on the command line. Unknown fields are errors, so a misspelled limit is never ignored.
//!
//! The limits are declared once, in the `limits!` list of `limits.rs`: the struct, the
//! `--limit` keys, the policy-file fields and their JSON schema (`docs/policy.schema.json`)
//! all come from there. How one value is read is `value.rs`; this module names a policy and
//! loads policy files.

mod limits;
#[cfg(test)]
mod tests;
mod value;

pub use limits::{LIMIT_NAMES, Limits};
pub use value::parse_size;

use limits::LimitsPatch;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;
use thiserror::Error;

/// A named policy: the profile it came from and its limits. It reads back what it writes
/// (a worker hands the policy of a run to its child process this way).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Profile name, shown in reports.
    pub name: String,
    /// The limits.
    pub limits: Limits,
}

impl Policy {
    /// The `strict` profile, for third-party components.
    pub fn strict() -> Policy {
        Policy {
            name: "strict".to_owned(),
            limits: Limits::strict(),
        }
    }

    /// The `trusted` profile, for benches built from this repository.
    pub fn trusted() -> Policy {
        Policy {
            name: "trusted".to_owned(),
            limits: Limits::trusted(),
        }
    }

    /// The profile a component gets when none is named: `trusted` for components built in
    /// this checkout's target directory (the bundled benches), `strict` for every other one
    /// (third-party submissions, test guests).
    pub fn default_for(component: &Path) -> Policy {
        if crate::checkout::built_here(component) {
            Policy::trusted()
        } else {
            Policy::strict()
        }
    }

    /// A built-in profile by name.
    pub fn builtin(name: &str) -> Option<Policy> {
        match name {
            "strict" => Some(Policy::strict()),
            "trusted" => Some(Policy::trusted()),
            _ => None,
        }
    }

    /// A built-in profile name or a policy file path.
    pub fn load(spec: &str) -> Result<Policy, PolicyError> {
        if let Some(p) = Policy::builtin(spec) {
            return Ok(p);
        }
        let path = Path::new(spec);
        if !path.is_file() {
            return Err(PolicyError::Unknown(spec.to_owned()));
        }
        let text =
            crate::sim::config_file::read_config(path).map_err(|source| PolicyError::Read {
                path: spec.to_owned(),
                source,
            })?;
        Policy::from_json(&text, spec)
    }

    /// Parse a policy file: `{"name": "...", "extends": "strict", "limits": {...}}`.
    pub fn from_json(text: &str, origin: &str) -> Result<Policy, PolicyError> {
        let file: PolicyFile = serde_json::from_str(text).map_err(|source| PolicyError::Parse {
            origin: origin.to_owned(),
            source,
        })?;
        let mut limits = match file.extends.unwrap_or(Profile::Strict) {
            Profile::Strict => Limits::strict(),
            Profile::Trusted => Limits::trusted(),
        };
        file.limits.apply(&mut limits);
        Ok(Policy {
            name: file.name,
            limits,
        })
    }
}

/// A policy file (`docs/policy.schema.json` is its schema).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "KernBench policy")]
struct PolicyFile {
    /// Profile name, shown in reports.
    name: String,
    /// The built-in profile this one changes (default `strict`).
    #[serde(default)]
    extends: Option<Profile>,
    /// The limits this profile changes.
    #[serde(default)]
    limits: LimitsPatch,
}

/// A built-in profile a policy file can extend.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Profile {
    /// For third-party components.
    Strict,
    /// For benches built from this repository.
    Trusted,
}

/// Why a policy was refused.
#[derive(Debug, Error)]
pub enum PolicyError {
    /// Neither a built-in profile nor a file.
    #[error("unknown policy {0:?}: use strict, trusted, or a policy file path")]
    Unknown(String),
    /// The file could not be read.
    #[error("cannot read policy {path}: {source}")]
    Read {
        /// The path.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Not JSON of the policy's shape.
    #[error("policy {origin}: {source}")]
    Parse {
        /// The path.
        origin: String,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
    /// A limit name that does not exist.
    #[error("unknown limit {key:?}; limits are: {known}")]
    UnknownLimit {
        /// The name given.
        key: String,
        /// The valid names.
        known: String,
    },
    /// A limit value that does not parse.
    #[error("limit {key}={value}: {why}")]
    Value {
        /// The limit.
        key: String,
        /// The value given.
        value: String,
        /// What is wrong.
        why: String,
    },
}
