//! The list of limits, declared once: the `limits!` macro turns it into [`Limits`], the
//! `--limit` keys, the policy file's `limits` object and its schema, and `Limits::strict`
//! and `Limits::trusted` give each limit its value in the two built-in profiles. Adding a
//! limit is one entry here and one value in each profile.

use super::PolicyError;
use super::value::{LimitSeed, Patch, parse_limit};
use schemars::JsonSchema;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

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
        pub(super) struct LimitsPatch {
            $(
                $(#[doc = $doc])+
                #[serde(default)]
                $name: Patch<$ty>,
            )+
        }

        impl LimitsPatch {
            pub(super) fn apply(self, limits: &mut Limits) {
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
    /// Asynchronous operations (`isend`, `irecv`, `async_op` collectives) one rank may have
    /// issued and not yet waited for.
    ops_in_flight_per_rank: u64,
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
            // A Rust bench has 4 core instances, a componentize-py one 14 (CPython, its
            // libc and the WASI adapters): 16 admits Python benches (ADR-0018).
            instances_per_rank: 16,
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
            // Open slots hold each arrival (~200 B): 1024 ranks x 1024 in flight stay near
            // 200 MiB of host memory.
            ops_in_flight_per_rank: 1024,
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
            ops_in_flight_per_rank: 1 << 16,
            metric_series_per_run: 1 << 16,
            regions_per_run: 1 << 20,
            collective_records_per_run: 1 << 20,
        }
    }
}

fn unknown_limit(key: &str) -> PolicyError {
    PolicyError::UnknownLimit {
        key: key.to_owned(),
        known: LIMIT_NAMES.join(", "),
    }
}
