//! DP policies: how one tensor is laid out over the cubes and PEs of one SIP (D4).
//!
//! Placement is structural: every [`ShardSpec`] carries its `(sip, cube, pe)` directly,
//! computed from the target SIP, so no caller ever shifts indices after the fact.

use super::error::{SimError, invalid};
use serde::Serialize;

pub use kernbench_abi::DpPolicy;

/// Half-open index range `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Span {
    /// First index.
    pub start: u64,
    /// One past the last index.
    pub end: u64,
}

impl Span {
    /// Number of indices.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether the span holds no index.
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// One shard: where it lives and which part of the 2-D view it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ShardSpec {
    /// SIP.
    pub sip: u32,
    /// Cube in the SIP.
    pub cube: u32,
    /// PE in the cube.
    pub pe: u32,
    /// Rows of the 2-D view.
    pub rows: Span,
    /// Columns of the 2-D view.
    pub cols: Span,
    /// HBM bytes the shard occupies in its cube.
    pub bytes: u64,
}

/// The 2-D view of a shape: rows are the product of all dimensions but the last, columns
/// the last. A scalar is 1 x 1 and a vector of n elements is n x 1 (a column), so splitting
/// rows spreads a vector over the PEs, as a gradient bucket is. `None` on overflow.
pub fn shape_2d(shape: &[u64]) -> Option<(u64, u64)> {
    match shape.split_last() {
        None => Some((1, 1)),
        Some((&n, [])) => Some((n, 1)),
        // A zero anywhere means no elements: no product can overflow then.
        Some((&cols, rest)) if rest.contains(&0) => Some((0, cols)),
        Some((&cols, rest)) => {
            let rows = rest.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d))?;
            Some((rows, cols))
        }
    }
}

/// Part `index` of `n` items split into `parts` nearly equal contiguous parts; the first
/// `n % parts` parts hold one item more (as `numpy.array_split`).
pub fn even_split(n: u64, parts: u64, index: u64) -> Span {
    let base = n / parts;
    let rem = n % parts;
    let start = index * base + index.min(rem);
    let len = base + u64::from(index < rem);
    Span {
        start,
        end: start + len,
    }
}

/// How many shards [`resolve_dp_policy`] gives a `shape_2d` tensor on a SIP of `num_cubes`
/// cubes of `num_pe` PEs, computed without building them: the tensor store checks a rank's
/// shard entries (`shards_per_rank`) against it before anything is allocated. A `single`
/// policy outside the SIP counts its one shard; `resolve_dp_policy` refuses it.
pub fn shard_count(dp: DpPolicy, shape_2d: (u64, u64), num_pe: u32, num_cubes: u32) -> u64 {
    let (rows, cols) = shape_2d;
    let (cubes, pes) = (u64::from(num_cubes), u64::from(num_pe));
    match dp {
        DpPolicy::Replicate => cubes,
        DpPolicy::Single { .. } => 1,
        DpPolicy::SplitRows | DpPolicy::SplitCols | DpPolicy::Blocks if rows == 0 || cols == 0 => 0,
        DpPolicy::SplitRows => (cubes * pes).min(rows),
        DpPolicy::SplitCols => (cubes * pes).min(cols),
        DpPolicy::Blocks => cubes.min(rows) * pes.min(cols),
    }
}

/// The shards of a `shape_2d` tensor of `itemsize`-byte elements on SIP `target_sip` with
/// `num_cubes` cubes of `num_pe` PEs. Split policies omit empty shards; `replicate` and
/// `single` always give their shards, even for an empty tensor.
pub fn resolve_dp_policy(
    dp: DpPolicy,
    shape_2d: (u64, u64),
    itemsize: u64,
    num_pe: u32,
    num_cubes: u32,
    target_sip: u32,
) -> Result<Vec<ShardSpec>, SimError> {
    if num_pe == 0 || num_cubes == 0 {
        return invalid!("a SIP needs at least one cube and one PE (got {num_cubes} x {num_pe})");
    }
    let (rows, cols) = shape_2d;
    let all_rows = Span {
        start: 0,
        end: rows,
    };
    let all_cols = Span {
        start: 0,
        end: cols,
    };
    let shard = |cube: u32, pe: u32, rows: Span, cols: Span| -> Result<ShardSpec, SimError> {
        let bytes = rows
            .len()
            .checked_mul(cols.len())
            .and_then(|n| n.checked_mul(itemsize))
            .ok_or_else(|| {
                SimError::InvalidArgument(format!(
                    "tensor of {rows} x {cols} elements of {itemsize} bytes overflows 64 bits",
                    rows = shape_2d.0,
                    cols = shape_2d.1
                ))
            })?;
        Ok(ShardSpec {
            sip: target_sip,
            cube,
            pe,
            rows,
            cols,
            bytes,
        })
    };
    let units = u64::from(num_cubes) * u64::from(num_pe);
    let unit_coord = |i: u64| {
        (
            (i / u64::from(num_pe)) as u32,
            (i % u64::from(num_pe)) as u32,
        )
    };
    // Exactly as many as it will hold: the store counts these entries against a quota.
    let count = shard_count(dp, shape_2d, num_pe, num_cubes);
    let mut shards = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    match dp {
        DpPolicy::Replicate => {
            for cube in 0..num_cubes {
                shards.push(shard(cube, 0, all_rows, all_cols)?);
            }
        }
        DpPolicy::Single { cube, pe } => {
            if cube >= num_cubes || pe >= num_pe {
                return invalid!(
                    "dp policy single(cube {cube}, pe {pe}) is outside the SIP's {num_cubes} cubes x {num_pe} PEs"
                );
            }
            shards.push(shard(cube, pe, all_rows, all_cols)?);
        }
        // An empty tensor has no split shards (only replicate and single keep theirs).
        DpPolicy::SplitRows | DpPolicy::SplitCols | DpPolicy::Blocks if rows == 0 || cols == 0 => {}
        DpPolicy::SplitRows | DpPolicy::SplitCols => {
            let along = if dp == DpPolicy::SplitRows {
                rows
            } else {
                cols
            };
            for i in 0..units.min(along) {
                let part = even_split(along, units, i);
                let (cube, pe) = unit_coord(i);
                let (r, c) = if dp == DpPolicy::SplitRows {
                    (part, all_cols)
                } else {
                    (all_rows, part)
                };
                shards.push(shard(cube, pe, r, c)?);
            }
        }
        DpPolicy::Blocks => {
            for cube in 0..u64::from(num_cubes).min(rows) {
                let r = even_split(rows, u64::from(num_cubes), cube);
                for pe in 0..u64::from(num_pe).min(cols) {
                    let c = even_split(cols, u64::from(num_pe), pe);
                    shards.push(shard(cube as u32, pe as u32, r, c)?);
                }
            }
        }
    }
    Ok(shards)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: u64, end: u64) -> Span {
        Span { start, end }
    }

    /// `(sip, cube, pe, rows, cols, bytes)` of a shard, for compact expectations.
    type Coords = (u32, u32, u32, (u64, u64), (u64, u64), u64);

    fn coords(shards: &[ShardSpec]) -> Vec<Coords> {
        shards
            .iter()
            .map(|s| {
                (
                    s.sip,
                    s.cube,
                    s.pe,
                    (s.rows.start, s.rows.end),
                    (s.cols.start, s.cols.end),
                    s.bytes,
                )
            })
            .collect()
    }

    #[test]
    fn shape_2d_folds_leading_dims_into_rows() {
        assert_eq!(shape_2d(&[]), Some((1, 1)));
        assert_eq!(shape_2d(&[7]), Some((7, 1)));
        assert_eq!(shape_2d(&[2, 3, 5]), Some((6, 5)));
        assert_eq!(shape_2d(&[u64::MAX, 2, 1]), None);
        assert_eq!(shape_2d(&[1 << 32, 0, 1 << 32, 5]), Some((0, 5)));
    }

    #[test]
    fn even_split_gives_the_remainder_to_the_first_parts() {
        let parts: Vec<_> = (0..4).map(|i| even_split(10, 4, i)).collect();
        assert_eq!(parts, [span(0, 3), span(3, 6), span(6, 8), span(8, 10)]);
    }

    #[test]
    fn replicate_puts_a_full_copy_on_pe0_of_every_cube() {
        let s = resolve_dp_policy(DpPolicy::Replicate, (4, 4), 4, 2, 3, 5).unwrap_or_default();
        assert_eq!(
            coords(&s),
            [
                (5, 0, 0, (0, 4), (0, 4), 64),
                (5, 1, 0, (0, 4), (0, 4), 64),
                (5, 2, 0, (0, 4), (0, 4), 64)
            ]
        );
    }

    #[test]
    fn split_rows_hands_bands_to_pes_cube_major() {
        // 10 rows over 2 cubes x 2 PEs: 3, 3, 2, 2 rows.
        let s = resolve_dp_policy(DpPolicy::SplitRows, (10, 8), 2, 2, 2, 1).unwrap_or_default();
        assert_eq!(
            coords(&s),
            [
                (1, 0, 0, (0, 3), (0, 8), 48),
                (1, 0, 1, (3, 6), (0, 8), 48),
                (1, 1, 0, (6, 8), (0, 8), 32),
                (1, 1, 1, (8, 10), (0, 8), 32)
            ]
        );
    }

    #[test]
    fn split_cols_omits_empty_shards() {
        // 3 columns over 4 units: only the first three units get a column.
        let s = resolve_dp_policy(DpPolicy::SplitCols, (2, 3), 4, 2, 2, 0).unwrap_or_default();
        assert_eq!(
            coords(&s),
            [
                (0, 0, 0, (0, 2), (0, 1), 8),
                (0, 0, 1, (0, 2), (1, 2), 8),
                (0, 1, 0, (0, 2), (2, 3), 8)
            ]
        );
    }

    #[test]
    fn blocks_split_rows_over_cubes_and_cols_over_pes() {
        let s = resolve_dp_policy(DpPolicy::Blocks, (5, 4), 4, 2, 2, 3).unwrap_or_default();
        assert_eq!(
            coords(&s),
            [
                (3, 0, 0, (0, 3), (0, 2), 24),
                (3, 0, 1, (0, 3), (2, 4), 24),
                (3, 1, 0, (3, 5), (0, 2), 16),
                (3, 1, 1, (3, 5), (2, 4), 16)
            ]
        );
    }

    #[test]
    fn single_checks_its_coordinates() {
        let s = resolve_dp_policy(DpPolicy::Single { cube: 1, pe: 7 }, (2, 2), 2, 8, 4, 2)
            .unwrap_or_default();
        assert_eq!(coords(&s), [(2, 1, 7, (0, 2), (0, 2), 8)]);
        let err =
            resolve_dp_policy(DpPolicy::Single { cube: 4, pe: 0 }, (2, 2), 2, 8, 4, 2).unwrap_err();
        assert!(
            err.to_string()
                .contains("outside the SIP's 4 cubes x 8 PEs"),
            "{err}"
        );
    }

    #[test]
    fn shard_count_is_what_resolve_gives() {
        let policies = [
            DpPolicy::Replicate,
            DpPolicy::SplitRows,
            DpPolicy::SplitCols,
            DpPolicy::Blocks,
            DpPolicy::Single { cube: 1, pe: 1 },
        ];
        for dp in policies {
            for shape in [(0, 5), (5, 0), (1, 1), (3, 7), (7, 3), (10, 10), (100, 1)] {
                for (pes, cubes) in [(2, 2), (3, 4), (8, 4), (16, 2)] {
                    let shards = resolve_dp_policy(dp, shape, 4, pes, cubes, 0).unwrap();
                    assert_eq!(
                        shard_count(dp, shape, pes, cubes),
                        shards.len() as u64,
                        "{dp} {shape:?} on {cubes} x {pes}"
                    );
                    assert_eq!(shards.capacity(), shards.len(), "{dp} {shape:?}");
                }
            }
        }
    }

    /// ADR-0010 sizes `shards_per_rank` from this: 2^20 entries are 56 MiB of host memory.
    #[test]
    fn a_shard_entry_is_56_bytes() {
        assert_eq!(size_of::<ShardSpec>(), 56);
    }

    #[test]
    fn byte_overflow_is_an_error() {
        let err = resolve_dp_policy(DpPolicy::Replicate, (u64::MAX, 2), 4, 1, 1, 0).unwrap_err();
        assert!(err.to_string().contains("overflows 64 bits"), "{err}");
    }
}
