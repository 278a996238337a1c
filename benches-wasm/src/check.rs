//! Exact references for checking collective results in the guest: values are small integers
//! so every dtype holds them exactly, and reductions are replayed in rank order with the
//! host's documented rounding (each step rounded to the dtype, ADR-0009).

use half::{bf16, f16};
use kernbench::torch::{DType, ReduceOp};

/// `x` rounded to `dtype` and widened back to f32. Integers wrap as the host's integer
/// arithmetic does (the values here are whole numbers well inside i64).
pub fn round_to(dtype: DType, x: f32) -> f32 {
    match dtype {
        DType::F32 => x,
        DType::BF16 => bf16::from_f32(x).to_f32(),
        DType::F16 => f16::from_f32(x).to_f32(),
        DType::I32 => x as i64 as i32 as f32,
        DType::I8 => x as i64 as i8 as f32,
    }
}

/// The input element `i` of rank `r` for `op`: in 1..=4 (products: 1 everywhere but rank 0,
/// so no dtype overflows at any world size).
pub fn value(op: ReduceOp, r: u32, i: u64) -> f32 {
    match op {
        ReduceOp::Product if r > 0 => 1.0,
        ReduceOp::Product => (i % 3) as f32 + 1.0,
        _ => ((u64::from(r) + i) % 4) as f32 + 1.0,
    }
}

/// `op` over ranks `0..n` of `value(op, r, i)`, as the host computes it.
pub fn reduced(dtype: DType, op: ReduceOp, n: u32, i: u64) -> f32 {
    let mut acc = round_to(dtype, value(op, 0, i));
    for r in 1..n {
        let x = round_to(dtype, value(op, r, i));
        acc = round_to(
            dtype,
            match op {
                ReduceOp::Sum | ReduceOp::Avg => acc + x,
                ReduceOp::Product => acc * x,
                // The data holds no NaN; `f32::min`/`max` then agree with the host's rule.
                ReduceOp::Min => acc.min(x),
                ReduceOp::Max => acc.max(x),
            },
        );
    }
    if op == ReduceOp::Avg {
        acc = match dtype {
            DType::I32 | DType::I8 => (acc as i64 / i64::from(n)) as f32,
            _ => round_to(dtype, acc / n as f32),
        };
    }
    acc
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
