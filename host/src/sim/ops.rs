//! Local tensor ops on one rank's SIP: real data through the kernels, simulated time through
//! the cost model (the max over shards, which work in parallel).
//!
//! As in PyTorch, operands must live on the same device and agree in shape and dtype; a meta
//! operand makes a meta result, and mixing meta with real data is an error.

use super::cost::MatmulShape;
use super::error::{SimError, invalid};
use super::kernels;
use super::placement::DpPolicy;
use super::reduce::{self, BinaryOp};
use super::simulator::Simulator;
use super::store::{Init, NewTensor, TensorId};
use super::tensor::Tensor;

/// Two operands of one op: same device, same dtype (no implicit promotion), both real or
/// both meta. Every binary tensor op checks this.
pub(super) fn check_pair(op: &str, a: &Tensor, b: &Tensor) -> Result<(), SimError> {
    if a.device != b.device {
        return invalid!(
            "{op}: operands are on different devices (SIP {} and SIP {}); move one with to_device first",
            a.device,
            b.device
        );
    }
    if a.dtype != b.dtype {
        return invalid!(
            "{op}: dtypes differ ({} and {}); convert one with to(dtype) first",
            a.describe(),
            b.describe()
        );
    }
    if a.data.is_some() != b.data.is_some() {
        return invalid!("{op}: cannot mix a meta tensor with one that holds data");
    }
    Ok(())
}

fn like(t: &Tensor, init: Init) -> NewTensor {
    NewTensor {
        shape: t.shape.clone(),
        dtype: t.dtype,
        dp: t.dp,
        device: t.device,
        init,
    }
}

fn meta_or_zeros(t: &Tensor) -> Init {
    if t.data.is_some() {
        Init::Zeros
    } else {
        Init::Meta
    }
}

impl Simulator {
    /// `a op b` elementwise as a new tensor of `rank`, placed like `a`.
    pub fn binary(
        &mut self,
        rank: u32,
        op: BinaryOp,
        a: TensorId,
        b: TensorId,
    ) -> Result<TensorId, SimError> {
        let name = match op {
            BinaryOp::Add => "add",
            BinaryOp::Mul => "mul",
        };
        let (ta, tb) = (self.store.tensor(a)?, self.store.tensor(b)?);
        check_pair(name, ta, tb)?;
        if ta.shape != tb.shape {
            return invalid!(
                "{name}: shapes differ ({} and {})",
                ta.describe(),
                tb.describe()
            );
        }
        let req = like(ta, meta_or_zeros(ta));
        // Priced before anything is allocated: the result has `a`'s layout.
        let ns = self.cost().binary_op_ns(&ta.shards, &tb.shards, ta.dtype)?;
        let out = self.store.allocate(rank, req)?;
        self.with_three(a, b, out, |x, y, z| {
            reduce::binary_into(z.dtype, op, x, y, z.bytes)
        })?;
        self.clocks.advance(rank, ns)?;
        Ok(out)
    }

    /// In place `a += b`.
    pub fn add_assign(&mut self, rank: u32, a: TensorId, b: TensorId) -> Result<(), SimError> {
        let (ta, tb) = (self.store.tensor(a)?, self.store.tensor(b)?);
        check_pair("add_", ta, tb)?;
        if ta.shape != tb.shape {
            return invalid!(
                "add_: shapes differ ({} and {})",
                ta.describe(),
                tb.describe()
            );
        }
        let ns = self.cost().binary_op_ns(&ta.shards, &tb.shards, ta.dtype)?;
        if ta.data.is_some() {
            // A copy of the operand, so `a += a` adds (and wraps, for integers) like any other.
            let other = self.store.tensor(b)?.data("add_")?.bytes().to_vec();
            let t = self.store.tensor_mut(a)?;
            let dtype = t.dtype;
            reduce::add_assign(dtype, t.data_mut("add_")?.bytes_mut(), &other)?;
        }
        self.clocks.advance(rank, ns)?;
        Ok(())
    }

    /// `a * factor` as a new tensor.
    pub fn scaled(&mut self, rank: u32, a: TensorId, factor: f64) -> Result<TensorId, SimError> {
        let ta = self.store.tensor(a)?;
        let req = like(ta, meta_or_zeros(ta));
        let source = ta.data.as_ref().map(|d| d.bytes().to_vec());
        let out = self.store.allocate(rank, req)?;
        let t = self.store.tensor_mut(out)?;
        let dtype = t.dtype;
        if let (Some(bytes), Some(data)) = (source, t.data.as_mut()) {
            data.bytes_mut().copy_from_slice(&bytes);
            reduce::scale_assign(dtype, data.bytes_mut(), factor)?;
        }
        let t = self.store.tensor(out)?;
        let ns = self.cost().scale_ns(&t.shards, t.dtype);
        self.clocks.advance(rank, ns)?;
        Ok(out)
    }

    /// In place `a *= factor`.
    pub fn scale_assign(&mut self, rank: u32, a: TensorId, factor: f64) -> Result<(), SimError> {
        let t = self.store.tensor_mut(a)?;
        let dtype = t.dtype;
        if let Some(data) = t.data.as_mut() {
            reduce::scale_assign(dtype, data.bytes_mut(), factor)?;
        }
        let t = self.store.tensor(a)?;
        let ns = self.cost().scale_ns(&t.shards, t.dtype);
        self.clocks.advance(rank, ns)?;
        Ok(())
    }

    /// `a @ b` for 2-D tensors, or batched: `[b, m, k] @ [b, k, n]` or `[b, m, k] @ [k, n]`
    /// (the matrix used for every batch), the result placed by `dp` on `device` (defaults:
    /// `a`'s).
    pub fn matmul(
        &mut self,
        rank: u32,
        a: TensorId,
        b: TensorId,
        dp: DpPolicy,
        device: Option<u32>,
    ) -> Result<TensorId, SimError> {
        let (ta, tb) = (self.store.tensor(a)?, self.store.tensor(b)?);
        check_pair("matmul", ta, tb)?;
        let (batch, m, k, k2, n, b_batched) = match (ta.shape.as_slice(), tb.shape.as_slice()) {
            (&[m, k], &[k2, n]) => (None, m, k, k2, n, false),
            (&[bs, m, k], &[bs2, k2, n]) if bs == bs2 => (Some(bs), m, k, k2, n, true),
            (&[bs, m, k], &[k2, n]) => (Some(bs), m, k, k2, n, false),
            _ => {
                return invalid!(
                    "matmul needs 2-D tensors, or a 3-D batch with a matching 3-D batch or a 2-D matrix, got {} and {}",
                    ta.describe(),
                    tb.describe()
                );
            }
        };
        if k != k2 {
            return invalid!(
                "matmul: inner dimensions differ ({} @ {})",
                ta.describe(),
                tb.describe()
            );
        }
        let (a_shards, b_shards) = (ta.shards.clone(), tb.shards.clone());
        let req = NewTensor {
            shape: match batch {
                Some(bs) => vec![bs, m, n],
                None => vec![m, n],
            },
            dtype: ta.dtype,
            dp,
            device: device.unwrap_or(ta.device),
            init: meta_or_zeros(ta),
        };
        let real = ta.data.is_some() && tb.data.is_some();
        if real {
            let flops = 2u64
                .saturating_mul(batch.unwrap_or(1))
                .saturating_mul(m)
                .saturating_mul(k)
                .saturating_mul(n);
            self.store.charge_host_flops("matmul", flops)?;
        }
        // Allocate first: the result's quotas and real-data budget are checked before any
        // host memory is taken, and the product is written straight into the tensor.
        let out = self.store.allocate(rank, req)?;
        if real {
            let computed = self.matmul_into(out, a, b, (m, k, n), (batch.unwrap_or(1), b_batched));
            if let Err(e) = computed {
                self.store.free(out);
                return Err(e);
            }
        }
        let t = self.store.tensor(out)?;
        // Computed where the result lives, the operands moved there first (also from
        // another SIP when the options place the result elsewhere).
        let operands = MatmulShape {
            a: &a_shards,
            b: &b_shards,
            mkn: (m, k, n),
            b_batched,
        };
        let priced = self.cost().matmul_ns(&t.shards, operands, t.dtype);
        let ns = self.priced_or_freed(out, priced)?;
        self.clocks.advance(rank, ns)?;
        Ok(out)
    }

    /// The time of an op whose result `out` is already allocated, or, when the cost model
    /// refuses the op, the error with `out` freed again.
    fn priced_or_freed(
        &mut self,
        out: TensorId,
        priced: Result<u64, SimError>,
    ) -> Result<u64, SimError> {
        priced.inspect_err(|_| self.store.free(out))
    }

    /// Compute `a @ b` into `out`'s data, batch by batch (`b` the same matrix for every batch
    /// unless `b_batched`), stopping between rows when the deadline passes.
    fn matmul_into(
        &mut self,
        out: TensorId,
        a: TensorId,
        b: TensorId,
        dims: (u64, u64, u64),
        (batches, b_batched): (u64, bool),
    ) -> Result<(), SimError> {
        let mut data =
            self.store.tensor_mut(out)?.data.take().ok_or_else(|| {
                SimError::InvalidArgument("matmul: the result has no data".into())
            })?;
        let result = (|| {
            let (ta, tb) = (self.store.tensor(a)?, self.store.tensor(b)?);
            let (x, y) = (ta.data("matmul")?, tb.data("matmul")?);
            let store = &self.store;
            let item = ta.dtype.itemsize() as usize;
            let (m, k, n) = (dims.0 as usize, dims.1 as usize, dims.2 as usize);
            let (a_len, b_len, o_len) = (m * k * item, k * n * item, m * n * item);
            for i in 0..batches as usize {
                let b_at = if b_batched { i * b_len } else { 0 };
                kernels::matmul_into(
                    ta.dtype,
                    &x.bytes()[i * a_len..(i + 1) * a_len],
                    &y.bytes()[b_at..b_at + b_len],
                    dims,
                    &mut data.bytes_mut()[i * o_len..(i + 1) * o_len],
                    &|| store.past_deadline(),
                )?;
            }
            Ok(())
        })();
        self.store.tensor_mut(out)?.data = Some(data);
        result
    }

    /// The transpose of a 2-D tensor, placed with `a`'s policy on `a`'s device; costs a read
    /// and a write of every element.
    pub fn transpose(&mut self, rank: u32, a: TensorId) -> Result<TensorId, SimError> {
        let ta = self.store.tensor(a)?;
        let &[rows, cols] = ta.shape.as_slice() else {
            return invalid!("transpose needs a 2-D tensor, got {}", ta.describe());
        };
        let mut req = like(ta, meta_or_zeros(ta));
        req.shape = vec![cols, rows];
        let item = ta.dtype.itemsize() as usize;
        let transposed = ta.data.as_ref().map(|d| {
            let src = d.bytes();
            let (r, c) = (rows as usize, cols as usize);
            let mut out = vec![0u8; src.len()];
            for i in 0..r {
                for j in 0..c {
                    let from = (i * c + j) * item;
                    let to = (j * r + i) * item;
                    out[to..to + item].copy_from_slice(&src[from..from + item]);
                }
            }
            out
        });
        let out = self.store.allocate(rank, req)?;
        if let Some(bytes) = transposed {
            self.store.write_bytes(out, 0, &bytes)?;
        }
        let t = self.store.tensor(out)?;
        let ns = self.cost().scale_ns(&t.shards, t.dtype);
        self.clocks.advance(rank, ns)?;
        Ok(out)
    }

    /// A copy of `a` on SIP `device` with the same layout (`tensor.to(device)`).
    pub fn to_device(&mut self, rank: u32, a: TensorId, device: u32) -> Result<TensorId, SimError> {
        let ta = self.store.tensor(a)?;
        let mut req = like(ta, meta_or_zeros(ta));
        req.device = device;
        let source = ta.data.as_ref().map(|d| d.bytes().to_vec());
        let (from, dtype) = (ta.shards.clone(), ta.dtype);
        let out = self.store.allocate(rank, req)?;
        if let Some(data) = source {
            self.store.write_bytes(out, 0, &data)?;
        }
        let priced = self
            .cost()
            .copy_ns(&from, &self.store.tensor(out)?.shards, dtype);
        let ns = self.priced_or_freed(out, priced)?;
        self.clocks.advance(rank, ns)?;
        Ok(out)
    }

    /// Overwrite `dst` with `src`'s data (same element count and dtype), across SIPs if need be.
    pub fn copy_from(&mut self, rank: u32, dst: TensorId, src: TensorId) -> Result<(), SimError> {
        let (td, ts) = (self.store.tensor(dst)?, self.store.tensor(src)?);
        if td.dtype != ts.dtype || td.numel() != ts.numel() {
            return invalid!(
                "copy_: destination {} and source {} differ in dtype or size",
                td.describe(),
                ts.describe()
            );
        }
        if td.data.is_some() != ts.data.is_some() {
            return invalid!("copy_: cannot mix a meta tensor with one that holds data");
        }
        let ns = self.cost().copy_ns(&ts.shards, &td.shards, ts.dtype)?;
        if let Some(data) = ts.data.as_ref().map(|d| d.bytes().to_vec())
            && dst != src
        {
            self.store.write_bytes(dst, 0, &data)?;
        }
        self.clocks.advance(rank, ns)?;
        Ok(())
    }

    /// Run `f` on the data of `a`, `b` and (writable) `out`, three distinct tensors; meta
    /// tensors skip it.
    fn with_three(
        &mut self,
        a: TensorId,
        b: TensorId,
        out: TensorId,
        f: impl FnOnce(&[u8], &[u8], OutData<'_>) -> Result<(), SimError>,
    ) -> Result<(), SimError> {
        let (Some(x), Some(y)) = (
            self.store
                .tensor(a)?
                .data
                .as_ref()
                .map(|d| d.bytes().to_vec()),
            self.store
                .tensor(b)?
                .data
                .as_ref()
                .map(|d| d.bytes().to_vec()),
        ) else {
            return Ok(());
        };
        let t = self.store.tensor_mut(out)?;
        let dtype = t.dtype;
        let bytes = t.data_mut("op")?.bytes_mut();
        f(&x, &y, OutData { dtype, bytes })
    }
}

/// The writable output of an op.
struct OutData<'a> {
    dtype: super::dtype::DType,
    bytes: &'a mut [u8],
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{DType, SimLimits, Topology};

    fn sim() -> Simulator {
        Simulator::new(Topology::embedded_default(), SimLimits::default(), 8)
    }

    fn f32s(sim: &Simulator, id: TensorId) -> Vec<f32> {
        let t = sim.store.tensor(id).unwrap();
        t.data
            .as_ref()
            .unwrap()
            .bytes()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect()
    }

    fn tensor(sim: &mut Simulator, shape: &[u64], values: &[f32], device: u32) -> TensorId {
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let req = NewTensor {
            shape: shape.to_vec(),
            dtype: DType::F32,
            dp: DpPolicy::SplitRows,
            device,
            init: Init::Bytes(bytes),
        };
        sim.create(0, req).unwrap()
    }

    #[test]
    fn add_mul_scale_compute_and_cost_time() {
        let mut s = sim();
        let a = tensor(&mut s, &[2, 2], &[1.0, 2.0, 3.0, 4.0], 0);
        let b = tensor(&mut s, &[2, 2], &[10.0, 20.0, 30.0, 40.0], 0);
        let before = s.clocks.get(0);
        let c = s.binary(0, BinaryOp::Add, a, b).unwrap();
        assert_eq!(f32s(&s, c), [11.0, 22.0, 33.0, 44.0]);
        assert!(s.clocks.get(0) > before, "an op advances the clock");
        let d = s.binary(0, BinaryOp::Mul, a, b).unwrap();
        assert_eq!(f32s(&s, d), [10.0, 40.0, 90.0, 160.0]);
        let e = s.scaled(0, a, 0.5).unwrap();
        assert_eq!(f32s(&s, e), [0.5, 1.0, 1.5, 2.0]);
        s.add_assign(0, a, b).unwrap();
        s.scale_assign(0, a, 2.0).unwrap();
        assert_eq!(f32s(&s, a), [22.0, 44.0, 66.0, 88.0]);
    }

    #[test]
    fn integer_self_add_wraps_like_any_add() {
        let mut s = sim();
        let req = NewTensor {
            shape: vec![2],
            dtype: DType::I8,
            dp: DpPolicy::SplitRows,
            device: 0,
            init: Init::Bytes(vec![100, 0x9c]),
        };
        let a = s.create(0, req).unwrap();
        s.add_assign(0, a, a).unwrap();
        // 100 + 100 = 200 wraps to -56; -100 + -100 = -200 wraps to 56.
        assert_eq!(
            s.store.tensor(a).unwrap().data.as_ref().unwrap().bytes(),
            [(-56i8) as u8, 56]
        );
    }

    #[test]
    fn matmul_is_exact_and_checks_shapes() {
        let mut s = sim();
        let a = tensor(&mut s, &[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 0);
        let b = tensor(&mut s, &[3, 2], &[7.0, 8.0, 9.0, 10.0, 11.0, 12.0], 0);
        let c = s.matmul(0, a, b, DpPolicy::Blocks, None).unwrap();
        assert_eq!(f32s(&s, c), [58.0, 64.0, 139.0, 154.0]);
        let at = s.transpose(0, a).unwrap();
        assert_eq!(s.store.tensor(at).unwrap().shape, [3, 2]);
        assert_eq!(f32s(&s, at), [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        let err = s.matmul(0, a, a, DpPolicy::Blocks, None).unwrap_err();
        assert!(err.to_string().contains("inner dimensions differ"), "{err}");
    }

    #[test]
    fn operands_on_different_devices_are_refused_until_moved() {
        let mut s = sim();
        let a = tensor(&mut s, &[2], &[1.0, 2.0], 0);
        let b = tensor(&mut s, &[2], &[3.0, 4.0], 1);
        let err = s.binary(0, BinaryOp::Add, a, b).unwrap_err();
        assert!(
            err.to_string()
                .contains("different devices (SIP 0 and SIP 1)"),
            "{err}"
        );
        let b0 = s.to_device(0, b, 0).unwrap();
        let sum = s.binary(0, BinaryOp::Add, a, b0).unwrap();
        assert_eq!(f32s(&s, sum), [4.0, 6.0]);
        let z = tensor(&mut s, &[2], &[0.0, 0.0], 3);
        let before = s.clocks.get(0);
        s.copy_from(0, z, a).unwrap();
        assert_eq!(f32s(&s, z), [1.0, 2.0]);
        // 8 bytes over inter-SIP from one cube: 2000 + 1000 (IO_CPU) + ceil(8 / 50) = 3001 ns.
        assert_eq!(s.clocks.get(0) - before, 3001);
    }
}
