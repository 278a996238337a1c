//! Compute kernels on real tensor data that are more than elementwise (today: matmul).
//!
//! Numerics follow PyTorch's CPU path so a bench sees the values it would see there:
//! float dtypes accumulate in f32 and round once to the dtype at the end (bf16/f16 matmul
//! on CPU accumulates in float); integer dtypes give the exact result modulo 2^bits (two's
//! complement wrap), which does not depend on the accumulator width.
//!
//! The loop order is i-k-j over f32 (or i32) temporaries, so the inner loop is a
//! contiguous `acc[j] += a[i][p] * b[p][j]` that auto-vectorizes. Each output element is
//! therefore `((0 + a[i][0]·b[0][j]) + a[i][1]·b[1][j]) + ...` in order of p, with every
//! product and sum rounded to f32 (no fused multiply-add): deterministic and easy to
//! reproduce with a naive loop. Allocation is O(k·n + k + n) temporaries plus the output.

use super::dtype::DType;
use super::error::{SimError, invalid};
use super::reduce::{Elem, F32Compute};
use half::{bf16, f16};

/// `a · b` for row-major `a` of `m × k` and `b` of `k × n` elements of `dtype`
/// (little-endian bytes); returns the `m × n` result's bytes.
pub fn matmul(
    dtype: DType,
    a: &[u8],
    b: &[u8],
    m: u64,
    k: u64,
    n: u64,
) -> Result<Vec<u8>, SimError> {
    let (_, out_bytes) = check_operands(dtype, a, b, (m, k, n))?;
    let mut out = zeroed(to_usize(out_bytes)?)?;
    matmul_into(dtype, a, b, (m, k, n), &mut out, &|| false)?;
    Ok(out)
}

/// [`matmul`] into `out` (the result's bytes, already allocated by the caller after its
/// budget checks), row by row; `stop` is asked between rows and ends the op with
/// [`SimError::Interrupted`] when it says so (the run's deadline passed).
pub fn matmul_into(
    dtype: DType,
    a: &[u8],
    b: &[u8],
    (m, k, n): (u64, u64, u64),
    out: &mut [u8],
    stop: &dyn Fn() -> bool,
) -> Result<(), SimError> {
    let item = dtype.itemsize();
    let (dims, out_bytes) = check_operands(dtype, a, b, (m, k, n))?;
    if out.len() as u64 != out_bytes {
        return invalid!(
            "matmul: the result has {} bytes, but [{m}, {n}] {dtype} needs {out_bytes}",
            out.len()
        );
    }
    debug_assert_eq!(out.len() as u64, dims.m as u64 * dims.n as u64 * item);
    match dtype {
        DType::F32 => float_matmul::<f32>(a, b, dims, out, stop),
        DType::BF16 => float_matmul::<bf16>(a, b, dims, out, stop),
        DType::F16 => float_matmul::<f16>(a, b, dims, out, stop),
        DType::I32 => int_matmul::<i32>(a, b, dims, out, stop),
        DType::I8 => int_matmul::<i8>(a, b, dims, out, stop),
        DType::F64 => f64_matmul(a, b, dims, out, stop),
        DType::I64 => int_matmul::<i64>(a, b, dims, out, stop),
        DType::Bool => Err(SimError::Unsupported(
            "matmul of bool tensors: convert them with to(dtype) first".into(),
        )),
    }
}

fn interrupted() -> SimError {
    SimError::Interrupted(
        "the run's wall-clock deadline passed during a host matmul; it was stopped between rows"
            .into(),
    )
}

/// The operands' sizes against their shapes; the dimensions and the result's bytes.
fn check_operands(
    dtype: DType,
    a: &[u8],
    b: &[u8],
    (m, k, n): (u64, u64, u64),
) -> Result<(Dims, u64), SimError> {
    let a_bytes = matrix_bytes("a", m, k, dtype)?;
    let b_bytes = matrix_bytes("b", k, n, dtype)?;
    let out_bytes = matrix_bytes("result", m, n, dtype)?;
    if a.len() as u64 != a_bytes {
        return invalid!(
            "matmul: a has {} bytes, but [{m}, {k}] {dtype} needs {a_bytes}",
            a.len()
        );
    }
    if b.len() as u64 != b_bytes {
        return invalid!(
            "matmul: b has {} bytes, but [{k}, {n}] {dtype} needs {b_bytes}",
            b.len()
        );
    }
    let dims = Dims {
        m: to_usize(m)?,
        k: to_usize(k)?,
        n: to_usize(n)?,
    };
    Ok((dims, out_bytes))
}

#[derive(Debug, Clone, Copy)]
struct Dims {
    m: usize,
    k: usize,
    n: usize,
}

fn matrix_bytes(name: &str, rows: u64, cols: u64, dtype: DType) -> Result<u64, SimError> {
    match rows
        .checked_mul(cols)
        .and_then(|e| e.checked_mul(dtype.itemsize()))
    {
        Some(bytes) => Ok(bytes),
        None => invalid!(
            "matmul: {name} of [{rows}, {cols}] {dtype} overflows 64 bits ({rows} x {cols} x {} bytes)",
            dtype.itemsize()
        ),
    }
}

fn to_usize(v: u64) -> Result<usize, SimError> {
    usize::try_from(v)
        .map_err(|_| SimError::LimitExceeded(format!("matmul: {v} does not fit in host memory")))
}

fn alloc_err(len: usize, what: &str) -> SimError {
    SimError::LimitExceeded(format!(
        "matmul: host memory for {len} {what} is not available"
    ))
}

fn zeroed(len: usize) -> Result<Vec<u8>, SimError> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| alloc_err(len, "result bytes"))?;
    v.resize(len, 0);
    Ok(v)
}

/// Decode `bytes` (whole elements, checked by the caller) into a new Vec of `U`.
fn decode<T: Elem, U>(bytes: &[u8], f: impl Fn(T) -> U) -> Result<Vec<U>, SimError> {
    let count = bytes.len() / T::SIZE;
    let mut v = Vec::new();
    v.try_reserve_exact(count)
        .map_err(|_| alloc_err(count, "temporary elements"))?;
    v.extend(bytes.chunks_exact(T::SIZE).map(|c| f(T::read_le(c))));
    Ok(v)
}

/// The row-by-row kernel every dtype shares: `b` widened once, each row of the result
/// accumulated in `A` (f32 for f32/bf16/f16, f64 for f64, wrapping i64 for integers) with
/// `mul_add(acc, a, b)`, then narrowed back to `T`; `stop` is asked between rows.
#[allow(clippy::too_many_arguments)]
fn matmul_rows<T: Elem, A: Copy + Default>(
    a: &[u8],
    b: &[u8],
    d: Dims,
    out: &mut [u8],
    stop: &dyn Fn() -> bool,
    widen: impl Fn(T) -> A,
    narrow: impl Fn(A) -> T,
    mul_add: impl Fn(A, A, A) -> A,
) -> Result<(), SimError> {
    let bw = decode::<T, A>(b, &widen)?;
    let mut acc = vec![A::default(); d.n];
    let row_bytes = d.k * T::SIZE;
    let out_row_bytes = d.n * T::SIZE;
    for i in 0..d.m {
        if stop() {
            return Err(interrupted());
        }
        acc.fill(A::default());
        let a_row = &a[i * row_bytes..(i + 1) * row_bytes];
        for (p, a_elem) in a_row.chunks_exact(T::SIZE).enumerate() {
            let aip = widen(T::read_le(a_elem));
            let b_row = &bw[p * d.n..(p + 1) * d.n];
            for (c, &bv) in acc.iter_mut().zip(b_row) {
                *c = mul_add(*c, aip, bv);
            }
        }
        let out_row = &mut out[i * out_row_bytes..(i + 1) * out_row_bytes];
        for (o, &c) in out_row.chunks_exact_mut(T::SIZE).zip(&acc) {
            narrow(c).write_le(o);
        }
    }
    Ok(())
}

/// f32, bf16, f16: accumulated in f32, rounded once per result element.
fn float_matmul<T: F32Compute>(
    a: &[u8],
    b: &[u8],
    d: Dims,
    out: &mut [u8],
    stop: &dyn Fn() -> bool,
) -> Result<(), SimError> {
    matmul_rows::<T, f32>(a, b, d, out, stop, T::to_f32, T::from_f32, |c, x, y| {
        c + x * y
    })
}

/// f64: accumulated in f64, as PyTorch does.
fn f64_matmul(
    a: &[u8],
    b: &[u8],
    d: Dims,
    out: &mut [u8],
    stop: &dyn Fn() -> bool,
) -> Result<(), SimError> {
    matmul_rows::<f64, f64>(a, b, d, out, stop, |x| x, |x| x, |c, x, y| c + x * y)
}

/// Integer types: widened to i64, accumulated with wrapping, wrapped back to the type (the
/// low bits: the exact result modulo 2^bits, since wrapping i64 arithmetic is exact modulo
/// 2^64).
trait IntElem: Elem {
    fn widen(self) -> i64;
    fn narrow(v: i64) -> Self;
}

impl IntElem for i64 {
    fn widen(self) -> i64 {
        self
    }
    fn narrow(v: i64) -> Self {
        v
    }
}

impl IntElem for i32 {
    fn widen(self) -> i64 {
        i64::from(self)
    }
    fn narrow(v: i64) -> Self {
        v as i32
    }
}

impl IntElem for i8 {
    fn widen(self) -> i64 {
        i64::from(self)
    }
    fn narrow(v: i64) -> Self {
        v as i8
    }
}

fn int_matmul<T: IntElem>(
    a: &[u8],
    b: &[u8],
    d: Dims,
    out: &mut [u8],
    stop: &dyn Fn() -> bool,
) -> Result<(), SimError> {
    matmul_rows::<T, i64>(a, b, d, out, stop, T::widen, T::narrow, |c, x, y| {
        c.wrapping_add(x.wrapping_mul(y))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn vals(seed: u64, n: usize, dtype: DType) -> Vec<u8> {
        let mut s = seed.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1;
        (0..n)
            .flat_map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                let u = (s >> 11) as f64 / (1u64 << 53) as f64;
                let v = match dtype {
                    DType::I8 => (u * 256.0).floor() - 128.0,
                    DType::I32 => (u * 2.0e9).floor() - 1.0e9,
                    _ => (u - 0.5) * 4.0,
                };
                crate::sim::dtype::scalar_bytes(dtype, v)
            })
            .collect()
    }

    /// Naive i-j-p triple loop, written independently of the kernel.
    fn naive(dtype: DType, a: &[u8], b: &[u8], m: usize, k: usize, n: usize) -> Vec<u8> {
        let item = dtype.itemsize() as usize;
        fn at(buf: &[u8], idx: usize, item: usize) -> &[u8] {
            &buf[idx * item..(idx + 1) * item]
        }
        let mut out = Vec::new();
        for i in 0..m {
            for j in 0..n {
                match dtype {
                    DType::I32 | DType::I8 => {
                        let get = |x: &[u8]| -> i64 {
                            if dtype == DType::I8 {
                                i64::from(x[0] as i8)
                            } else {
                                i64::from(i32::from_le_bytes(x.try_into().unwrap()))
                            }
                        };
                        let mut s: i64 = 0;
                        for p in 0..k {
                            s = s.wrapping_add(get(at(a, i * k + p, item)).wrapping_mul(get(at(
                                b,
                                p * n + j,
                                item,
                            ))));
                        }
                        if dtype == DType::I8 {
                            out.push(s as i8 as u8);
                        } else {
                            out.extend_from_slice(&(s as i32).to_le_bytes());
                        }
                    }
                    _ => {
                        let get = |x: &[u8]| -> f32 {
                            match dtype {
                                DType::F32 => f32::from_le_bytes(x.try_into().unwrap()),
                                DType::BF16 => bf16::from_le_bytes(x.try_into().unwrap()).to_f32(),
                                _ => f16::from_le_bytes(x.try_into().unwrap()).to_f32(),
                            }
                        };
                        let mut s = 0f32;
                        for p in 0..k {
                            s += get(at(a, i * k + p, item)) * get(at(b, p * n + j, item));
                        }
                        match dtype {
                            DType::F32 => out.extend_from_slice(&s.to_le_bytes()),
                            DType::BF16 => out.extend_from_slice(&bf16::from_f32(s).to_le_bytes()),
                            _ => out.extend_from_slice(&f16::from_f32(s).to_le_bytes()),
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn matches_naive_loop_for_every_dtype_and_shape() {
        let shapes = [
            (1, 1, 1),
            (3, 5, 7),
            (7, 3, 5),
            (16, 16, 16),
            (2, 33, 1),
            (1, 9, 31),
            (4, 0, 3),
            (0, 3, 2),
        ];
        for dtype in [DType::F32, DType::BF16, DType::F16, DType::I32, DType::I8] {
            for (i, &(m, k, n)) in shapes.iter().enumerate() {
                let a = vals(i as u64 + 1, m * k, dtype);
                let b = vals(i as u64 + 100, k * n, dtype);
                let got = matmul(dtype, &a, &b, m as u64, k as u64, n as u64).unwrap();
                assert_eq!(got, naive(dtype, &a, &b, m, k, n), "{dtype} {m}x{k}x{n}");
            }
        }
    }

    #[test]
    fn bf16_rounds_once_at_the_end() {
        // [256, 1, 1] · [1, 1, 1]^T: f32 accumulation gives 258, exactly representable in
        // bf16; rounding each partial sum to bf16 would give 256.
        let a: Vec<u8> = [256.0, 1.0, 1.0]
            .iter()
            .flat_map(|&v| crate::sim::dtype::scalar_bytes(DType::BF16, v))
            .collect();
        let b: Vec<u8> = [1.0, 1.0, 1.0]
            .iter()
            .flat_map(|&v| crate::sim::dtype::scalar_bytes(DType::BF16, v))
            .collect();
        let got = matmul(DType::BF16, &a, &b, 1, 3, 1).unwrap();
        assert_eq!(got, crate::sim::dtype::scalar_bytes(DType::BF16, 258.0));
    }

    #[test]
    fn known_small_product() {
        // [[1, 2, 3], [4, 5, 6]] · [[7, 8], [9, 10], [11, 12]] = [[58, 64], [139, 154]]
        let enc = |v: &[f64]| -> Vec<u8> {
            v.iter()
                .flat_map(|&x| crate::sim::dtype::scalar_bytes(DType::I32, x))
                .collect()
        };
        let got = matmul(
            DType::I32,
            &enc(&[1., 2., 3., 4., 5., 6.]),
            &enc(&[7., 8., 9., 10., 11., 12.]),
            2,
            3,
            2,
        );
        assert_eq!(got.unwrap(), enc(&[58., 64., 139., 154.]));
        let i8s = |v: &[i8]| -> Vec<u8> { v.iter().map(|&x| x as u8).collect() };
        // 100·100 + 100·100 = 20000 = 0x4E20, low byte 0x20 = 32.
        let got = matmul(DType::I8, &i8s(&[100, 100]), &i8s(&[100, 100]), 1, 2, 1).unwrap();
        assert_eq!(got, [32]);
    }

    #[test]
    fn wrong_sizes_and_overflow_are_errors() {
        let err = matmul(DType::F32, &[0; 8], &[0; 8], 2, 2, 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "matmul: a has 8 bytes, but [2, 2] float32 needs 16"
        );
        let err = matmul(DType::F32, &[0; 16], &[0; 4], 2, 2, 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "matmul: b has 4 bytes, but [2, 1] float32 needs 8"
        );
        let err = matmul(DType::BF16, &[], &[], 1 << 40, 1 << 30, 1).unwrap_err();
        assert!(err.to_string().contains("overflows 64 bits"), "{err}");
        let err = matmul(DType::I8, &[], &[], 0, 1 << 40, 1 << 40).unwrap_err();
        assert!(
            err.to_string()
                .contains("b of [1099511627776, 1099511627776] int8 overflows"),
            "{err}"
        );
    }
}
