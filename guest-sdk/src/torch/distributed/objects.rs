//! Collectives over objects, as `broadcast_object_list` and `all_gather_object`: an object is
//! its bytes (serialize it however the bench likes), moved as `int8` tensors after their
//! lengths, as PyTorch moves pickles. The simulated time is that of the collectives used.
//!
//! ```no_run
//! use kernbench::torch::distributed as dist;
//! # fn main() -> Result<(), kernbench::Error> {
//! dist::init_process_group("ccl")?;
//! let mut config = vec![b"lr=0.1".to_vec(), b"steps=10".to_vec()];
//! dist::broadcast_object_list(&mut config, 0)?; // rank 0's list everywhere
//! let names = dist::all_gather_object(format!("rank {}", dist::get_rank()?).as_bytes())?;
//! println!("{} ranks", names.len());
//! # Ok(())
//! # }
//! ```

use super::{all_gather_into_tensor, broadcast, get_world_size};
use crate::error::{Error, ErrorKind, Result};
use crate::tensor::Tensor;
use crate::types::DType;

fn too_big(len: usize) -> Error {
    Error::new(
        ErrorKind::InvalidArgument,
        format!("an object of {len} bytes is larger than an object collective moves (2 GiB)"),
    )
}

/// Lengths as an `int32` tensor, bytes exact (no float round trip).
fn lengths_tensor(lengths: &[usize]) -> Result<Tensor> {
    let mut bytes = Vec::with_capacity(lengths.len() * 4);
    for &l in lengths {
        bytes.extend_from_slice(&i32::try_from(l).map_err(|_| too_big(l))?.to_le_bytes());
    }
    Tensor::from_bytes(&[lengths.len() as u64], &bytes, DType::I32)
}

fn lengths_of(t: &Tensor) -> Result<Vec<usize>> {
    Ok(t.to_bytes()?
        .chunks_exact(4)
        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]).max(0) as usize)
        .collect())
}

/// Bytes as an `int8` tensor of at least one element (a tensor cannot be empty).
fn bytes_tensor(bytes: &[u8], len: usize) -> Result<Tensor> {
    let mut padded = bytes.to_vec();
    padded.resize(len.max(1), 0);
    Tensor::from_bytes(&[padded.len() as u64], &padded, DType::I8)
}

/// Replace every rank's `objects` with rank `src`'s, as `broadcast_object_list`: every rank
/// passes a list of the same length; the others' contents are overwritten.
pub fn broadcast_object_list(objects: &mut [Vec<u8>], src: u32) -> Result<()> {
    let mut lengths = lengths_tensor(&objects.iter().map(Vec::len).collect::<Vec<_>>())?;
    broadcast(&mut lengths, src)?;
    let lengths = lengths_of(&lengths)?;
    let total: usize = lengths.iter().sum();
    let mut data = bytes_tensor(&objects.concat(), total)?;
    broadcast(&mut data, src)?;
    let bytes = data.to_bytes()?;
    let mut at = 0;
    for (object, len) in objects.iter_mut().zip(lengths) {
        *object = bytes.get(at..at + len).unwrap_or_default().to_vec();
        at += len;
    }
    Ok(())
}

/// Every rank's `object`, in rank order, as `all_gather_object`.
pub fn all_gather_object(object: &[u8]) -> Result<Vec<Vec<u8>>> {
    let n = get_world_size()? as usize;
    let mine = lengths_tensor(&[object.len()])?;
    let mut all = Tensor::zeros(&[n as u64], DType::I32)?;
    all_gather_into_tensor(&mut all, &mine)?;
    let lengths = lengths_of(&all)?;
    let longest = lengths.iter().copied().max().unwrap_or(0).max(1);
    let padded = bytes_tensor(object, longest)?;
    let total = (n as u64)
        .checked_mul(longest as u64)
        .ok_or_else(|| too_big(longest))?;
    let mut gathered = Tensor::zeros(&[total], DType::I8)?;
    all_gather_into_tensor(&mut gathered, &padded)?;
    let bytes = gathered.to_bytes()?;
    Ok(lengths
        .into_iter()
        .enumerate()
        .map(|(i, len)| {
            let start = i * longest;
            bytes
                .get(start..start + len.min(longest))
                .unwrap_or_default()
                .to_vec()
        })
        .collect())
}
