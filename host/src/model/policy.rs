//! Sandbox policies: every limit a run enforces, in one strict, named profile.
//!
//! Two built-in profiles: `strict` for third-party components (the default for anything not
//! built from this repository) and `trusted` for the bundled benches. A policy file names a
//! profile, picks one to extend, and overrides fields; `--limit key=value` overrides a field
//! on the command line. Unknown fields are errors, so a misspelled limit is never ignored.
//!
//! The limits are declared once, in [`limits!`]: the struct, the `--limit` keys, the
//! policy-file fields and their JSON schema (`docs/policy.schema.json`) all come from there.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::path::Path;
use thiserror::Error;

/// Declares every limit once: `Limits`, `LIMIT_NAMES`, `Limits::set` and the policy file's
/// `limits` object (`LimitsPatch`) with its schema.
macro_rules! limits {
    ($( $(#[doc = $doc:literal])+ $name:ident: $ty:ty, )+) => {
        /// Every limit of a run. Sizes are bytes; `None` means unlimited.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct Limits {
            $( $(#[doc = $doc])+ pub $name: $ty, )+
        }

        /// The field names of [`Limits`], for messages and docs.
        pub const LIMIT_NAMES: &[&str] = &[$(stringify!($name)),+];

        impl Limits {
            /// Set one field by its name, parsing sizes like `64M` (`--limit key=value`).
            pub fn set(&mut self, key: &str, value: &str) -> Result<(), PolicyError> {
                let bad = |why: &str| PolicyError::Value {
                    key: key.to_owned(),
                    value: value.to_owned(),
                    why: why.to_owned(),
                };
                match key {
                    $( stringify!($name) => self.$name = parse_limit(value).map_err(bad)?, )+
                    _ => return Err(unknown_limit(key)),
                }
                Ok(())
            }
        }

        /// The `limits` object of a policy file: the limits it changes in the profile it
        /// extends. A size is a number of bytes or a string like `"64M"`; `null` lifts an
        /// optional limit.
        #[derive(Debug, Default, JsonSchema)]
        #[serde(deny_unknown_fields)]
        struct LimitsPatch {
            $(
                $(#[doc = $doc])+
                #[serde(default)]
                $name: Patch<$ty>,
            )+
        }

        impl LimitsPatch {
            fn apply(self, limits: &mut Limits) {
                $( if let Patch(Some(v)) = self.$name { limits.$name = v; } )+
            }
        }

        // By hand rather than derived, so that a file's errors read like `--limit`'s: an
        // unknown key lists the valid ones, a bad value names its key.
        impl<'de> Deserialize<'de> for LimitsPatch {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Fields;
                impl<'de> Visitor<'de> for Fields {
                    type Value = LimitsPatch;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("an object of limits")
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LimitsPatch, A::Error> {
                        let mut patch = LimitsPatch::default();
                        while let Some(key) = map.next_key::<String>()? {
                            match key.as_str() {
                                $( stringify!($name) => {
                                    if patch.$name.0.is_some() {
                                        return Err(de::Error::custom(format!("limit {key} is given twice")));
                                    }
                                    patch.$name = Patch(Some(map.next_value_seed(LimitSeed::new(stringify!($name)))?));
                                } )+
                                _ => return Err(de::Error::custom(unknown_limit(&key))),
                            }
                        }
                        Ok(patch)
                    }
                }
                deserializer.deserialize_map(Fields)
            }
        }
    };
}

limits! {
    /// Linear memory of one rank's instance.
    memory_bytes_per_rank: u64,
    /// Elements of any one wasm table.
    table_elements_per_rank: u64,
    /// Core instances one rank's component may create.
    instances_per_rank: u32,
    /// Instructions (wasm fuel) each rank may execute.
    fuel_per_rank: Option<u64>,
    /// Wall-clock time for the whole run, in milliseconds.
    deadline_ms: Option<u64>,
    /// Simulated HBM one rank's live tensors may occupy (over all cubes).
    hbm_bytes_per_rank: Option<u64>,
    /// Live tensors per rank.
    tensors_per_rank: u64,
    /// Shard entries a rank's live tensors may hold together (a tensor split over a SIP of
    /// many PEs holds one per PE, even a meta tensor).
    shards_per_rank: u64,
    /// Entries in a rank's resource table (tensor handles, WASI streams ...).
    resource_table_entries: u64,
    /// Captured bytes of stdout and of stderr per rank (the rest is dropped and marked).
    output_bytes_per_stream: u64,
    /// Largest byte buffer one call may move across the WIT boundary.
    buffer_bytes: u64,
    /// Largest world (number of ranks).
    max_world_size: u32,
    /// Real tensor data (host memory) over all ranks of a run.
    data_bytes_per_run: u64,
    /// Largest component file accepted.
    component_bytes: u64,
    /// Host arithmetic one tensor op on real data may do (a matmul counts 2mnk FLOPs).
    host_flops_per_op: Option<u64>,
    /// Host arithmetic all tensor ops of a run may do together.
    host_flops_per_run: Option<u64>,
    /// Process groups (`new_group` calls that create a group) in a run.
    groups_per_run: u64,
    /// Distinct metric series (rank, name, unit) in a run; reports of a series aggregate.
    metric_series_per_run: u64,
    /// Closed regions the report keeps; the rest are counted and warned about.
    regions_per_run: u64,
    /// Collective records the report keeps; the rest are counted, and the nccl-tests
    /// summary stays exact.
    collective_records_per_run: u64,
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
            // About 56 MiB of shard lists, near the rank's linear memory.
            shards_per_rank: 1 << 20,
            resource_table_entries: 8192,
            output_bytes_per_stream: 64 << 10,
            buffer_bytes: 16 << 20,
            max_world_size: 1024,
            data_bytes_per_run: 1 << 30,
            component_bytes: 64 << 20,
            // About a second, and eight, of host matmul on this machine class.
            host_flops_per_op: Some(1 << 34),
            host_flops_per_run: Some(1 << 37),
            groups_per_run: 1024,
            metric_series_per_run: 4096,
            regions_per_run: 65_536,
            collective_records_per_run: 65_536,
        }
    }

    /// For benches built from this repository: generous, but still bounded.
    pub fn trusted() -> Self {
        Limits {
            memory_bytes_per_rank: 256 << 20,
            table_elements_per_rank: 1 << 16,
            instances_per_rank: 16,
            fuel_per_rank: None,
            // Generous, but nothing hangs by default: a sleeping or spinning bench ends.
            deadline_ms: Some(3_600_000),
            hbm_bytes_per_rank: None,
            tensors_per_rank: 1 << 16,
            shards_per_rank: 1 << 22,
            resource_table_entries: 1 << 20,
            output_bytes_per_stream: 1 << 20,
            buffer_bytes: 64 << 20,
            max_world_size: 16384,
            data_bytes_per_run: 4 << 30,
            component_bytes: 256 << 20,
            host_flops_per_op: Some(1 << 40),
            host_flops_per_run: Some(1 << 44),
            groups_per_run: 1 << 16,
            metric_series_per_run: 1 << 16,
            regions_per_run: 1 << 20,
            collective_records_per_run: 1 << 20,
        }
    }
}

const NOT_A_NUMBER: &str = "expected a number, optionally with K, M, G or T";
const CANNOT_LIFT: &str =
    "this limit cannot be lifted (only optional limits take none); give a number";

fn unknown_limit(key: &str) -> PolicyError {
    PolicyError::UnknownLimit {
        key: key.to_owned(),
        known: LIMIT_NAMES.join(", "),
    }
}

/// The type of one limit: how a number of bytes (or items) and "unlimited" become it.
trait LimitValue: Sized {
    /// Name of its schema.
    const SCHEMA_NAME: &'static str;
    /// From a number.
    fn from_count(n: u64) -> Result<Self, &'static str>;
    /// The unlimited value, if the limit can be lifted.
    fn unlimited() -> Option<Self>;
    /// Its JSON schema in a policy file.
    fn schema() -> Schema;
}

/// `^digits[unit]$`, as [`parse_size`] reads it.
const SIZE_PATTERN: &str = "^[0-9_]+([KkMmGgTt]([Ii][Bb])?)?$";

impl LimitValue for u64 {
    const SCHEMA_NAME: &'static str = "Size";
    fn from_count(n: u64) -> Result<Self, &'static str> {
        Ok(n)
    }
    fn unlimited() -> Option<Self> {
        None
    }
    fn schema() -> Schema {
        json_schema!({ "anyOf": [
            { "type": "integer", "minimum": 0 },
            { "type": "string", "pattern": SIZE_PATTERN },
        ] })
    }
}

impl LimitValue for u32 {
    const SCHEMA_NAME: &'static str = "Count";
    fn from_count(n: u64) -> Result<Self, &'static str> {
        u32::try_from(n).map_err(|_| "too large")
    }
    fn unlimited() -> Option<Self> {
        None
    }
    fn schema() -> Schema {
        json_schema!({ "anyOf": [
            { "type": "integer", "minimum": 0, "maximum": u32::MAX },
            { "type": "string", "pattern": SIZE_PATTERN },
        ] })
    }
}

impl LimitValue for Option<u64> {
    const SCHEMA_NAME: &'static str = "OptionalSize";
    fn from_count(n: u64) -> Result<Self, &'static str> {
        Ok(Some(n))
    }
    fn unlimited() -> Option<Self> {
        Some(None)
    }
    fn schema() -> Schema {
        json_schema!({ "anyOf": [
            { "type": "integer", "minimum": 0 },
            { "type": "string", "pattern": SIZE_PATTERN },
            { "type": "null" },
        ] })
    }
}

/// A `--limit` value: `none` or `unlimited` for an optional limit, else a size.
fn parse_limit<T: LimitValue>(value: &str) -> Result<T, &'static str> {
    if matches!(value, "none" | "unlimited") {
        return T::unlimited().ok_or(CANNOT_LIFT);
    }
    T::from_count(parse_size(value).ok_or(NOT_A_NUMBER)?)
}

/// A limit of type `T` a policy file may set (`None`: it keeps the extended profile's value).
#[derive(Debug)]
struct Patch<T>(Option<T>);

impl<T> Default for Patch<T> {
    fn default() -> Self {
        Patch(None)
    }
}

impl<T: LimitValue> JsonSchema for Patch<T> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        T::SCHEMA_NAME.into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        T::schema()
    }
}

/// Reads one limit of a policy file: a number, a size string or `null`.
struct LimitSeed<T> {
    key: &'static str,
    value: PhantomData<T>,
}

impl<T> LimitSeed<T> {
    fn new(key: &'static str) -> Self {
        LimitSeed {
            key,
            value: PhantomData,
        }
    }

    fn bad<E: de::Error>(&self, value: impl fmt::Display, why: &str) -> E {
        E::custom(PolicyError::Value {
            key: self.key.to_owned(),
            value: value.to_string(),
            why: why.to_owned(),
        })
    }
}

impl<'de, T: LimitValue> DeserializeSeed<'de> for LimitSeed<T> {
    type Value = T;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, T: LimitValue> Visitor<'de> for LimitSeed<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "limit {}: a number, a size like \"64M\", or null for unlimited",
            self.key
        )
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<T, E> {
        T::from_count(n).map_err(|why| self.bad(n, why))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<T, E> {
        match u64::try_from(n) {
            Ok(n) => self.visit_u64(n),
            Err(_) => Err(self.bad(n, NOT_A_NUMBER)),
        }
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        parse_limit(text).map_err(|why| self.bad(text, why))
    }
    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        T::unlimited().ok_or_else(|| self.bad("null", CANNOT_LIFT))
    }
    fn visit_none<E: de::Error>(self) -> Result<T, E> {
        self.visit_unit()
    }
}

/// `64M`, `1G`, `4096`, `10_000` (binary units: `K` is `KiB`, not the SI kilo that
/// `bytesize`'s own parser reads, and an overflow is an error rather than saturating).
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.replace('_', "");
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let factor = match unit.to_ascii_uppercase().as_str() {
        "" => 1,
        "K" | "KIB" => bytesize::KIB,
        "M" | "MIB" => bytesize::MIB,
        "G" | "GIB" => bytesize::GIB,
        "T" | "TIB" => bytesize::TIB,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(factor)
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
            err.to_string().starts_with(
                "policy x.json: unknown limit \"fuel\"; limits are: memory_bytes_per_rank,"
            ),
            "{err}"
        );
        let err = Policy::from_json(r#"{"name": "x", "limit": {}}"#, "x.json").unwrap_err();
        assert!(err.to_string().contains("unknown field `limit`"), "{err}");
        let strict = Policy::from_json(r#"{"name": "y"}"#, "y.json").unwrap();
        assert_eq!(strict.limits, Limits::strict());
    }

    #[test]
    fn policy_file_values_are_numbers_sizes_or_null() {
        let err = |limits: &str| {
            let text = format!(r#"{{"name": "x", "limits": {limits}}}"#);
            Policy::from_json(&text, "x.json").unwrap_err().to_string()
        };
        let e = err(r#"{"memory_bytes_per_rank": null}"#);
        assert!(
            e.starts_with(
                "policy x.json: limit memory_bytes_per_rank=null: this limit cannot be lifted"
            ),
            "{e}"
        );
        let e = err(r#"{"deadline_ms": "soon"}"#);
        assert!(
            e.starts_with("policy x.json: limit deadline_ms=soon: expected a number, optionally with K, M, G or T"),
            "{e}"
        );
        let e = err(r#"{"instances_per_rank": 4294967296}"#);
        assert!(
            e.contains("limit instances_per_rank=4294967296: too large"),
            "{e}"
        );
        let e = err(r#"{"deadline_ms": -1}"#);
        assert!(e.contains("limit deadline_ms=-1: expected a number"), "{e}");
        let e = err(r#"{"deadline_ms": 1.5}"#);
        assert!(e.contains("invalid type: floating point `1.5`"), "{e}");
        let e = err(r#"{"deadline_ms": 1, "deadline_ms": 2}"#);
        assert!(e.contains("limit deadline_ms is given twice"), "{e}");
        let e = Policy::from_json(r#"{"name": "x", "extends": "lax"}"#, "x.json").unwrap_err();
        assert!(e.to_string().contains("unknown variant `lax`"), "{e}");
        let p = Policy::from_json(
            r#"{"name": "x", "limits": {"fuel_per_rank": "none"}}"#,
            "x.json",
        );
        assert_eq!(p.unwrap().limits.fuel_per_rank, None);
    }

    /// The schema committed in `docs/` is the one the code generates. After changing a
    /// limit, regenerate it: `KERNBENCH_WRITE_SCHEMA=1 cargo test -p kernbench-host policy`.
    #[test]
    fn the_committed_schema_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/policy.schema.json");
        let schema = schemars::schema_for!(PolicyFile);
        let generated = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        if std::env::var_os("KERNBENCH_WRITE_SCHEMA").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is stale: run KERNBENCH_WRITE_SCHEMA=1 cargo test -p kernbench-host policy",
            path.display()
        );
        // Every limit is in the schema, and nothing else.
        let fields = schema.as_value()["$defs"]["LimitsPatch"]["properties"]
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default();
        let mut names: Vec<String> = LIMIT_NAMES.iter().map(|n| (*n).to_owned()).collect();
        names.sort();
        assert_eq!(fields, names);
    }

    /// The README's example policy file (the line starting with `{"name": "ci"`) parses.
    #[test]
    fn the_readme_example_policy_parses() {
        let readme = include_str!("../../../README.md");
        let example = readme
            .split('`')
            .find(|s| s.starts_with(r#"{"name": "ci""#))
            .expect("README shows an example policy file");
        let p = Policy::from_json(example, "README.md").unwrap();
        assert_eq!(p.name, "ci");
        assert_eq!(p.limits.fuel_per_rank, Some(2 << 30));
        assert_eq!(p.limits.deadline_ms, Some(120_000));
    }
}
