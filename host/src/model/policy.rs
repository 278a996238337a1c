//! Sandbox policies: every limit a run enforces, in one strict, named profile.
//!
//! Two built-in profiles: `strict` for third-party components (the default for anything not
//! built from this repository) and `trusted` for the bundled benches. A policy file names a
//! profile, picks one to extend, and overrides fields; `--limit key=value` overrides a field
//! on the command line. Unknown fields are errors, so a misspelled limit is never ignored.

use serde::{Deserialize, Serialize};
use std::path::Path;
use thiserror::Error;

/// Every limit of a run. Sizes are bytes; `None` means unlimited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Linear memory of one rank's instance.
    pub memory_bytes_per_rank: u64,
    /// Elements of any one wasm table.
    pub table_elements_per_rank: u64,
    /// Core instances one rank's component may create.
    pub instances_per_rank: u32,
    /// Instructions (wasm fuel) each rank may execute.
    pub fuel_per_rank: Option<u64>,
    /// Wall-clock time for the whole run, in milliseconds.
    pub deadline_ms: Option<u64>,
    /// Simulated HBM one rank's live tensors may occupy (over all cubes).
    pub hbm_bytes_per_rank: Option<u64>,
    /// Live tensors per rank.
    pub tensors_per_rank: u64,
    /// Entries in a rank's resource table (tensor handles, WASI streams ...).
    pub resource_table_entries: u64,
    /// Captured bytes of stdout and of stderr per rank (the rest is dropped and marked).
    pub output_bytes_per_stream: u64,
    /// Largest byte buffer one call may move across the WIT boundary.
    pub buffer_bytes: u64,
    /// Largest world (number of ranks).
    pub max_world_size: u32,
    /// Real tensor data (host memory) over all ranks of a run.
    pub data_bytes_per_run: u64,
    /// Largest component file accepted.
    pub component_bytes: u64,
}

impl Limits {
    /// For untrusted components: small, bounded in time and space.
    pub fn strict() -> Self {
        Limits {
            memory_bytes_per_rank: 64 << 20,
            table_elements_per_rank: 10_000,
            instances_per_rank: 8,
            fuel_per_rank: Some(10_000_000_000),
            deadline_ms: Some(60_000),
            hbm_bytes_per_rank: Some(64 << 30),
            tensors_per_rank: 4096,
            resource_table_entries: 8192,
            output_bytes_per_stream: 64 << 10,
            buffer_bytes: 16 << 20,
            max_world_size: 1024,
            data_bytes_per_run: 1 << 30,
            component_bytes: 64 << 20,
        }
    }

    /// For benches built from this repository: generous, but still bounded.
    pub fn trusted() -> Self {
        Limits {
            memory_bytes_per_rank: 256 << 20,
            table_elements_per_rank: 1 << 16,
            instances_per_rank: 16,
            fuel_per_rank: None,
            deadline_ms: None,
            hbm_bytes_per_rank: None,
            tensors_per_rank: 1 << 16,
            resource_table_entries: 1 << 20,
            output_bytes_per_stream: 1 << 20,
            buffer_bytes: 64 << 20,
            max_world_size: 16384,
            data_bytes_per_run: 4 << 30,
            component_bytes: 256 << 20,
        }
    }

    /// Set one field by its name, parsing sizes like `64M` (`--limit key=value`).
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), PolicyError> {
        let bad = |why: &str| PolicyError::Value {
            key: key.to_owned(),
            value: value.to_owned(),
            why: why.to_owned(),
        };
        let unlimited = matches!(value, "none" | "unlimited");
        let number = || {
            if unlimited {
                return Err(bad(
                    "this limit cannot be lifted (only optional limits take none); give a number",
                ));
            }
            parse_size(value).ok_or_else(|| bad("expected a number, optionally with K, M, G or T"))
        };
        let optional = || {
            if unlimited {
                Ok(None)
            } else {
                number().map(Some)
            }
        };
        let small = |n: u64| u32::try_from(n).map_err(|_| bad("too large"));
        match key {
            "memory_bytes_per_rank" => self.memory_bytes_per_rank = number()?,
            "table_elements_per_rank" => self.table_elements_per_rank = number()?,
            "instances_per_rank" => self.instances_per_rank = small(number()?)?,
            "fuel_per_rank" => self.fuel_per_rank = optional()?,
            "deadline_ms" => self.deadline_ms = optional()?,
            "hbm_bytes_per_rank" => self.hbm_bytes_per_rank = optional()?,
            "tensors_per_rank" => self.tensors_per_rank = number()?,
            "resource_table_entries" => self.resource_table_entries = number()?,
            "output_bytes_per_stream" => self.output_bytes_per_stream = number()?,
            "buffer_bytes" => self.buffer_bytes = number()?,
            "max_world_size" => self.max_world_size = small(number()?)?,
            "data_bytes_per_run" => self.data_bytes_per_run = number()?,
            "component_bytes" => self.component_bytes = number()?,
            _ => {
                return Err(PolicyError::UnknownLimit {
                    key: key.to_owned(),
                    known: LIMIT_NAMES.join(", "),
                });
            }
        }
        Ok(())
    }
}

/// The field names of [`Limits`], for messages and docs.
pub const LIMIT_NAMES: &[&str] = &[
    "memory_bytes_per_rank",
    "table_elements_per_rank",
    "instances_per_rank",
    "fuel_per_rank",
    "deadline_ms",
    "hbm_bytes_per_rank",
    "tensors_per_rank",
    "resource_table_entries",
    "output_bytes_per_stream",
    "buffer_bytes",
    "max_world_size",
    "data_bytes_per_run",
    "component_bytes",
];

/// `64M`, `1G`, `4096`, `10_000` (binary units).
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.replace('_', "");
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" => 0,
        "K" | "KIB" => 10,
        "M" | "MIB" => 20,
        "G" | "GIB" => 30,
        "T" | "TIB" => 40,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(1u64 << shift)
}

/// A named policy: the profile it came from and its limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
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
        let base = file.extends.as_deref().unwrap_or("strict");
        let mut limits = Policy::builtin(base)
            .ok_or_else(|| PolicyError::Unknown(base.to_owned()))?
            .limits;
        for (key, value) in &file.limits {
            let text = match value {
                serde_json::Value::Null => "unlimited".to_owned(),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            limits.set(key, &text)?;
        }
        Ok(Policy {
            name: file.name,
            limits,
        })
    }
}

/// The policy file's shape; `limits` keys are checked by [`Limits::set`], so an unknown or
/// misspelled limit is an error listing the valid names. `null` means unlimited.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    name: String,
    #[serde(default)]
    extends: Option<String>,
    #[serde(default)]
    limits: serde_json::Map<String, serde_json::Value>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_units() {
        assert_eq!(parse_size("64M"), Some(64 << 20));
        assert_eq!(parse_size("10_000"), Some(10_000));
        assert_eq!(parse_size("1T"), Some(1 << 40));
        assert_eq!(parse_size("12Q"), None);
        assert_eq!(parse_size("99999999999999T"), None);
    }

    #[test]
    fn limit_flags_set_fields_and_refuse_unknown_names() {
        let mut l = Limits::strict();
        l.set("fuel_per_rank", "none").unwrap();
        l.set("memory_bytes_per_rank", "32M").unwrap();
        assert_eq!((l.fuel_per_rank, l.memory_bytes_per_rank), (None, 32 << 20));
        let err = l.set("memory_per_rank", "1").unwrap_err().to_string();
        assert!(
            err.starts_with(
                "unknown limit \"memory_per_rank\"; limits are: memory_bytes_per_rank,"
            ),
            "{err}"
        );
        let err = l
            .set("memory_bytes_per_rank", "none")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "limit memory_bytes_per_rank=none: this limit cannot be lifted (only optional limits take none); give a number"
        );
        let err = l.set("deadline_ms", "soon").unwrap_err().to_string();
        assert_eq!(
            err,
            "limit deadline_ms=soon: expected a number, optionally with K, M, G or T"
        );
    }

    #[test]
    fn policy_files_extend_a_profile_strictly() {
        let p = Policy::from_json(
            r#"{"name": "ci", "extends": "trusted", "limits": {"fuel_per_rank": 1000, "deadline_ms": null, "buffer_bytes": "1M"}}"#,
            "ci.json",
        )
        .unwrap();
        assert_eq!(p.name, "ci");
        assert_eq!(p.limits.fuel_per_rank, Some(1000));
        assert_eq!(p.limits.deadline_ms, None);
        assert_eq!(p.limits.buffer_bytes, 1 << 20);
        assert_eq!(
            p.limits.tensors_per_rank,
            Limits::trusted().tensors_per_rank
        );
        let err =
            Policy::from_json(r#"{"name": "x", "limits": {"fuel": 1}}"#, "x.json").unwrap_err();
        assert!(
            err.to_string().starts_with("unknown limit \"fuel\""),
            "{err}"
        );
        let err = Policy::from_json(r#"{"name": "x", "limit": {}}"#, "x.json").unwrap_err();
        assert!(err.to_string().contains("unknown field `limit`"), "{err}");
        let strict = Policy::from_json(r#"{"name": "y"}"#, "y.json").unwrap();
        assert_eq!(strict.limits, Limits::strict());
    }
}
