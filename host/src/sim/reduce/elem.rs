//! Element types stored little-endian in tensor bytes, and how each computes: floats through
//! f32 (with branch-free bf16 conversions), integers with wrapping arithmetic.

use half::slice::HalfFloatSliceExt;
use half::{bf16, f16};

/// An element type stored little-endian in tensor bytes.
pub(in crate::sim) trait Elem: bytemuck::Pod {
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
impl_elem!(f32, bf16, f16, i32, i8, f64, i64, u8);

/// A float type computed through f32: f32 itself (identity) and the 16-bit types.
pub(in crate::sim) trait F32Compute: Elem {
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
pub(super) trait HalfFloat: F32Compute {
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
pub(super) fn bf16_to_f32(value: bf16) -> f32 {
    let bits = u32::from(value.to_bits());
    let quiet = if bits & 0x7FFF > 0x7F80 { 0x0040 } else { 0 };
    f32::from_bits((bits | quiet) << 16)
}

/// `half`'s f32 -> bf16, round to nearest even (a NaN keeps its high mantissa bits and gets
/// its quiet bit set), without branches so loops vectorize. Adding `0x7FFF + lsb` carries
/// into bit 16 exactly when round-to-nearest-even rounds up.
#[inline(always)]
pub(super) fn f32_to_bf16(value: f32) -> bf16 {
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
pub(super) trait WrappingInt: Elem + Ord {
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
impl_wrapping!(i32, i8, i64);
