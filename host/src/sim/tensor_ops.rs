//! The wider tensor API of WIT 0.2, with PyTorch's semantics: arithmetic that broadcasts,
//! unary activations, reductions over a dim, softmax, reshape, narrow, cat, dtype
//! conversion, arange and seeded random tensors. Elements go through [`values`](super::values)
//! in their compute type; time comes from the cost model's elementwise and copy costs.
//!
//! Operands must share a device, a dtype (convert with `to_dtype` first: no implicit type
//! promotion) and meta-ness. Every result is a new tensor with the first operand's DP policy
//! on its device. The simulator has no views: `reshape` and `narrow` make new tensors (a
//! reshape that keeps the 2-D view costs no time; one that changes it, a narrow or a cat
//! costs an in-SIP copy of the result).

use super::dtype::DType;
use super::error::{SimError, invalid};
use super::placement::DpPolicy;
use super::reduce::BinaryOp;
use super::simulator::Simulator;
use super::store::{Init, NewTensor, TensorId};
use super::tensor::{Tensor, describe, numel};
use super::values::{self, Class, Num};
use rand::{RngExt, SeedableRng};

/// Binary arithmetic (`a op b`, broadcasting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arith {
    /// `a + b` (bool: or).
    Add,
    /// `a - b` (not for bool).
    Sub,
    /// `a * b` (bool: and).
    Mul,
    /// True division; integer operands give a float32 result, as `torch.div` does.
    Div,
}

/// Elementwise functions of one tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unary {
    /// `-x` (integers wrap; not for bool).
    Neg,
    /// `max(x, 0)`.
    Relu,
    /// `x · Φ(x) = 0.5 x (1 + erf(x / √2))` (floats only), PyTorch's exact GELU.
    Gelu,
}

/// Reductions over a dim (or every element).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reduction {
    /// Sum; integers and bool sum to int64, as `torch.sum` does.
    Sum,
    /// Mean (floats only).
    Mean,
    /// Maximum (NaN wins).
    Max,
    /// Minimum (NaN wins).
    Min,
}

/// Distributions of [`Simulator::random`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distribution {
    /// Uniform on `[0, 1)` (`torch.rand`).
    Uniform,
    /// Standard normal (`torch.randn`).
    Normal,
}

fn name(op: Arith) -> &'static str {
    match op {
        Arith::Add => "add",
        Arith::Sub => "sub",
        Arith::Mul => "mul",
        Arith::Div => "div",
    }
}

/// `dim` (negative counts from the end) as an index into `rank` dims.
/// A 0-d tensor takes dim 0 or -1, as in PyTorch.
fn normalize_dim(op: &str, dim: i64, rank: usize, t: &Tensor) -> Result<usize, SimError> {
    let r = (rank as i64).max(1);
    let d = if dim < 0 { dim + r } else { dim };
    if d < 0 || d >= r {
        return invalid!(
            "{op}: dimension {dim} is out of range for {} ({} dimensions)",
            t.describe(),
            rank
        );
    }
    Ok(d as usize)
}

/// `shape` seen around dimension `d`: (elements before it, its size, elements after it), so
/// element `(o, j, i)` is at `(o * size + j) * inner + i`. A 0-d shape is one element.
fn around(shape: &[u64], d: usize) -> (usize, usize, usize) {
    let outer = numel(&shape[..d.min(shape.len())]);
    let size = shape.get(d).copied().unwrap_or(1);
    let inner = numel(shape.get(d + 1..).unwrap_or(&[]));
    (outer as usize, size as usize, inner as usize)
}

/// PyTorch's broadcast of two shapes (aligned at the right; each pair equal or one of them
/// 1), or an error naming both.
pub fn broadcast_shapes(op: &str, a: &Tensor, b: &Tensor) -> Result<Vec<u64>, SimError> {
    let (x, y) = (&a.shape, &b.shape);
    let rank = x.len().max(y.len());
    let dim = |s: &[u64], i: usize| {
        let pad = rank - s.len();
        if i < pad { 1 } else { s[i - pad] }
    };
    let mut out = Vec::with_capacity(rank);
    for i in 0..rank {
        let (p, q) = (dim(x, i), dim(y, i));
        out.push(match (p, q) {
            _ if p == q => p,
            (1, q) => q,
            (p, 1) => p,
            _ => {
                return invalid!(
                    "{op}: shapes {} and {} cannot be broadcast (dimension {} is {p} and {q})",
                    a.describe(),
                    b.describe(),
                    i as i64 - rank as i64
                );
            }
        });
    }
    Ok(out)
}

/// Element strides of `shape` seen as `out` (broadcast dims get stride 0).
fn broadcast_strides(shape: &[u64], out: &[u64]) -> Vec<usize> {
    let pad = out.len() - shape.len();
    let mut strides = vec![0usize; out.len()];
    let mut stride = 1usize;
    for i in (0..shape.len()).rev() {
        if shape[i] != 1 {
            strides[i + pad] = stride;
        }
        stride = stride.saturating_mul(shape[i] as usize);
    }
    strides
}

/// For every element of `out` (row-major), the index of the element of each operand it reads.
fn for_each_broadcast(
    out: &[u64],
    sa: &[usize],
    sb: &[usize],
    mut f: impl FnMut(usize, usize, usize),
) {
    let total = numel(out) as usize;
    let rank = out.len();
    let mut idx = vec![0u64; rank];
    let (mut ia, mut ib) = (0usize, 0usize);
    for o in 0..total {
        f(o, ia, ib);
        // Odometer step: the last dim moves fastest.
        for d in (0..rank).rev() {
            idx[d] += 1;
            ia += sa[d];
            ib += sb[d];
            if idx[d] < out[d] {
                break;
            }
            ia -= sa[d] * out[d] as usize;
            ib -= sb[d] * out[d] as usize;
            idx[d] = 0;
        }
    }
}

fn arith(op: Arith, x: Num, y: Num, bool_operands: bool) -> Num {
    match (x, y) {
        (Num::F32(a), Num::F32(b)) => Num::F32(match op {
            Arith::Add => a + b,
            Arith::Sub => a - b,
            Arith::Mul => a * b,
            Arith::Div => a / b,
        }),
        (Num::F64(a), Num::F64(b)) => Num::F64(match op {
            Arith::Add => a + b,
            Arith::Sub => a - b,
            Arith::Mul => a * b,
            Arith::Div => a / b,
        }),
        (Num::Int(a), Num::Int(b)) => match op {
            Arith::Add if bool_operands => Num::Int(i64::from(a != 0 || b != 0)),
            Arith::Mul if bool_operands => Num::Int(i64::from(a != 0 && b != 0)),
            Arith::Add => Num::Int(a.wrapping_add(b)),
            Arith::Sub => Num::Int(a.wrapping_sub(b)),
            Arith::Mul => Num::Int(a.wrapping_mul(b)),
            Arith::Div => Num::F32(a as f32 / b as f32),
        },
        // Operands share a dtype, so their classes agree; f64 if they ever did not.
        (a, b) => arith(op, Num::F64(a.as_f64()), Num::F64(b.as_f64()), false),
    }
}

fn gelu32(x: f32) -> f32 {
    0.5 * x * (1.0 + libm::erff(x * std::f32::consts::FRAC_1_SQRT_2))
}

fn gelu64(x: f64) -> f64 {
    0.5 * x * (1.0 + libm::erf(x * std::f64::consts::FRAC_1_SQRT_2))
}

fn unary(op: Unary, x: Num) -> Num {
    match (op, x) {
        (Unary::Neg, Num::F32(v)) => Num::F32(-v),
        (Unary::Neg, Num::F64(v)) => Num::F64(-v),
        (Unary::Neg, Num::Int(v)) => Num::Int(v.wrapping_neg()),
        (Unary::Relu, Num::F32(v)) => Num::F32(if v > 0.0 || v.is_nan() { v } else { 0.0 }),
        (Unary::Relu, Num::F64(v)) => Num::F64(if v > 0.0 || v.is_nan() { v } else { 0.0 }),
        (Unary::Relu, Num::Int(v)) => Num::Int(v.max(0)),
        (Unary::Gelu, Num::F32(v)) => Num::F32(gelu32(v)),
        (Unary::Gelu, Num::F64(v)) => Num::F64(gelu64(v)),
        (Unary::Gelu, Num::Int(v)) => Num::Int(v),
    }
}

/// `a` replaces the running max (min) `acc` when it is larger (smaller) or NaN, as PyTorch's
/// max propagates NaN.
fn takes(op: Reduction, acc: Num, a: Num) -> bool {
    let max = op == Reduction::Max;
    if let (Num::Int(x), Num::Int(y)) = (acc, a) {
        // Exact for every i64, not through f64.
        return if max { y > x } else { y < x };
    }
    let (x, y) = (acc.as_f64(), a.as_f64());
    if x.is_nan() {
        return false;
    }
    y.is_nan() || if max { y > x } else { y < x }
}

impl Simulator {
    /// A new tensor for a result of `shape` and `dtype`, placed like `like` on its device.
    fn result_like(
        &mut self,
        rank: u32,
        like: TensorId,
        shape: Vec<u64>,
        dtype: DType,
        flops_per_elem: u64,
        what: &str,
    ) -> Result<TensorId, SimError> {
        let t = self.store.tensor(like)?;
        let real = t.data.is_some();
        let req = NewTensor {
            shape,
            dtype,
            dp: t.dp,
            device: t.device,
            init: if real { Init::Zeros } else { Init::Meta },
        };
        if real {
            let (n, _) = super::tensor::checked_size(&req.shape, dtype)?;
            self.store
                .charge_host_flops(what, n.saturating_mul(flops_per_elem.max(1)))?;
        }
        self.store.allocate(rank, req)
    }

    /// Run `f(sources' bytes, out's bytes)` when `out` holds data (the sources then do too).
    fn fill_from(
        &mut self,
        out: TensorId,
        sources: &[TensorId],
        f: impl FnOnce(&[&[u8]], &mut [u8]),
    ) -> Result<(), SimError> {
        let Some(mut data) = self.store.tensor_mut(out)?.data.take() else {
            return Ok(());
        };
        let result = (|| {
            let mut inputs = Vec::with_capacity(sources.len());
            for id in sources {
                inputs.push(self.store.tensor(*id)?.data("tensor op")?.bytes());
            }
            f(&inputs, data.bytes_mut());
            Ok(())
        })();
        self.store.tensor_mut(out)?.data = Some(data);
        if result.is_err() {
            self.store.free(out);
        }
        result
    }

    fn same_kind(&self, op: &str, a: TensorId, b: TensorId) -> Result<(), SimError> {
        super::ops::check_pair(op, self.store.tensor(a)?, self.store.tensor(b)?)
    }

    /// `a op b` elementwise with broadcasting.
    pub fn arith(
        &mut self,
        rank: u32,
        op: Arith,
        a: TensorId,
        b: TensorId,
    ) -> Result<TensorId, SimError> {
        let opname = name(op);
        self.same_kind(opname, a, b)?;
        let (ta, tb) = (self.store.tensor(a)?, self.store.tensor(b)?);
        // Same shapes need no broadcasting: add and mul take the typed kernels (same values,
        // same cost), so a bench's `a.add(&b)` costs one host call whatever the shapes.
        match op {
            Arith::Add if ta.shape == tb.shape => return self.binary(rank, BinaryOp::Add, a, b),
            Arith::Mul if ta.shape == tb.shape => return self.binary(rank, BinaryOp::Mul, a, b),
            _ => {}
        }
        let dtype = ta.dtype;
        if dtype == DType::Bool && op == Arith::Sub {
            return invalid!(
                "sub: subtracting bool tensors is not supported (use logical ops or convert with to(dtype))"
            );
        }
        let shape = broadcast_shapes(opname, ta, tb)?;
        let (sa, sb) = (
            broadcast_strides(&ta.shape, &shape),
            broadcast_strides(&tb.shape, &shape),
        );
        let out_dtype = if op == Arith::Div && values::class(dtype) == Class::Int {
            DType::F32
        } else {
            dtype
        };
        let out = self.result_like(rank, a, shape.clone(), out_dtype, 1, opname)?;
        let is_bool = dtype == DType::Bool;
        self.fill_from(out, &[a, b], |src, dst| {
            for_each_broadcast(&shape, &sa, &sb, |o, i, j| {
                let v = arith(
                    op,
                    values::read(dtype, src[0], i),
                    values::read(dtype, src[1], j),
                    is_bool,
                );
                values::write(out_dtype, dst, o, v);
            });
        })?;
        self.charge_elementwise(rank, out, 3, 1)?;
        Ok(out)
    }

    /// `op(a)` elementwise.
    pub fn unary(&mut self, rank: u32, op: Unary, a: TensorId) -> Result<TensorId, SimError> {
        let ta = self.store.tensor(a)?;
        let (dtype, shape) = (ta.dtype, ta.shape.clone());
        let opname = match op {
            Unary::Neg => "neg",
            Unary::Relu => "relu",
            Unary::Gelu => "gelu",
        };
        match (op, values::class(dtype)) {
            (Unary::Neg, _) if dtype == DType::Bool => {
                return invalid!("neg: negating a bool tensor is not supported (use logical not)");
            }
            (Unary::Gelu, Class::Int) => {
                return invalid!("gelu needs a floating-point tensor, got {}", ta.describe());
            }
            _ => {}
        }
        let flops = if op == Unary::Gelu { 8 } else { 1 };
        let out = self.result_like(rank, a, shape, dtype, flops, opname)?;
        self.fill_from(out, &[a], |src, dst| {
            for i in 0..dst.len() / dtype.itemsize() as usize {
                values::write(dtype, dst, i, unary(op, values::read(dtype, src[0], i)));
            }
        })?;
        self.charge_elementwise(rank, out, 2, flops)?;
        Ok(out)
    }

    /// `op` over dimension `dim` (every element when none), keeping it as size 1 when
    /// `keepdim`.
    pub fn reduce_dim(
        &mut self,
        rank: u32,
        op: Reduction,
        a: TensorId,
        dim: Option<i64>,
        keepdim: bool,
    ) -> Result<TensorId, SimError> {
        let ta = self.store.tensor(a)?;
        let (dtype, shape) = (ta.dtype, ta.shape.clone());
        let opname = match op {
            Reduction::Sum => "sum",
            Reduction::Mean => "mean",
            Reduction::Max => "max",
            Reduction::Min => "min",
        };
        if op == Reduction::Mean && values::class(dtype) == Class::Int {
            return invalid!(
                "mean needs a floating-point tensor, got {}; convert it with to(dtype)",
                ta.describe()
            );
        }
        let (outer, len, inner, out_shape) = match dim {
            Some(d) => {
                let d = normalize_dim(opname, d, shape.len(), ta)?;
                let (outer, size, inner) = around(&shape, d);
                let mut s = shape.clone();
                if keepdim && !s.is_empty() {
                    s[d] = 1;
                } else if !s.is_empty() {
                    s.remove(d);
                }
                (outer, size, inner, s)
            }
            None => {
                let s = if keepdim {
                    vec![1; shape.len()]
                } else {
                    Vec::new()
                };
                (1, numel(&shape) as usize, 1, s)
            }
        };
        if len == 0 && matches!(op, Reduction::Max | Reduction::Min) {
            return invalid!(
                "{opname}: cannot reduce an empty dimension of {}",
                ta.describe()
            );
        }
        let out_dtype = match (op, values::class(dtype)) {
            (Reduction::Sum, Class::Int) => DType::I64,
            _ => dtype,
        };
        let input_shards = ta.shards.clone();
        if ta.data.is_some() {
            // The work is a read of every input element, not a write of every result.
            self.store.charge_host_flops(opname, numel(&shape))?;
        }
        let out = self.result_like(rank, a, out_shape, out_dtype, 1, opname)?;
        self.fill_from(out, &[a], |src, dst| {
            for o in 0..outer {
                for i in 0..inner {
                    let at = |j: usize| values::read(dtype, src[0], (o * len + j) * inner + i);
                    let v = match op {
                        Reduction::Sum | Reduction::Mean => {
                            let mut acc = Num::Int(0).to(out_dtype);
                            for j in 0..len {
                                acc = arith(Arith::Add, acc, at(j).to(out_dtype), false);
                            }
                            if op == Reduction::Mean {
                                acc = arith(
                                    Arith::Div,
                                    acc,
                                    Num::Int(len as i64).to(out_dtype),
                                    false,
                                );
                            }
                            acc
                        }
                        Reduction::Max | Reduction::Min => {
                            let mut acc = at(0);
                            for j in 1..len {
                                if takes(op, acc, at(j)) {
                                    acc = at(j);
                                }
                            }
                            acc
                        }
                    };
                    values::write(out_dtype, dst, o * inner + i, v);
                }
            }
        })?;
        // Reading every input element dominates: one read per element, a write per result.
        let ns = self.cost().elementwise_ns(&input_shards, dtype, 1, 1);
        self.clocks.advance(rank, ns)?;
        Ok(out)
    }

    /// Softmax over `dim`: `exp(x - max) / sum(exp(x - max))` (floats only).
    pub fn softmax(&mut self, rank: u32, a: TensorId, dim: i64) -> Result<TensorId, SimError> {
        let ta = self.store.tensor(a)?;
        let (dtype, shape) = (ta.dtype, ta.shape.clone());
        if values::class(dtype) == Class::Int {
            return invalid!(
                "softmax needs a floating-point tensor, got {}",
                ta.describe()
            );
        }
        let d = normalize_dim("softmax", dim, shape.len(), ta)?;
        let (outer, len, inner) = around(&shape, d);
        let out = self.result_like(rank, a, shape, dtype, 4, "softmax")?;
        // Three passes straight over the source (max, sum of exp, write): no temporaries.
        self.fill_from(out, &[a], |src, dst| {
            for o in 0..outer {
                for i in 0..inner {
                    let idx = |j: usize| (o * len + j) * inner + i;
                    let x = |j: usize| values::read(dtype, src[0], idx(j)).as_f64();
                    if dtype == DType::F64 {
                        let m = (0..len).map(x).fold(f64::NEG_INFINITY, f64::max);
                        let s: f64 = (0..len).map(|j| (x(j) - m).exp()).sum();
                        for j in 0..len {
                            values::write(dtype, dst, idx(j), Num::F64((x(j) - m).exp() / s));
                        }
                    } else {
                        let x = |j: usize| x(j) as f32;
                        let m = (0..len).map(x).fold(f32::NEG_INFINITY, f32::max);
                        let s: f32 = (0..len).map(|j| (x(j) - m).exp()).sum();
                        for j in 0..len {
                            values::write(dtype, dst, idx(j), Num::F32((x(j) - m).exp() / s));
                        }
                    }
                }
            }
        })?;
        // Three passes (max, exp-sum, divide) over the data.
        self.charge_elementwise(rank, out, 4, 4)?;
        Ok(out)
    }

    /// `a` with shape `shape` (one entry may be -1: inferred), elements in the same order.
    pub fn reshape(&mut self, rank: u32, a: TensorId, shape: &[i64]) -> Result<TensorId, SimError> {
        let ta = self.store.tensor(a)?;
        let n = ta.numel();
        let wanted: Vec<String> = shape.iter().map(i64::to_string).collect();
        let bad = || {
            invalid!(
                "reshape: shape [{}] is invalid for {} ({n} elements)",
                wanted.join(", "),
                ta.describe()
            )
        };
        let inferred = shape.iter().filter(|&&d| d == -1).count();
        if inferred > 1 || shape.iter().any(|&d| d < -1) {
            return bad();
        }
        let Some(known) = shape
            .iter()
            .filter(|&&d| d >= 0)
            .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
        else {
            return bad();
        };
        let mut out_shape: Vec<u64> = Vec::with_capacity(shape.len());
        for &d in shape {
            out_shape.push(if d == -1 {
                if known == 0 || n % known != 0 {
                    return bad();
                }
                n / known
            } else {
                d as u64
            });
        }
        let product = out_shape
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d));
        if product != Some(n) {
            return bad();
        }
        let (dtype, same_view) = (
            ta.dtype,
            super::placement::shape_2d(&ta.shape) == super::placement::shape_2d(&out_shape),
        );
        let out = self.result_like(rank, a, out_shape, dtype, 1, "reshape")?;
        self.fill_from(out, &[a], |src, dst| dst.copy_from_slice(src[0]))?;
        if !same_view {
            self.charge_copy(rank, out)?;
        }
        Ok(out)
    }

    /// Elements `start .. start + length` of `a` along `dim`, as a new tensor.
    pub fn narrow(
        &mut self,
        rank: u32,
        a: TensorId,
        dim: i64,
        start: u64,
        length: u64,
    ) -> Result<TensorId, SimError> {
        let ta = self.store.tensor(a)?;
        let (dtype, shape) = (ta.dtype, ta.shape.clone());
        if shape.is_empty() {
            return invalid!(
                "narrow: a 0-d tensor has no dimension to narrow ({})",
                ta.describe()
            );
        }
        let d = normalize_dim("narrow", dim, shape.len(), ta)?;
        if start.checked_add(length).is_none_or(|end| end > shape[d]) {
            return invalid!(
                "narrow: start {start} + length {length} exceeds dimension {d} of size {} ({})",
                shape[d],
                ta.describe()
            );
        }
        let mut out_shape = shape.clone();
        out_shape[d] = length;
        let item = dtype.itemsize() as usize;
        let (outer, size, inner) = around(&shape, d);
        let inner = inner * item;
        let (start, length) = (start as usize, length as usize);
        let out = self.result_like(rank, a, out_shape, dtype, 1, "narrow")?;
        self.fill_from(out, &[a], |src, dst| {
            for o in 0..outer {
                let from = (o * size + start) * inner;
                dst[o * length * inner..(o + 1) * length * inner]
                    .copy_from_slice(&src[0][from..from + length * inner]);
            }
        })?;
        self.charge_copy(rank, out)?;
        Ok(out)
    }

    /// The tensors joined along `dim` (same dtype, device and shape but for `dim`).
    pub fn cat(&mut self, rank: u32, tensors: &[TensorId], dim: i64) -> Result<TensorId, SimError> {
        let Some(&first) = tensors.first() else {
            return invalid!("cat needs at least one tensor");
        };
        let t0 = self.store.tensor(first)?;
        let (dtype, shape0) = (t0.dtype, t0.shape.clone());
        if shape0.is_empty() {
            return invalid!("cat: a 0-d tensor cannot be joined ({})", t0.describe());
        }
        let d = normalize_dim("cat", dim, shape0.len(), t0)?;
        let mut sizes = Vec::with_capacity(tensors.len());
        for &id in tensors {
            self.same_kind("cat", first, id)?;
            let t = self.store.tensor(id)?;
            let fits = t.shape.len() == shape0.len()
                && t.shape
                    .iter()
                    .zip(&shape0)
                    .enumerate()
                    .all(|(i, (x, y))| i == d || x == y);
            if !fits {
                return invalid!(
                    "cat: {} does not fit {} along dimension {d} (sizes must match in every other dimension)",
                    t.describe(),
                    describe(&shape0, dtype)
                );
            }
            sizes.push(t.shape[d] as usize);
        }
        let mut out_shape = shape0.clone();
        out_shape[d] = sizes
            .iter()
            .try_fold(0u64, |acc, &s| acc.checked_add(s as u64))
            .ok_or_else(|| {
                SimError::InvalidArgument("cat: the joined dimension overflows 64 bits".into())
            })?;
        let item = dtype.itemsize() as usize;
        let (outer, _, inner) = around(&shape0, d);
        let inner = inner * item;
        let total: usize = sizes.iter().sum();
        let out = self.result_like(rank, first, out_shape, dtype, 1, "cat")?;
        self.fill_from(out, tensors, |src, dst| {
            for o in 0..outer {
                let mut at = o * total * inner;
                for (s, &size) in src.iter().zip(&sizes) {
                    let len = size * inner;
                    dst[at..at + len].copy_from_slice(&s[o * len..(o + 1) * len]);
                    at += len;
                }
            }
        })?;
        self.charge_copy(rank, out)?;
        Ok(out)
    }

    /// `a` converted to `dtype`, as `tensor.to(dtype)`.
    pub fn to_dtype(&mut self, rank: u32, a: TensorId, dtype: DType) -> Result<TensorId, SimError> {
        let ta = self.store.tensor(a)?;
        let (from, shape) = (ta.dtype, ta.shape.clone());
        let out = self.result_like(rank, a, shape, dtype, 1, "to")?;
        self.fill_from(out, &[a], |src, dst| {
            for i in 0..dst.len() / dtype.itemsize() as usize {
                values::write(dtype, dst, i, values::read(from, src[0], i));
            }
        })?;
        self.charge_elementwise(rank, out, 2, 1)?;
        Ok(out)
    }

    /// `[start, start + step, ...)` below `end` (above it for a negative step), as
    /// `torch.arange`.
    #[allow(clippy::too_many_arguments)]
    pub fn arange(
        &mut self,
        rank: u32,
        (start, end, step): (f64, f64, f64),
        dtype: DType,
        dp: DpPolicy,
        device: u32,
    ) -> Result<TensorId, SimError> {
        if step == 0.0 || !(start.is_finite() && end.is_finite() && step.is_finite()) {
            return invalid!(
                "arange: start {start}, end {end} and step {step} must be finite, with a step other than 0"
            );
        }
        let count = ((end - start) / step).ceil();
        if !(0.0..=1e15).contains(&count) {
            return invalid!("arange: start {start}, end {end}, step {step} give {count} elements");
        }
        let n = count as u64;
        let req = NewTensor {
            shape: vec![n],
            dtype,
            dp,
            device,
            init: Init::Zeros,
        };
        self.store.charge_host_flops("arange", n)?;
        let out = self.store.allocate(rank, req)?;
        self.fill_from(out, &[], |_, dst| {
            for i in 0..n as usize {
                values::write(dtype, dst, i, Num::F64(start + i as f64 * step));
            }
        })?;
        self.charge_elementwise(rank, out, 1, 1)?;
        Ok(out)
    }

    /// A tensor of `shape` drawn from `dist` with the generator seeded by `seed` (floats
    /// only). The host derives `seed` from the run's seed, the rank and how many random
    /// tensors the rank made before, so a run is reproducible.
    #[allow(clippy::too_many_arguments)]
    pub fn random(
        &mut self,
        rank: u32,
        dist: Distribution,
        shape: Vec<u64>,
        dtype: DType,
        dp: DpPolicy,
        device: u32,
        seed: u64,
    ) -> Result<TensorId, SimError> {
        if !dtype.is_float() {
            return invalid!("rand/randn need a floating-point dtype, got {dtype}");
        }
        let (n, _) = super::tensor::checked_size(&shape, dtype)?;
        let req = NewTensor {
            shape,
            dtype,
            dp,
            device,
            init: Init::Zeros,
        };
        self.store
            .charge_host_flops("random", n.saturating_mul(4))?;
        let out = self.store.allocate(rank, req)?;
        // PCG: a specified algorithm, so a seed draws the same tensor on every host version.
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
        self.fill_from(out, &[], |_, dst| {
            for i in 0..n as usize {
                let v = match dist {
                    Distribution::Uniform => rng.random::<f64>(),
                    Distribution::Normal => {
                        // Box-Muller: u1 in (0, 1] so the log is finite.
                        let u1 = 1.0 - rng.random::<f64>();
                        let u2 = rng.random::<f64>();
                        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
                    }
                };
                values::write(dtype, dst, i, Num::F64(v));
            }
        })?;
        self.charge_elementwise(rank, out, 1, 4)?;
        Ok(out)
    }

    fn charge_elementwise(
        &mut self,
        rank: u32,
        out: TensorId,
        bytes: u64,
        flops: u64,
    ) -> Result<(), SimError> {
        let t = self.store.tensor(out)?;
        let ns = self.cost().elementwise_ns(&t.shards, t.dtype, bytes, flops);
        self.clocks.advance(rank, ns)
    }

    fn charge_copy(&mut self, rank: u32, out: TensorId) -> Result<(), SimError> {
        let t = self.store.tensor(out)?;
        // A copy in place of the layout: each shard from the PE that holds it to itself.
        let ns = self.cost().copy_ns(&t.shards, &t.shards, t.dtype)?;
        self.clocks.advance(rank, ns)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
