//! The loops over tensor bytes: typed slices when aligned, chunked `from_le_bytes` otherwise,
//! and the 16-bit types widened and narrowed in stack chunks of f32.

use super::elem::{Elem, HalfFloat};

/// The bytes as a typed slice, when the host is little-endian and they are aligned.
#[inline(always)]
pub(super) fn typed<T: bytemuck::Pod>(bytes: &[u8]) -> Option<&[T]> {
    if cfg!(target_endian = "little") {
        bytemuck::try_cast_slice(bytes).ok()
    } else {
        None
    }
}

/// [`typed`], writable.
#[inline(always)]
pub(super) fn typed_mut<T: bytemuck::Pod>(bytes: &mut [u8]) -> Option<&mut [T]> {
    if cfg!(target_endian = "little") {
        bytemuck::try_cast_slice_mut(bytes).ok()
    } else {
        None
    }
}

/// 16-bit elements converted per step on the 16-bit paths (f32 chunks live on the stack).
pub(super) const HALF_CHUNK: usize = 256;

/// `acc[i] = round(g(acc[i], x[i]))` with `g` computed in f32; lengths checked by the caller.
pub(super) fn half_assign<T: HalfFloat>(acc: &mut [u8], x: &[u8], g: impl Fn(f32, f32) -> f32) {
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
pub(super) fn half_select<T: HalfFloat>(acc: &mut [u8], x: &[u8], take: impl Fn(f32, f32) -> bool) {
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
pub(super) fn half_into<T: HalfFloat>(
    a: &[u8],
    b: &[u8],
    out: &mut [u8],
    g: impl Fn(f32, f32) -> f32,
) {
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
pub(super) fn half_map1<T: HalfFloat>(data: &mut [u8], g: impl Fn(f32) -> f32) {
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
pub(super) fn map2_assign<T: Elem>(acc: &mut [u8], x: &[u8], f: impl Fn(T, T) -> T) {
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
pub(super) fn map2_into<T: Elem>(a: &[u8], b: &[u8], out: &mut [u8], f: impl Fn(T, T) -> T) {
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
pub(super) fn map1_assign<T: Elem>(data: &mut [u8], f: impl Fn(T) -> T) {
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
