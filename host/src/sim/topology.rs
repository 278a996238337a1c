//! The hardware description: SIPs, their HBM cubes and PEs, and the links between them.
//!
//! Strict serde types (`deny_unknown_fields`, units in every field name) so a typo in a spec is
//! an error naming the field, never a silently ignored setting. [`Topology`] can only be built
//! through validation, so the rest of the simulator never re-checks counts or bandwidths.

use super::dtype::DType;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use thiserror::Error;

/// The embedded default: 8 SIPs x 4 HBM cubes x 8 PEs (see ADR-0004 for the figures).
pub const DEFAULT_TOPOLOGY_JSON: &str = include_str!("default_topology.json");

/// Largest SIP count a spec may ask for; far beyond any real system, small enough that
/// per-SIP tables stay cheap.
pub const MAX_SIPS: u32 = 1 << 16;
/// Largest cubes per SIP and PEs per cube.
pub const MAX_CUBES_OR_PES: u32 = 1 << 10;

/// A topology spec as written in JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopologySpec {
    /// Free-form name shown in reports.
    pub name: String,
    /// Counts and memory of the system.
    pub system: SystemSpec,
    /// One processing element.
    pub pe: PeSpec,
    /// Alpha-beta parameters of each link class.
    pub links: LinkClasses,
    /// The SIP's I/O processor, which carries every inter-SIP transfer.
    pub io_cpu: IoCpuSpec,
}

/// Counts and HBM of the system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemSpec {
    /// The SIPs (devices); in a launched run, one rank per SIP.
    pub sips: SipsSpec,
    /// HBM cubes in each SIP.
    pub cubes_per_sip: u32,
    /// PEs in each cube.
    pub pes_per_cube: u32,
    /// HBM capacity of one cube.
    pub hbm_bytes_per_cube: u64,
    /// HBM bandwidth of one cube, shared by its PEs.
    pub hbm_gbytes_per_s_per_cube: f64,
}

/// The SIP count, nested as `system.sips.count` as the hardware team writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipsSpec {
    /// Number of SIPs.
    pub count: u32,
    /// How the SIPs' inter-SIP links connect them (default: a full mesh).
    #[serde(default)]
    pub fabric: Fabric,
}

/// How the inter-SIP links connect the SIPs. Each link is full duplex: one resource per
/// direction, of `links.inter_sip`'s latency and bandwidth.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fabric {
    /// A link between every pair of SIPs: every route is one hop, and only flows between
    /// the same two SIPs share a link.
    #[default]
    FullMesh,
    /// SIP `i` is linked to `i - 1` and `i + 1` (mod the count); a route takes the shorter
    /// way round (the ascending way on a tie) and crosses every link on it, so groups with
    /// no rank in common can share links.
    Ring,
}

/// One processing element.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeSpec {
    /// Dense matrix-multiply throughput (GFLOP/s) of every dtype the next field omits.
    pub matmul_gflops: f64,
    /// Elementwise throughput (GFLOP/s) of every dtype the next fields omit.
    pub vector_gflops: f64,
    /// Matrix-multiply throughput (GFLOP/s) per dtype name (`"bf16"`, `"f64"` ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub matmul_gflops_by_dtype: BTreeMap<String, f64>,
    /// Elementwise throughput (GFLOP/s) per dtype name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vector_gflops_by_dtype: BTreeMap<String, f64>,
    /// PE-local memory (SRAM) capacity.
    pub local_memory_bytes: u64,
}

/// Alpha (latency) and beta (1 / bandwidth) of one link class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// Fixed cost of one transfer.
    pub latency_ns: u64,
    /// Bandwidth; 1 GB/s is one byte per nanosecond.
    pub bandwidth_gbytes_per_s: f64,
}

/// The four link classes of the cost model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkClasses {
    /// Within one PE's memory.
    pub pe_local: LinkSpec,
    /// Between PEs of one cube (IPCQ).
    pub intra_cube: LinkSpec,
    /// Between cubes of one SIP.
    pub inter_cube: LinkSpec,
    /// Between SIPs, through the IO_CPUs.
    pub inter_sip: LinkSpec,
}

/// The SIP's I/O processor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IoCpuSpec {
    /// Added to every inter-SIP transfer (the IO_CPU's handling of it).
    pub transfer_overhead_ns: u64,
    /// The cube the IO_CPU sits at: data on any other cube crosses that cube's
    /// `inter_cube` port to reach it (default 0).
    #[serde(default)]
    pub cube: u32,
    /// Bytes per ns the IO_CPU moves in each direction, shared by every inter-SIP message of
    /// its SIP (a node's injection limit); none: no limit beyond the links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth_gbytes_per_s: Option<f64>,
}

/// Why a topology spec was refused. Lists every problem found, each with its field path.
#[derive(Debug, Error)]
pub enum TopologyError {
    /// Not JSON, or not of the spec's shape (serde names the field, line and column).
    #[error("topology {origin}: {source}")]
    Parse {
        /// File name, or `embedded default`.
        origin: String,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
    /// Parsed, but some values are impossible.
    #[error("topology {origin} is invalid:\n  - {}", problems.join("\n  - "))]
    Invalid {
        /// File name, or `embedded default`.
        origin: String,
        /// One line per problem, each naming its field.
        problems: Vec<String>,
    },
    /// The file could not be read.
    #[error("cannot read topology {path}: {source}")]
    Read {
        /// The path given.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl TopologySpec {
    /// The embedded default spec.
    pub fn embedded_default() -> Self {
        // The embedded JSON is checked by a unit test; a failure here is a build defect.
        serde_json::from_str(DEFAULT_TOPOLOGY_JSON)
            .unwrap_or_else(|err| panic!("embedded default topology is broken: {err}"))
    }

    /// Parse a spec from JSON text; `origin` names it in errors.
    pub fn from_json(text: &str, origin: &str) -> Result<Self, TopologyError> {
        serde_json::from_str(text).map_err(|source| TopologyError::Parse {
            origin: origin.to_owned(),
            source,
        })
    }

    /// Read and parse a spec file.
    pub fn from_file(path: &Path) -> Result<Self, TopologyError> {
        let text = super::config_file::read_config(path).map_err(|source| TopologyError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&text, &path.display().to_string())
    }

    /// This spec with `n` SIPs (`--sips`, a run spec's `sips`): the name shown in reports
    /// says when the count is not the spec's own.
    pub fn with_sips(mut self, n: u32) -> Self {
        if n != self.system.sips.count {
            self.name = format!("{} with --sips {n}", self.name);
            self.system.sips.count = n;
        }
        self
    }

    /// Check every value; `origin` names the spec in the error.
    pub fn validate(self, origin: &str) -> Result<Topology, TopologyError> {
        let mut problems = Vec::new();
        let s = &self.system;
        check_count(&mut problems, "system.sips.count", s.sips.count, MAX_SIPS);
        check_count(
            &mut problems,
            "system.cubes_per_sip",
            s.cubes_per_sip,
            MAX_CUBES_OR_PES,
        );
        check_count(
            &mut problems,
            "system.pes_per_cube",
            s.pes_per_cube,
            MAX_CUBES_OR_PES,
        );
        if s.hbm_bytes_per_cube == 0 {
            problems.push("system.hbm_bytes_per_cube must be positive (got 0)".to_owned());
        }
        check_rate(
            &mut problems,
            "system.hbm_gbytes_per_s_per_cube",
            s.hbm_gbytes_per_s_per_cube,
        );
        check_rate(&mut problems, "pe.matmul_gflops", self.pe.matmul_gflops);
        check_rate(&mut problems, "pe.vector_gflops", self.pe.vector_gflops);
        for (field, map) in [
            ("pe.matmul_gflops_by_dtype", &self.pe.matmul_gflops_by_dtype),
            ("pe.vector_gflops_by_dtype", &self.pe.vector_gflops_by_dtype),
        ] {
            for (name, rate) in map {
                if DType::ALL.iter().any(|d| d.name() == name) {
                    check_rate(&mut problems, &format!("{field}.{name}"), *rate);
                } else {
                    let names: Vec<&str> = DType::ALL.iter().map(|d| d.name()).collect();
                    problems.push(format!(
                        "{field}: unknown dtype {name:?} (known: {})",
                        names.join(", ")
                    ));
                }
            }
        }
        if let Some(rate) = self.io_cpu.bandwidth_gbytes_per_s {
            check_rate(&mut problems, "io_cpu.bandwidth_gbytes_per_s", rate);
        }
        if self.io_cpu.cube >= s.cubes_per_sip {
            problems.push(format!(
                "io_cpu.cube must be below system.cubes_per_sip ({}) (got {})",
                s.cubes_per_sip, self.io_cpu.cube
            ));
        }
        for (name, link) in self.links.named() {
            check_rate(
                &mut problems,
                &format!("links.{name}.bandwidth_gbytes_per_s"),
                link.bandwidth_gbytes_per_s,
            );
            check_at_most(
                &mut problems,
                &format!("links.{name}.latency_ns"),
                link.latency_ns,
                MAX_LATENCY_NS,
            );
        }
        check_at_most(
            &mut problems,
            "io_cpu.transfer_overhead_ns",
            self.io_cpu.transfer_overhead_ns,
            MAX_LATENCY_NS,
        );
        check_at_most(
            &mut problems,
            "system.hbm_bytes_per_cube",
            s.hbm_bytes_per_cube,
            MAX_HBM_BYTES_PER_CUBE,
        );
        if problems.is_empty() {
            Ok(Topology { spec: self })
        } else {
            Err(TopologyError::Invalid {
                origin: origin.to_owned(),
                problems,
            })
        }
    }
}

impl LinkClasses {
    /// Each link class with its field name, in cost-model order.
    pub fn named(&self) -> [(&'static str, &LinkSpec); 4] {
        [
            ("pe_local", &self.pe_local),
            ("intra_cube", &self.intra_cube),
            ("inter_cube", &self.inter_cube),
            ("inter_sip", &self.inter_sip),
        ]
    }
}

fn check_count(problems: &mut Vec<String>, field: &str, value: u32, max: u32) {
    if value == 0 || value > max {
        problems.push(format!("{field} must be between 1 and {max} (got {value})"));
    }
}

/// Physical ranges of the spec's fields: wide enough for any machine a hardware team would
/// model, narrow enough that no cost the model computes can reach `u64::MAX` nanoseconds
/// through a rate near zero or a latency near the top of `u64`.
const MIN_RATE: f64 = 1e-3;
/// Fastest rate accepted (GB/s or GFLOP/s): a thousand times any link built so far.
const MAX_RATE: f64 = 1e9;
/// Longest latency or per-transfer overhead accepted: one second.
const MAX_LATENCY_NS: u64 = 1_000_000_000;
/// Largest HBM per cube accepted: 1 PiB.
const MAX_HBM_BYTES_PER_CUBE: u64 = 1 << 50;

fn check_rate(problems: &mut Vec<String>, field: &str, value: f64) {
    if !(value.is_finite() && (MIN_RATE..=MAX_RATE).contains(&value)) {
        problems.push(format!(
            "{field} must be between {MIN_RATE} and {MAX_RATE:e} (got {value:e})"
        ));
    }
}

fn check_at_most(problems: &mut Vec<String>, field: &str, value: u64, max: u64) {
    if value > max {
        problems.push(format!("{field} must be at most {max} (got {value})"));
    }
}

/// A validated topology. Only [`TopologySpec::validate`] makes one.
#[derive(Debug, Clone, PartialEq)]
pub struct Topology {
    spec: TopologySpec,
}

impl Topology {
    /// The embedded default, validated.
    pub fn embedded_default() -> Self {
        TopologySpec::embedded_default()
            .validate("embedded default")
            .unwrap_or_else(|err| panic!("{err}"))
    }

    /// The spec it was built from.
    pub fn spec(&self) -> &TopologySpec {
        &self.spec
    }

    /// Number of SIPs.
    pub fn sips(&self) -> u32 {
        self.spec.system.sips.count
    }

    /// Cubes per SIP.
    pub fn cubes_per_sip(&self) -> u32 {
        self.spec.system.cubes_per_sip
    }

    /// PEs per cube.
    pub fn pes_per_cube(&self) -> u32 {
        self.spec.system.pes_per_cube
    }

    /// HBM bytes per cube.
    pub fn hbm_bytes_per_cube(&self) -> u64 {
        self.spec.system.hbm_bytes_per_cube
    }

    /// One line for reports: `kernbench-default-8sip: 8 SIPs x 4 cubes x 8 PEs, 16.0 GiB HBM per cube`.
    pub fn summary(&self) -> String {
        format!(
            "{}: {} SIPs x {} cubes x {} PEs, {} HBM per cube",
            self.spec.name,
            self.sips(),
            self.cubes_per_sip(),
            self.pes_per_cube(),
            super::error::human_bytes(self.hbm_bytes_per_cube())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_is_8_sips_of_4_cubes_of_8_pes() {
        let topo = Topology::embedded_default();
        assert_eq!(
            (topo.sips(), topo.cubes_per_sip(), topo.pes_per_cube()),
            (8, 4, 8)
        );
        assert_eq!(topo.hbm_bytes_per_cube(), 16 << 30);
    }

    #[test]
    fn unknown_field_is_named() {
        let text = DEFAULT_TOPOLOGY_JSON.replace("\"cubes_per_sip\"", "\"cube_per_sip\"");
        let err = TopologySpec::from_json(&text, "t.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `cube_per_sip`"), "{err}");
        assert!(err.starts_with("topology t.json:"), "{err}");
    }

    #[test]
    fn every_invalid_value_is_listed() {
        let mut spec = TopologySpec::embedded_default();
        spec.system.sips.count = 0;
        spec.system.pes_per_cube = 5000;
        spec.links.inter_sip.bandwidth_gbytes_per_s = f64::NAN;
        spec.system.hbm_bytes_per_cube = 0;
        spec.links.inter_cube.bandwidth_gbytes_per_s = 1e-300;
        spec.links.pe_local.latency_ns = u64::MAX;
        spec.io_cpu.transfer_overhead_ns = 2_000_000_000;
        let err = spec.validate("x.json").unwrap_err().to_string();
        for needle in [
            "system.sips.count must be between 1 and 65536 (got 0)",
            "system.pes_per_cube must be between 1 and 1024 (got 5000)",
            "links.inter_sip.bandwidth_gbytes_per_s must be between 0.001 and 1e9 (got NaN)",
            "links.inter_cube.bandwidth_gbytes_per_s must be between 0.001 and 1e9 (got 1e-300)",
            "links.pe_local.latency_ns must be at most 1000000000 (got 18446744073709551615)",
            "io_cpu.transfer_overhead_ns must be at most 1000000000 (got 2000000000)",
            "system.hbm_bytes_per_cube must be positive (got 0)",
        ] {
            assert!(err.contains(needle), "missing {needle:?} in {err}");
        }
    }
}
