//! Tensors as the simulator holds them: shape, type, placement, and (unless meta) real data.

use super::dtype::DType;
use super::error::{SimError, invalid};
use super::placement::{DpPolicy, ShardSpec};

/// Most dimensions a shape may have (PyTorch allows 64; benches never need more than this).
pub const MAX_DIMS: usize = 16;

/// Tensor bytes, 8-byte aligned so typed views (`&[f32]`, `&[i32]` ...) are free casts.
#[derive(Clone, PartialEq, Eq)]
pub struct TensorData {
    words: Vec<u64>,
    len: usize,
}

impl std::fmt::Debug for TensorData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TensorData({} bytes)", self.len)
    }
}

impl TensorData {
    /// `len` zero bytes, or an error instead of aborting when the allocation fails.
    pub fn zeroed(len: u64) -> Result<Self, SimError> {
        let len = usize::try_from(len).map_err(|_| {
            SimError::LimitExceeded(format!("{len} bytes do not fit in host memory"))
        })?;
        let words_len = len.div_ceil(8);
        let mut words = Vec::new();
        words.try_reserve_exact(words_len).map_err(|_| {
            SimError::LimitExceeded(format!(
                "host memory for {len} bytes of tensor data is not available"
            ))
        })?;
        words.resize(words_len, 0);
        Ok(TensorData { words, len })
    }

    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        &bytemuck::cast_slice::<u64, u8>(&self.words)[..self.len]
    }

    /// The bytes, writable.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut bytemuck::cast_slice_mut::<u64, u8>(&mut self.words)[..self.len]
    }

    /// Fill with repetitions of one element's bytes.
    pub fn fill(&mut self, element: &[u8]) {
        if element.iter().all(|&b| b == 0) {
            self.bytes_mut().fill(0);
            return;
        }
        for chunk in self.bytes_mut().chunks_exact_mut(element.len()) {
            chunk.copy_from_slice(element);
        }
    }
}

/// A tensor in the simulator.
#[derive(Debug, Clone)]
pub struct Tensor {
    /// Dimensions.
    pub shape: Vec<u64>,
    /// Element type.
    pub dtype: DType,
    /// Layout in the SIP.
    pub dp: DpPolicy,
    /// SIP holding it.
    pub device: u32,
    /// Shards, in structural coordinates.
    pub shards: Vec<ShardSpec>,
    /// Data, row-major little-endian; `None` for a meta tensor.
    pub data: Option<TensorData>,
    /// The rank whose handle owns it.
    pub owner: u32,
}

/// Elements of a shape already checked at creation (`checked_size`); a zero dimension
/// short-cuts the product, so no order of dimensions can overflow it.
pub fn numel(shape: &[u64]) -> u64 {
    if shape.contains(&0) {
        0
    } else {
        shape.iter().product()
    }
}

impl Tensor {
    /// Number of elements.
    pub fn numel(&self) -> u64 {
        numel(&self.shape)
    }

    /// Logical size in bytes.
    pub fn nbytes(&self) -> u64 {
        self.numel() * self.dtype.itemsize()
    }

    /// HBM bytes over all shards (replicas counted).
    pub fn hbm_bytes(&self) -> u64 {
        self.shards.iter().map(|s| s.bytes).sum()
    }

    /// `[4096, 4096] bfloat16`, for messages.
    pub fn describe(&self) -> String {
        describe(&self.shape, self.dtype)
    }

    /// The data, or an error naming why a meta tensor has none.
    pub fn data(&self, op: &str) -> Result<&TensorData, SimError> {
        self.data.as_ref().ok_or_else(|| meta_has_no_data(op, self))
    }

    /// The data, writable.
    pub fn data_mut(&mut self, op: &str) -> Result<&mut TensorData, SimError> {
        let described = self.describe();
        self.data.as_mut().ok_or_else(|| {
            SimError::Unsupported(format!(
                "{op}: tensor {described} is a meta tensor and has no data"
            ))
        })
    }

    /// Check that `[offset, offset + len)` lies inside the data.
    pub fn check_range(&self, offset: u64, len: u64) -> Result<std::ops::Range<usize>, SimError> {
        let nbytes = self.nbytes();
        match offset.checked_add(len) {
            Some(end) if end <= nbytes => Ok(offset as usize..end as usize),
            _ => invalid!(
                "byte range {offset}..{offset}+{len} is outside tensor {} of {nbytes} bytes",
                self.describe()
            ),
        }
    }
}

fn meta_has_no_data(op: &str, t: &Tensor) -> SimError {
    SimError::Unsupported(format!(
        "{op}: tensor {} is a meta tensor and has no data",
        t.describe()
    ))
}

/// `[4096, 4096] bfloat16`.
pub fn describe(shape: &[u64], dtype: DType) -> String {
    let dims: Vec<String> = shape.iter().map(u64::to_string).collect();
    format!("[{}] {dtype}", dims.join(", "))
}

/// Check a shape and return its element count and byte size, without overflow.
pub fn checked_size(shape: &[u64], dtype: DType) -> Result<(u64, u64), SimError> {
    if shape.len() > MAX_DIMS {
        return invalid!(
            "shape has {} dimensions; at most {MAX_DIMS} are supported",
            shape.len()
        );
    }
    // Any zero dimension makes an empty tensor, whatever the order of the dimensions.
    let numel = if shape.contains(&0) {
        Some(0)
    } else {
        shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d))
    };
    match numel.and_then(|n| n.checked_mul(dtype.itemsize()).map(|b| (n, b))) {
        Some(sizes) => Ok(sizes),
        None => invalid!(
            "shape {} overflows: its element count times {} bytes exceeds 2^64",
            describe(shape, dtype),
            dtype.itemsize()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_aligned_for_typed_views() {
        let data = TensorData::zeroed(12).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(data.bytes().len(), 12);
        assert_eq!(data.bytes().as_ptr() as usize % 8, 0);
    }

    #[test]
    fn fill_repeats_the_element() {
        let mut data = TensorData::zeroed(6).unwrap_or_else(|e| panic!("{e}"));
        data.fill(&[1, 2]);
        assert_eq!(data.bytes(), [1, 2, 1, 2, 1, 2]);
    }

    #[test]
    fn checked_size_rejects_overflow_and_rank() {
        assert_eq!(checked_size(&[2, 3], DType::F32).ok(), Some((6, 24)));
        assert_eq!(checked_size(&[], DType::I8).ok(), Some((1, 1)));
        assert_eq!(
            checked_size(&[1 << 32, 1 << 32, 0], DType::F32).ok(),
            Some((0, 0))
        );
        let err = checked_size(&[1 << 40, 1 << 30], DType::F32).unwrap_err();
        assert!(err.to_string().contains("overflows"), "{err}");
        let err = checked_size(&[1; 17], DType::F32).unwrap_err();
        assert!(err.to_string().contains("17 dimensions"), "{err}");
    }
}
