//! `Tensor`: a handle on a tensor the host owns, with PyTorch-shaped constructors.

use crate::error::{Error, ErrorKind, Result};
use crate::types::{DType, DpPolicy, ShardSpec};
use crate::version::keep_stamp;
use crate::wit::tensors as w;
use half::{bf16, f16};

/// Largest piece [`Tensor::to_bytes`] and friends move per host call; stays far below the
/// host's per-buffer limit so whole-tensor reads work at any size the guest can hold.
const TRANSFER_CHUNK: u64 = 8 << 20;

/// Where and how a new tensor is placed: dtype, DP policy and device.
///
/// A bare [`DType`] converts into options with the default policy and the current device, so
/// `Tensor::zeros(&[4, 4], DType::F32)` reads like `torch.zeros(4, 4, dtype=torch.float32)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TensorOptions {
    /// Element type.
    pub dtype: DType,
    /// Layout in the SIP.
    pub dp: DpPolicy,
    /// SIP; `None` means the rank's current device.
    pub device: Option<u32>,
}

impl TensorOptions {
    /// `dtype` with the default policy ([`DpPolicy::SplitRows`]) on the current device.
    pub fn new(dtype: DType) -> Self {
        TensorOptions {
            dtype,
            dp: DpPolicy::default(),
            device: None,
        }
    }

    /// Use this DP policy.
    pub fn dp(mut self, dp: DpPolicy) -> Self {
        self.dp = dp;
        self
    }

    /// Place on SIP `device`.
    pub fn device(mut self, device: u32) -> Self {
        self.device = Some(device);
        self
    }

    pub(crate) fn wit(self) -> w::TensorOptions {
        keep_stamp();
        w::TensorOptions {
            dp: self.dp.into(),
            device: self.device,
        }
    }
}

impl From<DType> for TensorOptions {
    fn from(dtype: DType) -> Self {
        TensorOptions::new(dtype)
    }
}

/// A tensor on the simulated system. Dropping it frees its HBM.
#[derive(Debug)]
pub struct Tensor {
    pub(crate) inner: w::Tensor,
}

impl Tensor {
    /// All zeros, as `torch.zeros`.
    pub fn zeros(shape: &[u64], options: impl Into<TensorOptions>) -> Result<Tensor> {
        let o = options.into();
        Ok(Tensor {
            inner: w::Tensor::zeros(shape, o.dtype.into(), o.wit())?,
        })
    }

    /// All ones, as `torch.ones`.
    pub fn ones(shape: &[u64], options: impl Into<TensorOptions>) -> Result<Tensor> {
        let o = options.into();
        Ok(Tensor {
            inner: w::Tensor::ones(shape, o.dtype.into(), o.wit())?,
        })
    }

    /// Every element `value`, as `torch.full`.
    pub fn full(shape: &[u64], value: f64, options: impl Into<TensorOptions>) -> Result<Tensor> {
        let o = options.into();
        Ok(Tensor {
            inner: w::Tensor::full(shape, value, o.dtype.into(), o.wit())?,
        })
    }

    /// A meta tensor (`device="meta"`): shape, placement, HBM and time, but no data. Use it
    /// for sizes the guest could never hold.
    pub fn meta(shape: &[u64], options: impl Into<TensorOptions>) -> Result<Tensor> {
        let o = options.into();
        Ok(Tensor {
            inner: w::Tensor::meta(shape, o.dtype.into(), o.wit())?,
        })
    }

    /// From little-endian bytes (`numel * itemsize` of them).
    pub fn from_bytes(
        shape: &[u64],
        data: &[u8],
        options: impl Into<TensorOptions>,
    ) -> Result<Tensor> {
        let o = options.into();
        Ok(Tensor {
            inner: w::Tensor::from_bytes(shape, o.dtype.into(), data, o.wit())?,
        })
    }

    /// From `f32` values, converted to the options' dtype (as `torch.tensor(values, dtype=..)`).
    pub fn from_f32(
        shape: &[u64],
        values: &[f32],
        options: impl Into<TensorOptions>,
    ) -> Result<Tensor> {
        let o = options.into();
        Tensor::from_bytes(shape, &encode_f32(o.dtype, values), o)
    }

    /// From `i32` values, converted to the options' dtype.
    pub fn from_i32(
        shape: &[u64],
        values: &[i32],
        options: impl Into<TensorOptions>,
    ) -> Result<Tensor> {
        let o = options.into();
        let as_f32: Vec<f32> = values.iter().map(|&v| v as f32).collect();
        let bytes = match o.dtype {
            DType::I32 => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            DType::I8 => values.iter().map(|&v| v as i8 as u8).collect(),
            DType::I64 => values
                .iter()
                .flat_map(|&v| i64::from(v).to_le_bytes())
                .collect(),
            DType::F64 => values
                .iter()
                .flat_map(|&v| f64::from(v).to_le_bytes())
                .collect(),
            _ => encode_f32(o.dtype, &as_f32),
        };
        Tensor::from_bytes(shape, &bytes, o)
    }

    /// Dimensions.
    pub fn shape(&self) -> Vec<u64> {
        self.inner.shape()
    }

    /// Element type.
    pub fn dtype(&self) -> DType {
        self.inner.dtype().into()
    }

    /// The SIP holding the tensor.
    pub fn device(&self) -> u32 {
        self.inner.device()
    }

    /// Number of elements.
    pub fn numel(&self) -> u64 {
        self.inner.numel()
    }

    /// Size in bytes (`numel * itemsize`, replicas not counted).
    pub fn nbytes(&self) -> u64 {
        self.inner.nbytes()
    }

    /// Whether it is a meta tensor (no data).
    pub fn is_meta(&self) -> bool {
        self.inner.is_meta()
    }

    /// Its DP policy.
    pub fn dp_policy(&self) -> DpPolicy {
        self.inner.dp_policy().into()
    }

    /// Its shards in structural coordinates `(sip, cube, pe)`.
    pub fn placement(&self) -> Vec<ShardSpec> {
        self.inner
            .placement()
            .into_iter()
            .map(ShardSpec::from)
            .collect()
    }

    /// `len` bytes of data from byte `offset`.
    pub fn read_bytes(&self, offset: u64, len: u64) -> Result<Vec<u8>> {
        Ok(self.inner.read_bytes(offset, len)?)
    }

    /// Overwrite data from byte `offset`.
    pub fn write_bytes(&mut self, offset: u64, data: &[u8]) -> Result<()> {
        Ok(self.inner.write_bytes(offset, data)?)
    }

    /// All data as bytes (moved in pieces, so any size the guest can hold works).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let total = self.nbytes();
        let mut out = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
        let mut offset = 0;
        while offset < total {
            let len = TRANSFER_CHUNK.min(total - offset);
            out.extend_from_slice(&self.inner.read_bytes(offset, len)?);
            offset += len;
        }
        Ok(out)
    }

    /// All elements as `f32` (16-bit floats widened, integers converted).
    pub fn to_vec_f32(&self) -> Result<Vec<f32>> {
        Ok(decode_f32(self.dtype(), &self.to_bytes()?))
    }

    /// All elements as `f64` (the exact values of an f64 tensor).
    pub fn to_vec_f64(&self) -> Result<Vec<f64>> {
        Ok(decode_f64(self.dtype(), &self.to_bytes()?))
    }

    /// All elements of an integer or bool tensor as `i64` (exact).
    pub fn to_vec_i64(&self) -> Result<Vec<i64>> {
        let bytes = self.to_bytes()?;
        match self.dtype() {
            DType::I64 => Ok(bytes
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(eight(c)))
                .collect()),
            DType::I32 | DType::I8 | DType::Bool => {
                Ok(self.to_vec_i32()?.into_iter().map(i64::from).collect())
            }
            other => Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("to_vec_i64 needs an integer tensor, this one is {other}; use to_vec_f64"),
            )),
        }
    }

    /// All elements of an integer tensor as `i32`.
    pub fn to_vec_i32(&self) -> Result<Vec<i32>> {
        let bytes = self.to_bytes()?;
        match self.dtype() {
            DType::I32 => Ok(bytes
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect()),
            DType::I8 => Ok(bytes.iter().map(|&b| i32::from(b as i8)).collect()),
            DType::Bool => Ok(bytes.iter().map(|&b| i32::from(b != 0)).collect()),
            other => Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("to_vec_i32 needs an integer tensor, this one is {other}; use to_vec_f32"),
            )),
        }
    }

    /// `self + other`, placed like `self`; shapes broadcast as in PyTorch (`[2, 3] + [3]`).
    pub fn add(&self, other: &Tensor) -> Result<Tensor> {
        self.arith(w::ArithOp::Add, other)
    }

    /// `self * other` elementwise, placed like `self`; shapes broadcast.
    pub fn mul(&self, other: &Tensor) -> Result<Tensor> {
        self.arith(w::ArithOp::Mul, other)
    }

    /// `self * factor`.
    pub fn scale(&self, factor: f64) -> Result<Tensor> {
        Ok(Tensor {
            inner: self.inner.scale(factor)?,
        })
    }

    /// In place `self += other` (`torch.Tensor.add_`).
    pub fn add_(&mut self, other: &Tensor) -> Result<()> {
        Ok(self.inner.add_assign(&other.inner)?)
    }

    /// In place `self *= factor` (`torch.Tensor.mul_` by a scalar).
    pub fn scale_(&mut self, factor: f64) -> Result<()> {
        Ok(self.inner.scale_assign(factor)?)
    }

    /// The transpose of a 2-D tensor (`tensor.t()`), as a new tensor.
    pub fn t(&self) -> Result<Tensor> {
        Ok(Tensor {
            inner: self.inner.transpose()?,
        })
    }

    /// Matrix product of two 2-D tensors; the result has `self`'s dtype, the default policy
    /// and `self`'s device.
    pub fn matmul(&self, other: &Tensor) -> Result<Tensor> {
        let options = TensorOptions::new(self.dtype()).device(self.device());
        self.matmul_with(other, options)
    }

    /// Matrix product with the result placed by `options`. Its dtype must be `self`'s:
    /// matmul does not convert, and options asking for another dtype are an
    /// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) error.
    pub fn matmul_with(&self, other: &Tensor, options: TensorOptions) -> Result<Tensor> {
        let (want, have) = (options.dtype, self.dtype());
        if want != have {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "matmul: the options ask for a {want} result, but the operands are {have}; matmul does not convert (convert an operand first, or pass {have})"
                ),
            ));
        }
        Ok(Tensor {
            inner: self.inner.matmul(&other.inner, options.wit())?,
        })
    }

    /// A copy on SIP `device` with the same layout (`tensor.to(device)`).
    pub fn to_device(&self, device: u32) -> Result<Tensor> {
        Ok(Tensor {
            inner: self.inner.to_device(device)?,
        })
    }

    /// Overwrite with `src`'s data (same shape and dtype), possibly across SIPs
    /// (`torch.Tensor.copy_`).
    pub fn copy_(&mut self, src: &Tensor) -> Result<()> {
        Ok(self.inner.copy_from(&src.inner)?)
    }
}

/// Little-endian bytes of `values` converted to `dtype`.
pub(crate) fn encode_f32(dtype: DType, values: &[f32]) -> Vec<u8> {
    match dtype {
        DType::F32 => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        DType::BF16 => values
            .iter()
            .flat_map(|&v| bf16::from_f32(v).to_le_bytes())
            .collect(),
        DType::F16 => values
            .iter()
            .flat_map(|&v| f16::from_f32(v).to_le_bytes())
            .collect(),
        DType::I32 => values
            .iter()
            .flat_map(|&v| (v as i32).to_le_bytes())
            .collect(),
        DType::I8 => values.iter().map(|&v| v as i8 as u8).collect(),
        DType::F64 => values
            .iter()
            .flat_map(|&v| f64::from(v).to_le_bytes())
            .collect(),
        DType::I64 => values
            .iter()
            .flat_map(|&v| (v as i64).to_le_bytes())
            .collect(),
        DType::Bool => values.iter().map(|&v| u8::from(v != 0.0)).collect(),
    }
}

/// Elements of `bytes` (of `dtype`) as `f32`.
pub(crate) fn decode_f32(dtype: DType, bytes: &[u8]) -> Vec<f32> {
    match dtype {
        DType::F32 => bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        DType::BF16 => bytes
            .chunks_exact(2)
            .map(|c| bf16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        DType::F16 => bytes
            .chunks_exact(2)
            .map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        DType::I32 => bytes
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f32)
            .collect(),
        DType::I8 => bytes.iter().map(|&b| f32::from(b as i8)).collect(),
        DType::F64 => bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(eight(c)) as f32)
            .collect(),
        DType::I64 => bytes
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(eight(c)) as f32)
            .collect(),
        DType::Bool => bytes.iter().map(|&b| f32::from(u8::from(b != 0))).collect(),
    }
}

/// Elements of `bytes` (of `dtype`) as `f64` (exact for every dtype but i64 beyond 2^53).
pub(crate) fn decode_f64(dtype: DType, bytes: &[u8]) -> Vec<f64> {
    match dtype {
        DType::F64 => bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(eight(c)))
            .collect(),
        DType::I64 => bytes
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(eight(c)) as f64)
            .collect(),
        other => decode_f32(other, bytes)
            .into_iter()
            .map(f64::from)
            .collect(),
    }
}

fn eight(c: &[u8]) -> [u8; 8] {
    let mut out = [0u8; 8];
    out.copy_from_slice(c);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_and_decode_round_trip_exact_values() {
        let values = [0.0f32, 1.0, -2.5, 1024.0];
        for dtype in [DType::F32, DType::BF16, DType::F16] {
            assert_eq!(
                decode_f32(dtype, &encode_f32(dtype, &values)),
                values,
                "{dtype}"
            );
        }
        assert_eq!(
            decode_f32(DType::I8, &encode_f32(DType::I8, &[-3.0, 4.0])),
            [-3.0, 4.0]
        );
    }
}
