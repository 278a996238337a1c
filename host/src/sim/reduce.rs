//! Elementwise arithmetic on little-endian tensor bytes: the reduction operators of the
//! collectives and the kernels of local tensor ops.
//!
//! Collective results must be bit-for-bit reproducible, so the semantics are fixed here
//! rather than left to whatever order or width a fast path happens to use:
//!
//! - **Order.** A reduction over members runs in member (rank) order: the accumulator starts
//!   as member 0's data, then member 1's is combined into it, and so on. The same inputs
//!   always give the same bits.
//! - **f32**: native IEEE f32 operations (no fused multiply-add).
//! - **bf16 / f16**: every step converts both operands to f32, computes in f32, and rounds the
//!   result back to the 16-bit type (round to nearest even, via `half`). This per-step rounding
//!   is what PyTorch's CPU (gloo) path does, where `c10::BFloat16 + c10::BFloat16` computes in
//!   float and rounds the result.
//! - **i32 / i8**: sum and product wrap (two's complement); min and max are exact.
//! - **Min / Max with NaN** propagate NaN, as `torch.minimum` / `torch.maximum` do: if the
//!   accumulator is NaN it stays; otherwise a NaN operand replaces it. Ties (including −0 vs
//!   +0) keep the accumulator, i.e. the lower rank's value. For bf16/f16 the comparison is made
//!   in f32 (exact) and the winning operand is kept unchanged, so min/max never round.
//! - **Avg** accumulates as Sum; [`finish_avg`] then divides by the member count: floats
//!   divide in f32 (n converted to f32, exact up to 2^24) and round once to the dtype; integers
//!   divide the (wrapped) sum truncating toward zero, as NCCL's integer average does. (NCCL
//!   pre-multiplies float inputs by 1/n instead; we divide once, which is the correctly rounded
//!   quotient of the sum.)
//!
//! Speed: each public function matches on (dtype, op) once and then runs one monomorphic
//! loop. When the buffers are aligned for the element type (the simulator's are 8-byte
//! aligned) the loop works on typed slices and auto-vectorizes; misaligned buffers fall back
//! to a chunked `from_le_bytes` loop with identical results. The 16-bit types widen and
//! narrow in chunks of 256 elements through f32 stack buffers: f16 with `half`'s slice
//! conversions (F16C when the CPU has it), bf16 with branch-free copies of `half`'s
//! conversions that vectorize (bit-identical to `half`: checked here over every bf16 and
//! every rounding case, and offline over all 2^32 f32 inputs).

use super::dtype::DType;
use super::error::{SimError, invalid};
use half::slice::HalfFloatSliceExt;
use half::{bf16, f16};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A reduction operator of the collectives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReduceOp {
    /// Elementwise sum.
    Sum,
    /// Sum, then divided by the member count ([`finish_avg`]).
    Avg,
    /// Elementwise product.
    Product,
    /// Elementwise minimum (NaN propagates).
    Min,
    /// Elementwise maximum (NaN propagates).
    Max,
}

impl ReduceOp {
    /// Every operator, in declaration order.
    pub const ALL: [ReduceOp; 5] = [
        ReduceOp::Sum,
        ReduceOp::Avg,
        ReduceOp::Product,
        ReduceOp::Min,
        ReduceOp::Max,
    ];

    /// The name as nccl-tests prints it: `sum`, `avg`, `prod`, `min`, `max`.
    pub const fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "sum",
            ReduceOp::Avg => "avg",
            ReduceOp::Product => "prod",
            ReduceOp::Min => "min",
            ReduceOp::Max => "max",
        }
    }
}

impl fmt::Display for ReduceOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An elementwise binary kernel of local tensor ops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinaryOp {
    /// `a + b`.
    Add,
    /// `a * b`.
    Mul,
}

/// `acc = acc op x` elementwise (Avg accumulates as Sum). Both buffers must hold the same
/// whole number of `dtype` elements.
pub fn reduce_assign(dtype: DType, op: ReduceOp, acc: &mut [u8], x: &[u8]) -> Result<(), SimError> {
    check_pair("reduce", dtype, acc.len(), x.len())?;
    match dtype {
        DType::F32 => reduce_f32(op, acc, x),
        DType::BF16 => reduce_half::<bf16>(op, acc, x),
        DType::F16 => reduce_half::<f16>(op, acc, x),
        DType::I32 => reduce_int::<i32>(op, acc, x),
        DType::I8 => reduce_int::<i8>(op, acc, x),
    }
    Ok(())
}

/// `acc += x` elementwise, with the Sum semantics of [`reduce_assign`].
pub fn add_assign(dtype: DType, acc: &mut [u8], x: &[u8]) -> Result<(), SimError> {
    reduce_assign(dtype, ReduceOp::Sum, acc, x)
}

/// Finish an Avg reduction over `n` members: divide every element of `acc` by `n`.
pub fn finish_avg(dtype: DType, acc: &mut [u8], n: u32) -> Result<(), SimError> {
    check_whole("avg", dtype, acc.len())?;
    if n == 0 {
        return invalid!("avg over 0 members is undefined");
    }
    let nf = n as f32;
    let ni = i64::from(n);
    match dtype {
        DType::F32 => map1_assign::<f32>(acc, |a| a / nf),
        DType::BF16 => half_map1::<bf16>(acc, |a| a / nf),
        DType::F16 => half_map1::<f16>(acc, |a| a / nf),
        // |sum| <= 2^31 and n >= 1, so the quotient fits the type again.
        DType::I32 => map1_assign::<i32>(acc, |a| (i64::from(a) / ni) as i32),
        DType::I8 => map1_assign::<i8>(acc, |a| (i64::from(a) / ni) as i8),
    }
    Ok(())
}

/// `out = a op b` elementwise. All three buffers must hold the same whole number of elements.
/// Floats follow the per-step rules of the module doc (bf16/f16 compute in f32 and round);
/// integers wrap.
pub fn binary_into(
    dtype: DType,
    op: BinaryOp,
    a: &[u8],
    b: &[u8],
    out: &mut [u8],
) -> Result<(), SimError> {
    check_pair(binary_name(op), dtype, a.len(), b.len())?;
    if out.len() != a.len() {
        return invalid!(
            "{}: output buffer is {} bytes but the operands are {} bytes",
            binary_name(op),
            out.len(),
            a.len()
        );
    }
    match (dtype, op) {
        (DType::F32, BinaryOp::Add) => map2_into::<f32>(a, b, out, |x, y| x + y),
        (DType::F32, BinaryOp::Mul) => map2_into::<f32>(a, b, out, |x, y| x * y),
        (DType::BF16, op) => binary_half::<bf16>(op, a, b, out),
        (DType::F16, op) => binary_half::<f16>(op, a, b, out),
        (DType::I32, BinaryOp::Add) => map2_into::<i32>(a, b, out, i32::wrapping_add),
        (DType::I32, BinaryOp::Mul) => map2_into::<i32>(a, b, out, i32::wrapping_mul),
        (DType::I8, BinaryOp::Add) => map2_into::<i8>(a, b, out, i8::wrapping_add),
        (DType::I8, BinaryOp::Mul) => map2_into::<i8>(a, b, out, i8::wrapping_mul),
    }
    Ok(())
}

/// `data *= factor` elementwise. Floats multiply in f32 (`factor` rounded to f32 first) and
/// round to the dtype; integers multiply as f64 and convert back truncating toward zero and
/// saturating, as Rust's `as` does (NaN becomes 0).
pub fn scale_assign(dtype: DType, data: &mut [u8], factor: f64) -> Result<(), SimError> {
    check_whole("scale", dtype, data.len())?;
    let f = factor as f32;
    match dtype {
        DType::F32 => map1_assign::<f32>(data, |a| a * f),
        DType::BF16 => half_map1::<bf16>(data, |a| a * f),
        DType::F16 => half_map1::<f16>(data, |a| a * f),
        DType::I32 => map1_assign::<i32>(data, |a| (f64::from(a) * factor) as i32),
        DType::I8 => map1_assign::<i8>(data, |a| (f64::from(a) * factor) as i8),
    }
    Ok(())
}

fn binary_name(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Add => "add",
        BinaryOp::Mul => "mul",
    }
}

fn check_whole(what: &str, dtype: DType, len: usize) -> Result<(), SimError> {
    let item = dtype.itemsize() as usize;
    if !len.is_multiple_of(item) {
        return invalid!(
            "{what}: a buffer of {len} bytes is not a whole number of {dtype} elements ({item} bytes each)"
        );
    }
    Ok(())
}

fn check_pair(what: &str, dtype: DType, left: usize, right: usize) -> Result<(), SimError> {
    if left != right {
        return invalid!("{what}: operands differ in size ({left} bytes vs {right} bytes)");
    }
    check_whole(what, dtype, left)
}

/// Whether Min replaces the accumulator `a` by the operand `b`: NaN propagates (a NaN
/// accumulator stays, a NaN operand wins), ties keep the accumulator.
#[inline(always)]
fn min_takes(a: f32, b: f32) -> bool {
    !a.is_nan() && (b.is_nan() || b < a)
}

/// Whether Max replaces the accumulator `a` by the operand `b` (as [`min_takes`]).
#[inline(always)]
fn max_takes(a: f32, b: f32) -> bool {
    !a.is_nan() && (b.is_nan() || b > a)
}

fn reduce_f32(op: ReduceOp, acc: &mut [u8], x: &[u8]) {
    match op {
        ReduceOp::Sum | ReduceOp::Avg => map2_assign::<f32>(acc, x, |a, b| a + b),
        ReduceOp::Product => map2_assign::<f32>(acc, x, |a, b| a * b),
        ReduceOp::Min => map2_assign::<f32>(acc, x, |a, b| if min_takes(a, b) { b } else { a }),
        ReduceOp::Max => map2_assign::<f32>(acc, x, |a, b| if max_takes(a, b) { b } else { a }),
    }
}

fn reduce_half<T: HalfFloat>(op: ReduceOp, acc: &mut [u8], x: &[u8]) {
    match op {
        ReduceOp::Sum | ReduceOp::Avg => half_assign::<T>(acc, x, |a, b| a + b),
        ReduceOp::Product => half_assign::<T>(acc, x, |a, b| a * b),
        ReduceOp::Min => half_select::<T>(acc, x, min_takes),
        ReduceOp::Max => half_select::<T>(acc, x, max_takes),
    }
}

fn reduce_int<T: WrappingInt>(op: ReduceOp, acc: &mut [u8], x: &[u8]) {
    match op {
        ReduceOp::Sum | ReduceOp::Avg => map2_assign::<T>(acc, x, T::wrapping_add),
        ReduceOp::Product => map2_assign::<T>(acc, x, T::wrapping_mul),
        ReduceOp::Min => map2_assign::<T>(acc, x, Ord::min),
        ReduceOp::Max => map2_assign::<T>(acc, x, Ord::max),
    }
}

fn binary_half<T: HalfFloat>(op: BinaryOp, a: &[u8], b: &[u8], out: &mut [u8]) {
    match op {
        BinaryOp::Add => half_into::<T>(a, b, out, |x, y| x + y),
        BinaryOp::Mul => half_into::<T>(a, b, out, |x, y| x * y),
    }
}

/// An element type stored little-endian in tensor bytes.
pub(super) trait Elem: bytemuck::Pod {
    /// Bytes per element.
    const SIZE: usize;
    /// Decode one element from exactly `SIZE` little-endian bytes.
    fn read_le(bytes: &[u8]) -> Self;
    /// Encode into exactly `SIZE` bytes.
    fn write_le(self, bytes: &mut [u8]);
}

macro_rules! impl_elem {
    ($($t:ty),*) => {$(
        impl Elem for $t {
            const SIZE: usize = size_of::<$t>();
            #[inline(always)]
            fn read_le(bytes: &[u8]) -> Self {
                let mut raw = [0u8; size_of::<$t>()];
                raw.copy_from_slice(bytes);
                <$t>::from_le_bytes(raw)
            }
            #[inline(always)]
            fn write_le(self, bytes: &mut [u8]) {
                bytes.copy_from_slice(&self.to_le_bytes());
            }
        }
    )*};
}
impl_elem!(f32, bf16, f16, i32, i8);

/// A float type computed through f32: f32 itself (identity) and the 16-bit types.
pub(super) trait F32Compute: Elem {
    /// Widen to f32 (exact).
    fn to_f32(self) -> f32;
    /// Round from f32 (nearest even).
    fn from_f32(value: f32) -> Self;
}

impl F32Compute for f32 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self
    }
    #[inline(always)]
    fn from_f32(value: f32) -> Self {
        value
    }
}

/// The 16-bit float types, with `half`'s slice conversions (F16C / NEON when the CPU has
/// them; bit-identical to the scalar conversions).
trait HalfFloat: F32Compute {
    /// `dst[i] = src[i]` widened; equal lengths.
    fn widen(src: &[Self], dst: &mut [f32]);
    /// `dst[i] = src[i]` rounded to nearest even; equal lengths.
    fn narrow(src: &[f32], dst: &mut [Self]);
}

impl F32Compute for f16 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        f16::to_f32(self)
    }
    #[inline(always)]
    fn from_f32(value: f32) -> Self {
        f16::from_f32(value)
    }
}

impl HalfFloat for f16 {
    #[inline(always)]
    fn widen(src: &[Self], dst: &mut [f32]) {
        src.convert_to_f32_slice(dst);
    }
    #[inline(always)]
    fn narrow(src: &[f32], dst: &mut [Self]) {
        dst.convert_from_f32_slice(src);
    }
}

/// `half`'s bf16 -> f32 (a NaN gets its quiet bit set), without branches so loops vectorize.
#[inline(always)]
fn bf16_to_f32(value: bf16) -> f32 {
    let bits = u32::from(value.to_bits());
    let quiet = if bits & 0x7FFF > 0x7F80 { 0x0040 } else { 0 };
    f32::from_bits((bits | quiet) << 16)
}

/// `half`'s f32 -> bf16, round to nearest even (a NaN keeps its high mantissa bits and gets
/// its quiet bit set), without branches so loops vectorize. Adding `0x7FFF + lsb` carries
/// into bit 16 exactly when round-to-nearest-even rounds up.
#[inline(always)]
fn f32_to_bf16(value: f32) -> bf16 {
    let x = value.to_bits();
    let rounded = x.wrapping_add(0x7FFF + ((x >> 16) & 1)) >> 16;
    let nan = (x >> 16) | 0x0040;
    bf16::from_bits(
        (if x & 0x7FFF_FFFF > 0x7F80_0000 {
            nan
        } else {
            rounded
        }) as u16,
    )
}

impl F32Compute for bf16 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        bf16_to_f32(self)
    }
    #[inline(always)]
    fn from_f32(value: f32) -> Self {
        f32_to_bf16(value)
    }
}

impl HalfFloat for bf16 {
    #[inline(always)]
    fn widen(src: &[Self], dst: &mut [f32]) {
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = bf16_to_f32(s);
        }
    }
    #[inline(always)]
    fn narrow(src: &[f32], dst: &mut [Self]) {
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = f32_to_bf16(s);
        }
    }
}

/// The integer types, with wrapping arithmetic.
trait WrappingInt: Elem + Ord {
    fn wrapping_add(self, other: Self) -> Self;
    fn wrapping_mul(self, other: Self) -> Self;
}

macro_rules! impl_wrapping {
    ($($t:ty),*) => {$(
        impl WrappingInt for $t {
            #[inline(always)]
            fn wrapping_add(self, other: Self) -> Self {
                <$t>::wrapping_add(self, other)
            }
            #[inline(always)]
            fn wrapping_mul(self, other: Self) -> Self {
                <$t>::wrapping_mul(self, other)
            }
        }
    )*};
}
impl_wrapping!(i32, i8);

/// The bytes as a typed slice, when the host is little-endian and they are aligned.
#[inline(always)]
fn typed<T: bytemuck::Pod>(bytes: &[u8]) -> Option<&[T]> {
    if cfg!(target_endian = "little") {
        bytemuck::try_cast_slice(bytes).ok()
    } else {
        None
    }
}

/// [`typed`], writable.
#[inline(always)]
fn typed_mut<T: bytemuck::Pod>(bytes: &mut [u8]) -> Option<&mut [T]> {
    if cfg!(target_endian = "little") {
        bytemuck::try_cast_slice_mut(bytes).ok()
    } else {
        None
    }
}

/// 16-bit elements converted per step on the 16-bit paths (f32 chunks live on the stack).
const HALF_CHUNK: usize = 256;

/// `acc[i] = round(g(acc[i], x[i]))` with `g` computed in f32; lengths checked by the caller.
fn half_assign<T: HalfFloat>(acc: &mut [u8], x: &[u8], g: impl Fn(f32, f32) -> f32) {
    if let (Some(acc), Some(x)) = (typed_mut::<T>(acc), typed::<T>(x)) {
        let (mut fa, mut fb) = ([0f32; HALF_CHUNK], [0f32; HALF_CHUNK]);
        for (ac, xc) in acc.chunks_mut(HALF_CHUNK).zip(x.chunks(HALF_CHUNK)) {
            let (fa, fb) = (&mut fa[..ac.len()], &mut fb[..ac.len()]);
            T::widen(ac, fa);
            T::widen(xc, fb);
            for (a, &b) in fa.iter_mut().zip(fb.iter()) {
                *a = g(*a, b);
            }
            T::narrow(fa, ac);
        }
        return;
    }
    map2_assign::<T>(acc, x, |a, b| T::from_f32(g(a.to_f32(), b.to_f32())));
}

/// `acc[i] = x[i]` where `take(acc[i], x[i])` compared in f32; values are never rounded.
fn half_select<T: HalfFloat>(acc: &mut [u8], x: &[u8], take: impl Fn(f32, f32) -> bool) {
    if let (Some(acc), Some(x)) = (typed_mut::<T>(acc), typed::<T>(x)) {
        let (mut fa, mut fb) = ([0f32; HALF_CHUNK], [0f32; HALF_CHUNK]);
        for (ac, xc) in acc.chunks_mut(HALF_CHUNK).zip(x.chunks(HALF_CHUNK)) {
            let (fa, fb) = (&mut fa[..ac.len()], &mut fb[..ac.len()]);
            T::widen(ac, fa);
            T::widen(xc, fb);
            for ((a, &b), (&va, &vb)) in ac.iter_mut().zip(xc).zip(fa.iter().zip(fb.iter())) {
                if take(va, vb) {
                    *a = b;
                }
            }
        }
        return;
    }
    map2_assign::<T>(
        acc,
        x,
        |a, b| if take(a.to_f32(), b.to_f32()) { b } else { a },
    );
}

/// `out[i] = round(g(a[i], b[i]))` with `g` computed in f32; lengths checked by the caller.
fn half_into<T: HalfFloat>(a: &[u8], b: &[u8], out: &mut [u8], g: impl Fn(f32, f32) -> f32) {
    if let (Some(a), Some(b), Some(out)) = (typed::<T>(a), typed::<T>(b), typed_mut::<T>(out)) {
        let (mut fa, mut fb) = ([0f32; HALF_CHUNK], [0f32; HALF_CHUNK]);
        for ((oc, ac), bc) in out
            .chunks_mut(HALF_CHUNK)
            .zip(a.chunks(HALF_CHUNK))
            .zip(b.chunks(HALF_CHUNK))
        {
            let (fa, fb) = (&mut fa[..oc.len()], &mut fb[..oc.len()]);
            T::widen(ac, fa);
            T::widen(bc, fb);
            for (x, &y) in fa.iter_mut().zip(fb.iter()) {
                *x = g(*x, y);
            }
            T::narrow(fa, oc);
        }
        return;
    }
    map2_into::<T>(a, b, out, |x, y| T::from_f32(g(x.to_f32(), y.to_f32())));
}

/// `data[i] = round(g(data[i]))` with `g` computed in f32; length checked by the caller.
fn half_map1<T: HalfFloat>(data: &mut [u8], g: impl Fn(f32) -> f32) {
    if let Some(data) = typed_mut::<T>(data) {
        let mut fa = [0f32; HALF_CHUNK];
        for dc in data.chunks_mut(HALF_CHUNK) {
            let fa = &mut fa[..dc.len()];
            T::widen(dc, fa);
            for x in fa.iter_mut() {
                *x = g(*x);
            }
            T::narrow(fa, dc);
        }
        return;
    }
    map1_assign::<T>(data, |a| T::from_f32(g(a.to_f32())));
}

/// `acc[i] = f(acc[i], x[i])`; lengths are checked by the caller.
#[inline(always)]
fn map2_assign<T: Elem>(acc: &mut [u8], x: &[u8], f: impl Fn(T, T) -> T) {
    if let (Some(acc), Some(x)) = (typed_mut::<T>(acc), typed::<T>(x)) {
        for (a, &b) in acc.iter_mut().zip(x) {
            *a = f(*a, b);
        }
        return;
    }
    for (a, b) in acc.chunks_exact_mut(T::SIZE).zip(x.chunks_exact(T::SIZE)) {
        f(T::read_le(a), T::read_le(b)).write_le(a);
    }
}

/// `out[i] = f(a[i], b[i])`; lengths are checked by the caller.
#[inline(always)]
fn map2_into<T: Elem>(a: &[u8], b: &[u8], out: &mut [u8], f: impl Fn(T, T) -> T) {
    if let (Some(a), Some(b), Some(out)) = (typed::<T>(a), typed::<T>(b), typed_mut::<T>(out)) {
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
            *o = f(x, y);
        }
        return;
    }
    for ((o, x), y) in out
        .chunks_exact_mut(T::SIZE)
        .zip(a.chunks_exact(T::SIZE))
        .zip(b.chunks_exact(T::SIZE))
    {
        f(T::read_le(x), T::read_le(y)).write_le(o);
    }
}

/// `data[i] = f(data[i])`; the length is checked by the caller.
#[inline(always)]
fn map1_assign<T: Elem>(data: &mut [u8], f: impl Fn(T) -> T) {
    if let Some(data) = typed_mut::<T>(data) {
        for a in data {
            *a = f(*a);
        }
        return;
    }
    for a in data.chunks_exact_mut(T::SIZE) {
        f(T::read_le(a)).write_le(a);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const DTYPES: [DType; 5] = [DType::F32, DType::BF16, DType::F16, DType::I32, DType::I8];

    /// Deterministic pseudo-random values (xorshift), spread over a dtype-friendly range.
    fn values(seed: u64, n: usize, dtype: DType) -> Vec<f64> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                let u = (s >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
                match dtype {
                    DType::I8 => (u * 256.0).floor() - 128.0,
                    DType::I32 => (u * 4.0e9).floor() - 2.0e9,
                    _ => (u - 0.5) * 8.0,
                }
            })
            .collect()
    }

    fn encode(dtype: DType, vals: &[f64]) -> Vec<u8> {
        vals.iter().flat_map(|&v| dtype.scalar_bytes(v)).collect()
    }

    /// A copy of `bytes` starting one byte into a fresh buffer, so typed casts fail.
    fn unaligned(bytes: &[u8]) -> (Vec<u8>, std::ops::Range<usize>) {
        let mut buf = Vec::with_capacity(bytes.len() + 8);
        let base = buf.as_ptr() as usize;
        let pad = usize::from(base.is_multiple_of(2));
        buf.resize(pad, 0);
        buf.extend_from_slice(bytes);
        (buf, pad..pad + bytes.len())
    }

    // Independent scalar references, one element at a time (NaN first, then the comparison,
    // spelled out separately on purpose).
    #[allow(clippy::if_same_then_else)]
    fn ref_f32(op: ReduceOp, a: f32, b: f32) -> f32 {
        match op {
            ReduceOp::Sum | ReduceOp::Avg => a + b,
            ReduceOp::Product => a * b,
            ReduceOp::Min => {
                if a.is_nan() {
                    a
                } else if b.is_nan() {
                    b
                } else if b < a {
                    b
                } else {
                    a
                }
            }
            ReduceOp::Max => {
                if a.is_nan() {
                    a
                } else if b.is_nan() {
                    b
                } else if b > a {
                    b
                } else {
                    a
                }
            }
        }
    }

    fn ref_elem(dtype: DType, op: ReduceOp, a: &[u8], b: &[u8]) -> Vec<u8> {
        match dtype {
            DType::F32 => {
                let (a, b) = (
                    f32::from_le_bytes(a.try_into().unwrap()),
                    f32::from_le_bytes(b.try_into().unwrap()),
                );
                ref_f32(op, a, b).to_le_bytes().to_vec()
            }
            DType::BF16 => {
                let (a, b) = (
                    bf16::from_le_bytes(a.try_into().unwrap()),
                    bf16::from_le_bytes(b.try_into().unwrap()),
                );
                let r = match op {
                    ReduceOp::Sum | ReduceOp::Avg => a + b, // half: f32 compute, round once
                    ReduceOp::Product => a * b,
                    _ => bf16::from_f32(ref_f32(op, a.to_f32(), b.to_f32())),
                };
                r.to_le_bytes().to_vec()
            }
            DType::F16 => {
                let (a, b) = (
                    f16::from_le_bytes(a.try_into().unwrap()),
                    f16::from_le_bytes(b.try_into().unwrap()),
                );
                let r = match op {
                    ReduceOp::Sum | ReduceOp::Avg => a + b,
                    ReduceOp::Product => a * b,
                    _ => f16::from_f32(ref_f32(op, a.to_f32(), b.to_f32())),
                };
                r.to_le_bytes().to_vec()
            }
            DType::I32 => {
                let (a, b) = (
                    i32::from_le_bytes(a.try_into().unwrap()),
                    i32::from_le_bytes(b.try_into().unwrap()),
                );
                let r = match op {
                    ReduceOp::Sum | ReduceOp::Avg => a.wrapping_add(b),
                    ReduceOp::Product => a.wrapping_mul(b),
                    ReduceOp::Min => a.min(b),
                    ReduceOp::Max => a.max(b),
                };
                r.to_le_bytes().to_vec()
            }
            DType::I8 => {
                let (a, b) = (a[0] as i8, b[0] as i8);
                let r = match op {
                    ReduceOp::Sum | ReduceOp::Avg => a.wrapping_add(b),
                    ReduceOp::Product => a.wrapping_mul(b),
                    ReduceOp::Min => a.min(b),
                    ReduceOp::Max => a.max(b),
                };
                vec![r as u8]
            }
        }
    }

    fn reference(dtype: DType, op: ReduceOp, acc: &[u8], x: &[u8]) -> Vec<u8> {
        let item = dtype.itemsize() as usize;
        acc.chunks(item)
            .zip(x.chunks(item))
            .flat_map(|(a, b)| ref_elem(dtype, op, a, b))
            .collect()
    }

    #[test]
    fn bf16_conversions_match_half_bit_for_bit() {
        // Every bf16 pattern widens as half does; every f32 whose high half is any pattern
        // and whose low half hits each rounding case (and some others) narrows as half does.
        for hi in 0..=u16::MAX {
            let b = bf16::from_bits(hi);
            assert_eq!(bf16_to_f32(b).to_bits(), b.to_f32().to_bits(), "{hi:#06x}");
            for lo in [0u32, 1, 0x3FFF, 0x7FFF, 0x8000, 0x8001, 0xC000, 0xFFFF] {
                let x = f32::from_bits((u32::from(hi) << 16) | lo);
                assert_eq!(
                    f32_to_bf16(x).to_bits(),
                    bf16::from_f32(x).to_bits(),
                    "{:#010x}",
                    x.to_bits()
                );
            }
        }
    }

    #[test]
    fn names_match_nccl_tests() {
        let names: Vec<_> = ReduceOp::ALL.iter().map(|op| op.name()).collect();
        assert_eq!(names, ["sum", "avg", "prod", "min", "max"]);
        assert_eq!(
            serde_json::to_string(&ReduceOp::Product).unwrap(),
            "\"product\""
        );
    }

    #[test]
    fn every_dtype_and_op_matches_the_scalar_reference() {
        for dtype in DTYPES {
            for op in ReduceOp::ALL {
                for n in [1usize, 7, 1001] {
                    let a = encode(dtype, &values(1 + n as u64, n, dtype));
                    let b = encode(dtype, &values(1000 + n as u64, n, dtype));
                    let want = reference(dtype, op, &a, &b);
                    let mut got = a.clone();
                    reduce_assign(dtype, op, &mut got, &b).unwrap();
                    assert_eq!(got, want, "{dtype} {op} n={n}");
                }
            }
        }
    }

    #[test]
    fn unaligned_buffers_give_the_same_bits() {
        for dtype in DTYPES {
            for op in ReduceOp::ALL {
                let a = encode(dtype, &values(5, 1001, dtype));
                let b = encode(dtype, &values(6, 1001, dtype));
                let want = reference(dtype, op, &a, &b);
                let (mut ua, ra) = unaligned(&a);
                let (ub, rb) = unaligned(&b);
                reduce_assign(dtype, op, &mut ua[ra.clone()], &ub[rb]).unwrap();
                assert_eq!(&ua[ra], &want[..], "{dtype} {op}");
            }
        }
    }

    #[test]
    fn bf16_rounds_every_step() {
        // 256 + 1 rounds back to 256 in bf16 (8 significant bits); adding 1 three times in
        // rank order therefore stays 256, while a wide accumulator would give 259 -> 260.
        let mut acc = DType::BF16.scalar_bytes(256.0);
        for _ in 0..3 {
            reduce_assign(
                DType::BF16,
                ReduceOp::Sum,
                &mut acc,
                &DType::BF16.scalar_bytes(1.0),
            )
            .unwrap();
        }
        assert_eq!(acc, DType::BF16.scalar_bytes(256.0));
    }

    #[test]
    fn min_max_propagate_nan() {
        for dtype in [DType::F32, DType::BF16, DType::F16] {
            let a = encode(dtype, &[1.0, f64::NAN, 3.0, -0.0]);
            let b = encode(dtype, &[f64::NAN, 2.0, 1.0, 0.0]);
            for op in [ReduceOp::Min, ReduceOp::Max] {
                let mut got = a.clone();
                reduce_assign(dtype, op, &mut got, &b).unwrap();
                let item = dtype.itemsize() as usize;
                let as_f64 = |bytes: &[u8]| match dtype {
                    DType::F32 => f64::from(f32::from_le_bytes(bytes.try_into().unwrap())),
                    DType::BF16 => bf16::from_le_bytes(bytes.try_into().unwrap()).to_f64(),
                    _ => f16::from_le_bytes(bytes.try_into().unwrap()).to_f64(),
                };
                let v: Vec<f64> = got.chunks(item).map(as_f64).collect();
                assert!(v[0].is_nan() && v[1].is_nan(), "{dtype} {op}: {v:?}");
                assert_eq!(v[2], if op == ReduceOp::Min { 1.0 } else { 3.0 });
                // Tie between -0 and +0 keeps the accumulator (-0).
                assert!(
                    v[3] == 0.0 && v[3].is_sign_negative(),
                    "{dtype} {op}: {v:?}"
                );
            }
        }
    }

    #[test]
    fn integers_wrap() {
        let mut acc = i32::MAX.to_le_bytes().to_vec();
        reduce_assign(DType::I32, ReduceOp::Sum, &mut acc, &1i32.to_le_bytes()).unwrap();
        assert_eq!(acc, i32::MIN.to_le_bytes());
        let mut acc = vec![100i8 as u8];
        reduce_assign(DType::I8, ReduceOp::Product, &mut acc, &[3]).unwrap();
        assert_eq!(acc[0] as i8, 100i8.wrapping_mul(3)); // 300 mod 256 = 44
        assert_eq!(acc[0] as i8, 44);
    }

    #[test]
    fn avg_divides_floats_in_f32_and_truncates_ints() {
        let mut acc = encode(DType::F32, &[1.0, 2.0, -7.0]);
        finish_avg(DType::F32, &mut acc, 3).unwrap();
        assert_eq!(
            acc,
            encode(
                DType::F32,
                &[
                    f64::from(1.0f32 / 3.0),
                    f64::from(2.0f32 / 3.0),
                    f64::from(-7.0f32 / 3.0)
                ]
            )
        );
        let mut acc = encode(DType::BF16, &[1.0]);
        finish_avg(DType::BF16, &mut acc, 3).unwrap();
        assert_eq!(acc, bf16::from_f32(1.0 / 3.0).to_le_bytes());
        let mut acc = encode(DType::I32, &[7.0, -7.0, 5.0]);
        finish_avg(DType::I32, &mut acc, 2).unwrap();
        assert_eq!(acc, encode(DType::I32, &[3.0, -3.0, 2.0]));
        let mut acc = vec![(-128i8) as u8, 127];
        finish_avg(DType::I8, &mut acc, 3).unwrap();
        assert_eq!(acc, [(-42i8) as u8, 42]);
        let err = finish_avg(DType::I8, &mut acc, 0).unwrap_err();
        assert!(err.to_string().contains("0 members"), "{err}");
    }

    #[test]
    fn binary_into_matches_reduce_semantics() {
        for dtype in DTYPES {
            for (op, rop) in [
                (BinaryOp::Add, ReduceOp::Sum),
                (BinaryOp::Mul, ReduceOp::Product),
            ] {
                let a = encode(dtype, &values(11, 1001, dtype));
                let b = encode(dtype, &values(12, 1001, dtype));
                let want = reference(dtype, rop, &a, &b);
                let mut out = vec![0; a.len()];
                binary_into(dtype, op, &a, &b, &mut out).unwrap();
                assert_eq!(out, want, "{dtype} {op:?}");
                let (ua, ra) = unaligned(&a);
                let (mut uo, ro) = unaligned(&vec![0; a.len()]);
                binary_into(dtype, op, &ua[ra], &b, &mut uo[ro.clone()]).unwrap();
                assert_eq!(&uo[ro], &want[..], "{dtype} {op:?} unaligned");
            }
            let mut acc = encode(dtype, &values(13, 7, dtype));
            let x = encode(dtype, &values(14, 7, dtype));
            let want = reference(dtype, ReduceOp::Sum, &acc, &x);
            add_assign(dtype, &mut acc, &x).unwrap();
            assert_eq!(acc, want);
        }
    }

    #[test]
    fn half_avg_and_scale_match_scalar_half_aligned_or_not() {
        let factor = 0.3f64;
        for dtype in [DType::BF16, DType::F16] {
            let a = encode(dtype, &values(21, 1001, dtype));
            // Scalar references: widen with half, compute in f32, round with half.
            let each = |f: &dyn Fn(f32) -> f32| -> Vec<u8> {
                a.chunks(2)
                    .flat_map(|c| {
                        let raw = [c[0], c[1]];
                        if dtype == DType::BF16 {
                            bf16::from_f32(f(bf16::from_le_bytes(raw).to_f32())).to_le_bytes()
                        } else {
                            f16::from_f32(f(f16::from_le_bytes(raw).to_f32())).to_le_bytes()
                        }
                    })
                    .collect()
            };
            let want_avg = each(&|v| v / 3.0);
            let want_scale = each(&|v| v * factor as f32);
            let mut got = a.clone();
            finish_avg(dtype, &mut got, 3).unwrap();
            assert_eq!(got, want_avg, "{dtype} avg");
            let (mut ua, ra) = unaligned(&a);
            finish_avg(dtype, &mut ua[ra.clone()], 3).unwrap();
            assert_eq!(&ua[ra], &want_avg[..], "{dtype} avg unaligned");
            let mut got = a.clone();
            scale_assign(dtype, &mut got, factor).unwrap();
            assert_eq!(got, want_scale, "{dtype} scale");
            let (mut ua, ra) = unaligned(&a);
            scale_assign(dtype, &mut ua[ra.clone()], factor).unwrap();
            assert_eq!(&ua[ra], &want_scale[..], "{dtype} scale unaligned");
        }
    }

    #[test]
    fn scale_rounds_floats_and_truncates_ints() {
        let mut d = encode(DType::F32, &[1.5, -2.0]);
        scale_assign(DType::F32, &mut d, 0.1).unwrap();
        assert_eq!(
            d,
            encode(
                DType::F32,
                &[f64::from(1.5f32 * 0.1f32), f64::from(-2.0f32 * 0.1f32)]
            )
        );
        let mut d = encode(DType::BF16, &[3.0]);
        scale_assign(DType::BF16, &mut d, 1.0 / 3.0).unwrap();
        assert_eq!(
            d,
            bf16::from_f32(3.0f32 * (1.0f64 / 3.0) as f32).to_le_bytes()
        );
        let mut d = encode(DType::I32, &[7.0, -7.0, i32::MAX as f64]);
        scale_assign(DType::I32, &mut d, 2.5).unwrap();
        assert_eq!(d, encode(DType::I32, &[17.0, -17.0, i32::MAX as f64]));
        let mut d = vec![100u8, (-100i8) as u8];
        scale_assign(DType::I8, &mut d, 2.0).unwrap();
        assert_eq!(d, [127u8, (-128i8) as u8]);
        let mut d = vec![5u8];
        scale_assign(DType::I8, &mut d, f64::NAN).unwrap();
        assert_eq!(d, [0]);
    }

    #[test]
    fn size_mismatches_are_errors_naming_sizes() {
        let mut acc = vec![0u8; 8];
        let err = reduce_assign(DType::F32, ReduceOp::Sum, &mut acc, &[0u8; 4]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "reduce: operands differ in size (8 bytes vs 4 bytes)"
        );
        let mut acc = vec![0u8; 6];
        let err = reduce_assign(DType::F32, ReduceOp::Sum, &mut acc, &[0u8; 6]).unwrap_err();
        assert!(
            err.to_string()
                .contains("6 bytes is not a whole number of float32 elements"),
            "{err}"
        );
        let err = binary_into(DType::I8, BinaryOp::Add, &[0; 3], &[0; 3], &mut [0; 2]).unwrap_err();
        assert!(
            err.to_string()
                .contains("output buffer is 2 bytes but the operands are 3 bytes"),
            "{err}"
        );
        let err = scale_assign(DType::BF16, &mut [0; 3], 2.0).unwrap_err();
        assert!(matches!(err, SimError::InvalidArgument(_)));
    }
}
