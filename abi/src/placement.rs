//! DP policies: how a tensor is split inside one SIP.

use core::fmt;

/// How a tensor is laid out over the cubes and PEs of its SIP.
///
/// A tensor is viewed as 2-D: rows are all dimensions but the last, columns the last; a
/// 1-D tensor of n elements is n rows of one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(tag = "kind", rename_all = "snake_case")
)]
pub enum DpPolicy {
    /// A full copy in every cube, owned by PE 0 of that cube.
    Replicate,
    /// Rows in `cubes x pes` contiguous bands; band i on PE `(i / pes, i % pes)` (the
    /// default).
    #[default]
    SplitRows,
    /// Columns in `cubes x pes` contiguous bands, placed as for rows.
    SplitCols,
    /// Rows split across cubes, columns split across the PEs of each cube.
    Blocks,
    /// The whole tensor on one PE.
    Single {
        /// Cube index.
        cube: u32,
        /// PE index in the cube.
        pe: u32,
    },
}

impl fmt::Display for DpPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DpPolicy::Replicate => f.write_str("replicate"),
            DpPolicy::SplitRows => f.write_str("split-rows"),
            DpPolicy::SplitCols => f.write_str("split-cols"),
            DpPolicy::Blocks => f.write_str("blocks"),
            DpPolicy::Single { cube, pe } => write!(f, "single(cube {cube}, pe {pe})"),
        }
    }
}
