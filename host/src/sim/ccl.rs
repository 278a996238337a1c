//! The CCL config (collective settings) and world-size resolution (D1 of ADR-0024).
//!
//! `defaults` apply to every collective; `overrides` are keyed by collective and replace any
//! default they set. World size: an override's `world_size` > `defaults.world_size` >
//! `system.sips.count`, and the winning source is reported so a user can see why.

use super::topology::Topology;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use thiserror::Error;

/// Collective algorithms the cost model knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    /// Ring: `2(N-1)` steps of `1/N` of the data (all-reduce); a pipelined chain for
    /// broadcast and reduce; pairwise exchange for all-to-all.
    Ring,
    /// Logarithmic schedules: recursive doubling (all-reduce), Bruck (all-gather,
    /// all-to-all), recursive halving (reduce-scatter), binomial tree (broadcast, reduce),
    /// dissemination (barrier). Called `tree` before ADR-0008's second version.
    RecursiveDoubling,
    /// NCCL's double binary tree for all-reduce (Sanders, Speck and Träff's two trees, each
    /// carrying half the data, reduce and broadcast pipelined); the other collectives run
    /// their `ring` schedule under it, as NCCL's tree covers all-reduce only.
    DoubleBinaryTree,
    /// Hierarchical: gather the cube parts at the IO_CPU's cube inside each SIP, run the
    /// ring schedule across SIPs with one message per step, then scatter back.
    Intercube,
}

impl Algorithm {
    /// The name used in configs and reports.
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::Ring => "ring",
            Algorithm::RecursiveDoubling => "recursive_doubling",
            Algorithm::DoubleBinaryTree => "double_binary_tree",
            Algorithm::Intercube => "intercube",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The collectives a CCL config can tune (the shared vocabulary, `kernbench-abi`).
pub use kernbench_abi::CollectiveKind;

/// Settings that `defaults` and each override may set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CclSettings {
    /// Algorithm for the collective.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<Algorithm>,
    /// Pipelining chunk: a message is sent in pieces of at most this many bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_bytes: Option<u64>,
    /// Number of ranks (D1); must equal the SIP count (rank = SIP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub world_size: Option<u32>,
}

/// A CCL config file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CclConfig {
    /// Settings for every collective.
    #[serde(default)]
    pub defaults: CclSettings,
    /// Per-collective settings that win over `defaults`.
    #[serde(default)]
    pub overrides: BTreeMap<CollectiveKind, CclSettings>,
}

/// Why a CCL config or the world size it implies was refused.
#[derive(Debug, Error)]
pub enum CclError {
    /// The file could not be read.
    #[error("cannot read CCL config {path}: {source}")]
    Read {
        /// The path given.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Not JSON, or not of the config's shape.
    #[error("CCL config {origin}: {source}")]
    Parse {
        /// The path given.
        origin: String,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
    /// A value is impossible.
    #[error("CCL config: {0}")]
    Invalid(String),
    /// Two overrides ask for different world sizes.
    #[error("CCL config: overrides disagree on world_size: {0}")]
    ConflictingOverrides(String),
    /// The resolved world size differs from the SIP count: the legacy rank = PE mapping,
    /// which this host refuses rather than silently mapping ranks onto the wrong devices.
    #[error(
        "world size {world_size} (from {from}) differs from the topology's {sips} SIPs; \
         ranks map one-to-one onto SIPs (rank = SIP), and the legacy rank = PE mapping is not \
         supported (ADR-0003): use --sips {world_size} to simulate {world_size} SIPs, or drop \
         the world_size setting"
    )]
    WorldSizeMismatch {
        /// The requested world size.
        world_size: u32,
        /// Where it came from.
        from: WorldSizeSource,
        /// SIPs in the topology.
        sips: u32,
    },
}

impl CclConfig {
    /// Parse a config from JSON text; `origin` names it in errors.
    pub fn from_json(text: &str, origin: &str) -> Result<Self, CclError> {
        let config: CclConfig = serde_json::from_str(text).map_err(|source| CclError::Parse {
            origin: origin.to_owned(),
            source,
        })?;
        config.check()?;
        Ok(config)
    }

    /// Read and parse a config file.
    pub fn from_file(path: &Path) -> Result<Self, CclError> {
        let text = super::config_file::read_config(path).map_err(|source| CclError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&text, &path.display().to_string())
    }

    fn check(&self) -> Result<(), CclError> {
        let all = std::iter::once(("defaults".to_owned(), &self.defaults)).chain(
            self.overrides
                .iter()
                .map(|(kind, settings)| (format!("overrides.{kind}"), settings)),
        );
        for (place, settings) in all {
            if settings.chunk_bytes == Some(0) {
                return Err(CclError::Invalid(format!(
                    "{place}.chunk_bytes must be positive"
                )));
            }
            if settings.world_size == Some(0) {
                return Err(CclError::Invalid(format!(
                    "{place}.world_size must be positive"
                )));
            }
        }
        Ok(())
    }

    /// Settings in force for `kind`: its override where set, else the defaults.
    pub fn settings_for(&self, kind: CollectiveKind) -> CclSettings {
        let over = self.overrides.get(&kind);
        CclSettings {
            algorithm: over.and_then(|o| o.algorithm).or(self.defaults.algorithm),
            chunk_bytes: over
                .and_then(|o| o.chunk_bytes)
                .or(self.defaults.chunk_bytes),
            world_size: over.and_then(|o| o.world_size).or(self.defaults.world_size),
        }
    }
}

/// Which of D1's three sources decided the world size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WorldSizeSource {
    /// `overrides.<collective>.world_size` in the CCL config.
    Override {
        /// The collective whose override set it.
        collective: CollectiveKind,
    },
    /// `defaults.world_size` (also what `--world-size` sets).
    Defaults,
    /// `system.sips.count` of the topology (also what `--sips` sets).
    Topology,
}

impl fmt::Display for WorldSizeSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorldSizeSource::Override { collective } => {
                write!(f, "CCL overrides.{collective}.world_size")
            }
            WorldSizeSource::Defaults => {
                f.write_str("CCL defaults.world_size, set by --world-size or the --ccl file")
            }
            WorldSizeSource::Topology => f.write_str("topology system.sips.count"),
        }
    }
}

/// A world size and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ResolvedWorldSize {
    /// Number of ranks.
    pub world_size: u32,
    /// The D1 source that decided it.
    pub source: WorldSizeSource,
}

/// D1: an override's `world_size` > `defaults.world_size` > `system.sips.count`; anything but
/// the SIP count is refused (rank = SIP).
pub fn resolve_world_size(
    topology: &Topology,
    ccl: &CclConfig,
) -> Result<ResolvedWorldSize, CclError> {
    let mut from_overrides = ccl
        .overrides
        .iter()
        .filter_map(|(kind, s)| s.world_size.map(|w| (*kind, w)));
    let resolved = if let Some((collective, world_size)) = from_overrides.next() {
        let others: Vec<_> = from_overrides.collect();
        if others.iter().any(|(_, w)| *w != world_size) {
            // Name every override that sets a world size, so the user sees all of them.
            let list = std::iter::once((collective, world_size))
                .chain(others)
                .map(|(k, w)| format!("{k}={w}"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(CclError::ConflictingOverrides(list));
        }
        ResolvedWorldSize {
            world_size,
            source: WorldSizeSource::Override { collective },
        }
    } else if let Some(world_size) = ccl.defaults.world_size {
        ResolvedWorldSize {
            world_size,
            source: WorldSizeSource::Defaults,
        }
    } else {
        ResolvedWorldSize {
            world_size: topology.sips(),
            source: WorldSizeSource::Topology,
        }
    };
    if resolved.world_size != topology.sips() {
        return Err(CclError::WorldSizeMismatch {
            world_size: resolved.world_size,
            from: resolved.source,
            sips: topology.sips(),
        });
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::topology::TopologySpec;

    fn topo(sips: u32) -> Topology {
        let mut spec = TopologySpec::embedded_default();
        spec.system.sips.count = sips;
        spec.validate("test").unwrap_or_else(|e| panic!("{e}"))
    }

    fn ccl(text: &str) -> CclConfig {
        CclConfig::from_json(text, "test").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn topology_wins_without_ccl_settings() {
        let got = resolve_world_size(&topo(8), &CclConfig::default()).ok();
        assert_eq!(
            got,
            Some(ResolvedWorldSize {
                world_size: 8,
                source: WorldSizeSource::Topology
            })
        );
    }

    #[test]
    fn defaults_win_over_topology() {
        let got = resolve_world_size(&topo(4), &ccl(r#"{"defaults":{"world_size":4}}"#)).ok();
        assert_eq!(
            got,
            Some(ResolvedWorldSize {
                world_size: 4,
                source: WorldSizeSource::Defaults
            })
        );
    }

    #[test]
    fn override_wins_over_defaults() {
        let cfg = ccl(
            r#"{"defaults":{"world_size":8},"overrides":{"all_reduce":{"world_size":4,"algorithm":"ring"}}}"#,
        );
        let err = resolve_world_size(&topo(8), &cfg).unwrap_err().to_string();
        assert!(
            err.contains("world size 4 (from CCL overrides.all_reduce.world_size)"),
            "{err}"
        );
        let got = resolve_world_size(&topo(4), &cfg).ok();
        assert_eq!(
            got,
            Some(ResolvedWorldSize {
                world_size: 4,
                source: WorldSizeSource::Override {
                    collective: CollectiveKind::AllReduce
                }
            })
        );
    }

    #[test]
    fn rank_pe_mapping_is_refused_with_a_way_out() {
        let err = resolve_world_size(&topo(8), &ccl(r#"{"defaults":{"world_size":256}}"#))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "world size 256 (from CCL defaults.world_size, set by --world-size or the --ccl file) differs from the topology's 8 SIPs"
            ),
            "{err}"
        );
        assert!(err.contains("use --sips 256"), "{err}");
    }

    #[test]
    fn conflicting_overrides_are_listed() {
        let cfg =
            ccl(r#"{"overrides":{"all_reduce":{"world_size":4},"broadcast":{"world_size":8}}}"#);
        let err = resolve_world_size(&topo(8), &cfg).unwrap_err().to_string();
        assert!(err.contains("all_reduce=4, broadcast=8"), "{err}");
    }

    #[test]
    fn unknown_keys_and_zero_values_are_refused() {
        let err = CclConfig::from_json(r#"{"defaults":{"algo":"ring"}}"#, "c.json").unwrap_err();
        assert!(err.to_string().contains("unknown field `algo`"), "{err}");
        let err = CclConfig::from_json(r#"{"overrides":{"allreduce":{}}}"#, "c.json").unwrap_err();
        assert!(
            err.to_string().contains("unknown variant `allreduce`"),
            "{err}"
        );
        let err = CclConfig::from_json(r#"{"defaults":{"chunk_bytes":0}}"#, "c.json").unwrap_err();
        assert!(
            err.to_string()
                .contains("defaults.chunk_bytes must be positive"),
            "{err}"
        );
    }

    #[test]
    fn override_settings_replace_defaults_per_field() {
        let cfg = ccl(
            r#"{"defaults":{"algorithm":"ring","chunk_bytes":1024},"overrides":{"all_reduce":{"algorithm":"intercube"}}}"#,
        );
        let s = cfg.settings_for(CollectiveKind::AllReduce);
        assert_eq!(
            (s.algorithm, s.chunk_bytes),
            (Some(Algorithm::Intercube), Some(1024))
        );
        let s = cfg.settings_for(CollectiveKind::Broadcast);
        assert_eq!(s.algorithm, Some(Algorithm::Ring));
    }
}
