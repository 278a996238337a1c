//! Exact references for checking collective results in the guest, in closed form: the
//! expected value of an element follows from its index and the world size alone, never from
//! replaying every rank's contribution, so a check costs each rank O(elements) at any world
//! size.
//!
//! The inputs make that possible and keep it exact in every dtype. Rank 0 holds `i % 3 + 1`
//! at element `i` for sums and products; for min (max), rank `i % n` holds `-3 - i % 3`
//! (`3 + i % 3`), below (above) every other value, so the result varies by element and
//! depends on every rank. The other ranks hold 1 in a product and `PATTERN[(r + i) % 4]`
//! otherwise, four values that sum to zero. Every partial result of a reduction in rank
//! order then lies in -5..=6, which every dtype holds exactly: none of the host's per-step
//! rounding (bf16/f16 rounded to the dtype after each step, integers wrapping, ADR-0009) ever
//! changes a value, at any world size, so rounding the closed form once is what the host
//! computes.
//! Avg divides the sum once, as the host does: floats in f32 rounded to the dtype, integers
//! truncating toward zero.

use half::{bf16, f16};
use kernbench::torch::{DType, ReduceOp};

/// The values of ranks 1.. (not in products), repeating every 4 ranks: distinct, and their
/// sum is zero, so partial sums stay small.
const PATTERN: [f32; 4] = [1.0, 2.0, -1.0, -2.0];

/// `x` rounded to `dtype` and widened back to f32. Integers wrap as the host's integer
/// arithmetic does (the values here are whole numbers well inside i64).
pub fn round_to(dtype: DType, x: f32) -> f32 {
    match dtype {
        DType::F32 => x,
        DType::BF16 => bf16::from_f32(x).to_f32(),
        DType::F16 => f16::from_f32(x).to_f32(),
        DType::I32 => x as i64 as i32 as f32,
        DType::I8 => x as i64 as i8 as f32,
        DType::F64 => x,
        DType::I64 => x as i64 as f32,
        // The sweeps refuse bool (`-d`); a mask holds 0 or 1.
        DType::Bool => f32::from(u8::from(x != 0.0)),
    }
}

/// The input element `i` of rank `r` of `n` for `op` (see the module doc).
pub fn value(op: ReduceOp, n: u32, r: u32, i: u64) -> f32 {
    let extreme = u64::from(r) == i % u64::from(n.max(1));
    let third = (i % 3) as f32;
    match op {
        ReduceOp::Min if extreme => -3.0 - third,
        ReduceOp::Max if extreme => 3.0 + third,
        ReduceOp::Sum | ReduceOp::Avg | ReduceOp::Product if r == 0 => 1.0 + third,
        ReduceOp::Product => 1.0,
        _ => PATTERN[((u64::from(r) + i) % 4) as usize],
    }
}

/// `op` over ranks `0..n` of `value(op, n, r, i)`, as the host computes it, in O(1).
pub fn reduced(dtype: DType, op: ReduceOp, n: u32, i: u64) -> f32 {
    let third = (i % 3) as f32;
    // Ranks 1..n hold PATTERN from phase (1 + i) % 4 on; whole periods add up to zero.
    let others = u64::from(n.saturating_sub(1));
    let held = |k: u64| PATTERN[((1 + i + k) % 4) as usize];
    let exact = match op {
        ReduceOp::Product => 1.0 + third,
        ReduceOp::Sum | ReduceOp::Avg => 1.0 + third + (0..others % 4).map(held).sum::<f32>(),
        ReduceOp::Min => -3.0 - third,
        ReduceOp::Max => 3.0 + third,
    };
    let acc = round_to(dtype, exact);
    if op != ReduceOp::Avg {
        return acc;
    }
    match dtype {
        DType::I32 | DType::I8 | DType::I64 => (acc as i64 / i64::from(n)) as f32,
        _ => round_to(dtype, acc / n as f32),
    }
}

/// Elements of `got` that differ from `expected(i)`: how many, and the first five described.
#[derive(Debug, Default)]
pub struct Mismatches {
    /// How many elements differ.
    pub count: u64,
    /// The first few, as `[i] = got, expected x`.
    pub samples: Vec<String>,
}

/// Compare `got` with `expected(i)` element by element, exactly.
pub fn mismatches(got: &[f32], expected: impl Fn(u64) -> f32) -> Mismatches {
    let mut m = Mismatches::default();
    for (i, &g) in got.iter().enumerate() {
        let want = expected(i as u64);
        // Equal values (or both NaN): the reference follows the host's rounding exactly.
        if g != want && !(g.is_nan() && want.is_nan()) {
            m.count += 1;
            if m.samples.len() < 5 {
                m.samples.push(format!("[{i}] = {g}, expected {want}"));
            }
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    const DTYPES: [DType; 5] = [DType::F32, DType::BF16, DType::F16, DType::I32, DType::I8];
    const OPS: [ReduceOp; 5] = [
        ReduceOp::Sum,
        ReduceOp::Avg,
        ReduceOp::Product,
        ReduceOp::Min,
        ReduceOp::Max,
    ];

    /// The host's semantics step by step: rank order, each step rounded to the dtype.
    fn replayed(dtype: DType, op: ReduceOp, n: u32, i: u64) -> f32 {
        let mut acc = round_to(dtype, value(op, n, 0, i));
        for r in 1..n {
            let x = round_to(dtype, value(op, n, r, i));
            acc = round_to(
                dtype,
                match op {
                    ReduceOp::Sum | ReduceOp::Avg => acc + x,
                    ReduceOp::Product => acc * x,
                    ReduceOp::Min => acc.min(x),
                    ReduceOp::Max => acc.max(x),
                },
            );
        }
        if op == ReduceOp::Avg {
            acc = match dtype {
                DType::I32 | DType::I8 | DType::I64 => (acc as i64 / i64::from(n)) as f32,
                _ => round_to(dtype, acc / n as f32),
            };
        }
        acc
    }

    #[test]
    fn closed_form_matches_the_step_by_step_reduction() {
        let worlds = (1..=70).chain([255, 256, 257, 1000, 2049, 16384]);
        for n in worlds {
            for dtype in DTYPES {
                for op in OPS {
                    for i in 0..24 {
                        assert_eq!(
                            reduced(dtype, op, n, i).to_bits(),
                            replayed(dtype, op, n, i).to_bits(),
                            "{dtype:?} {op:?} n={n} i={i}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn results_depend_on_the_element_and_on_every_rank() {
        // A host that returns a constant, or drops one rank's data, cannot pass a check.
        for op in OPS {
            for n in 1..40 {
                let row: Vec<f32> = (0..12).map(|i| reduced(DType::F32, op, n, i)).collect();
                assert!(row.windows(2).any(|w| w[0] != w[1]), "{op:?} n={n}");
                for dropped in 0..n {
                    let without = |i| {
                        let mut acc: Option<f32> = None;
                        for r in (0..n).filter(|&r| r != dropped) {
                            let x = value(op, n, r, i);
                            acc = Some(acc.map_or(x, |a| match op {
                                ReduceOp::Sum | ReduceOp::Avg => a + x,
                                ReduceOp::Product => a * x,
                                ReduceOp::Min => a.min(x),
                                ReduceOp::Max => a.max(x),
                            }));
                        }
                        acc
                    };
                    let exact = |i| match op {
                        ReduceOp::Avg => reduced(DType::F32, ReduceOp::Sum, n, i),
                        _ => reduced(DType::F32, op, n, i),
                    };
                    // Products ignore ranks holding 1: only rank 0 can be missed there.
                    if op != ReduceOp::Product || dropped == 0 {
                        assert!(
                            (0..2 * u64::from(n) + 12).any(|i| without(i) != Some(exact(i))),
                            "{op:?} n={n}: dropping rank {dropped} goes unnoticed"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn mismatches_counts_and_describes_differences() {
        let m = mismatches(&[1.0, 5.0, 3.0, f32::NAN], |i| {
            [1.0, 2.0, 3.0, f32::NAN][i as usize]
        });
        assert_eq!(
            (m.count, m.samples),
            (1, vec!["[1] = 5, expected 2".to_owned()])
        );
    }
}
