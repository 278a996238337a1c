//! The rest of PyTorch's tensor API the host offers (WIT 0.2): arithmetic with broadcasting,
//! activations, reductions, softmax, shape ops, dtype conversion, `arange` and seeded random
//! tensors. Every op returns a new tensor (the simulator has no views) placed like `self`.
//!
//! ```no_run
//! use kernbench::torch::{DType, Tensor};
//! # fn main() -> Result<(), kernbench::Error> {
//! let x = Tensor::randn(&[4, 8], DType::F32)?;          // seeded per run and rank
//! let bias = Tensor::arange(0.0, 8.0, 1.0, DType::F32)?; // [8], broadcast over rows
//! let h = x.add(&bias)?.gelu()?;
//! let p = h.softmax(-1)?;
//! let rows = p.sum_dim(-1, false)?;                       // [4], each 1
//! let flat = p.reshape(&[-1])?.narrow(0, 0, 16)?;
//! println!("{:?} {:?}", rows.shape(), flat.shape());
//! # Ok(())
//! # }
//! ```

use crate::error::Result;
use crate::tensor::{Tensor, TensorOptions};
use crate::types::DType;
use crate::wit::tensors as w;

impl Tensor {
    fn wrap(inner: w::Tensor) -> Tensor {
        Tensor { inner }
    }

    pub(crate) fn arith(&self, op: w::ArithOp, other: &Tensor) -> Result<Tensor> {
        Ok(Tensor::wrap(self.inner.arith(op, &other.inner)?))
    }

    fn unary(&self, op: w::UnaryOp) -> Result<Tensor> {
        Ok(Tensor::wrap(self.inner.unary(op)?))
    }

    fn reduce(&self, op: w::Reduction, dim: Option<i64>, keepdim: bool) -> Result<Tensor> {
        Ok(Tensor::wrap(self.inner.reduce_dim(op, dim, keepdim)?))
    }

    /// `self - other`, broadcasting (`torch.sub`).
    pub fn sub(&self, other: &Tensor) -> Result<Tensor> {
        self.arith(w::ArithOp::Sub, other)
    }

    /// `self / other`, broadcasting; integer tensors give float32 (`torch.div`).
    pub fn div(&self, other: &Tensor) -> Result<Tensor> {
        self.arith(w::ArithOp::Div, other)
    }

    /// `-self` (`torch.neg`).
    pub fn neg(&self) -> Result<Tensor> {
        self.unary(w::UnaryOp::Neg)
    }

    /// `max(self, 0)` (`torch.relu`).
    pub fn relu(&self) -> Result<Tensor> {
        self.unary(w::UnaryOp::Relu)
    }

    /// The exact GELU, `x Φ(x)` (`torch.nn.functional.gelu`).
    pub fn gelu(&self) -> Result<Tensor> {
        self.unary(w::UnaryOp::Gelu)
    }

    /// Sum of every element, a 0-d tensor; integers and bool sum to int64 (`tensor.sum()`).
    pub fn sum(&self) -> Result<Tensor> {
        self.reduce(w::Reduction::Sum, None, false)
    }

    /// Sum over `dim` (negative counts from the end), as `tensor.sum(dim, keepdim)`.
    pub fn sum_dim(&self, dim: i64, keepdim: bool) -> Result<Tensor> {
        self.reduce(w::Reduction::Sum, Some(dim), keepdim)
    }

    /// Mean of every element (floating-point tensors), a 0-d tensor.
    pub fn mean(&self) -> Result<Tensor> {
        self.reduce(w::Reduction::Mean, None, false)
    }

    /// Mean over `dim`, as `tensor.mean(dim, keepdim)`.
    pub fn mean_dim(&self, dim: i64, keepdim: bool) -> Result<Tensor> {
        self.reduce(w::Reduction::Mean, Some(dim), keepdim)
    }

    /// The maximum over `dim` (the values of `tensor.max(dim, keepdim)`; NaN wins).
    pub fn max_dim(&self, dim: i64, keepdim: bool) -> Result<Tensor> {
        self.reduce(w::Reduction::Max, Some(dim), keepdim)
    }

    /// The minimum over `dim`, as [`max_dim`](Self::max_dim).
    pub fn min_dim(&self, dim: i64, keepdim: bool) -> Result<Tensor> {
        self.reduce(w::Reduction::Min, Some(dim), keepdim)
    }

    /// Softmax over `dim` (`torch.softmax`).
    pub fn softmax(&self, dim: i64) -> Result<Tensor> {
        Ok(Tensor::wrap(self.inner.softmax(dim)?))
    }

    /// The same elements in `shape`; one entry may be -1 (`tensor.reshape`).
    pub fn reshape(&self, shape: &[i64]) -> Result<Tensor> {
        Ok(Tensor::wrap(self.inner.reshape(shape)?))
    }

    /// [`reshape`](Self::reshape): the simulator makes a new tensor either way.
    pub fn view(&self, shape: &[i64]) -> Result<Tensor> {
        self.reshape(shape)
    }

    /// Elements `start .. start + length` along `dim` (`tensor.narrow`), as a new tensor.
    pub fn narrow(&self, dim: i64, start: u64, length: u64) -> Result<Tensor> {
        Ok(Tensor::wrap(self.inner.narrow(dim, start, length)?))
    }

    /// This tensor converted to `dtype` (`tensor.to(dtype)`).
    pub fn to(&self, dtype: DType) -> Result<Tensor> {
        Ok(Tensor::wrap(self.inner.to_dtype(dtype.into())?))
    }

    /// The tensors joined along `dim` (`torch.cat`).
    pub fn cat(tensors: &[&Tensor], dim: i64) -> Result<Tensor> {
        let inner: Vec<&w::Tensor> = tensors.iter().map(|t| &t.inner).collect();
        Ok(Tensor::wrap(w::Tensor::cat(&inner, dim)?))
    }

    /// `[start, start + step, ...)` below `end` (`torch.arange`).
    pub fn arange(
        start: f64,
        end: f64,
        step: f64,
        options: impl Into<TensorOptions>,
    ) -> Result<Tensor> {
        let o = options.into();
        Ok(Tensor::wrap(w::Tensor::arange(
            start,
            end,
            step,
            o.dtype.into(),
            o.wit(),
        )?))
    }

    /// Uniform on `[0, 1)` (`torch.rand`), seeded by the run's seed and the rank.
    pub fn rand(shape: &[u64], options: impl Into<TensorOptions>) -> Result<Tensor> {
        let o = options.into();
        Ok(Tensor::wrap(w::Tensor::random(
            shape,
            w::Distribution::Uniform,
            o.dtype.into(),
            o.wit(),
        )?))
    }

    /// Standard normal (`torch.randn`), seeded as [`rand`](Self::rand).
    pub fn randn(shape: &[u64], options: impl Into<TensorOptions>) -> Result<Tensor> {
        let o = options.into();
        Ok(Tensor::wrap(w::Tensor::random(
            shape,
            w::Distribution::Normal,
            o.dtype.into(),
            o.wit(),
        )?))
    }
}
