//! What every collective does to real data, given every member's buffer in member order.
//!
//! This is the reference the runtime calls once all members have arrived: data results are
//! exact and independent of the algorithm the cost model charges for (ring, tree and
//! intercube move bytes differently but must produce these results). Reductions follow
//! [`super::reduce`]: member (rank) order, per-step rounding for 16-bit floats.
//!
//! Functions never panic on input: a member count of zero, buffers of different lengths, or
//! a length that does not split into whole per-member blocks is `SimError::InvalidArgument`
//! with the sizes in the message.

use super::dtype::DType;
use super::error::{SimError, invalid};
use super::reduce::{ReduceOp, finish_avg, reduce_assign};

/// Bytes of the accumulator processed over all members before moving on, so the
/// accumulator block stays in cache while each member's block streams past it. A multiple
/// of 8, so blocks keep the alignment of the buffers they are cut from.
const BLOCK_BYTES: usize = 64 << 10;

/// The reduction of all members' buffers, which every member receives.
pub fn all_reduce(dtype: DType, op: ReduceOp, inputs: &[&[u8]]) -> Result<Vec<u8>, SimError> {
    let len = element_len("all_reduce", dtype, inputs)?;
    let mut out = alloc(len)?;
    reduce_range(dtype, op, inputs, 0..len, &mut out)?;
    Ok(out)
}

/// [`all_reduce`] into a buffer the caller owns (e.g. an 8-byte aligned tensor), which must
/// have the inputs' length. Its old contents are ignored.
pub fn all_reduce_into(
    dtype: DType,
    op: ReduceOp,
    inputs: &[&[u8]],
    out: &mut [u8],
) -> Result<(), SimError> {
    let len = element_len("all_reduce", dtype, inputs)?;
    if out.len() != len {
        return invalid!(
            "all_reduce: output buffer is {} bytes but the inputs are {len} bytes",
            out.len()
        );
    }
    for start in (0..len).step_by(BLOCK_BYTES) {
        let end = (start + BLOCK_BYTES).min(len);
        let acc = &mut out[start..end];
        acc.copy_from_slice(&inputs[0][start..end]);
        reduce_block(dtype, op, inputs, start, acc)?;
    }
    Ok(())
}

/// Bytes per member below which an in-place all-reduce stays on the calling thread: starting
/// a helper costs tens of microseconds, reducing this much over 8 members about as long.
pub const PARALLEL_MIN_BYTES: usize = 1 << 20;

/// All-reduce in place: every member's buffer ends holding the reduction of all of them, as
/// `all_reduce` on tensors does. It works one cache-sized block at a time (reduce the block of
/// every member into a scratch block, then write it back to each member), so each member byte
/// is read once and written once and nothing larger than a block is allocated.
///
/// With `threads` > 1 and at least [`PARALLEL_MIN_BYTES`] per member, the buffers are cut
/// into `threads` runs of whole blocks and each run is reduced on its own thread. Every
/// element is still reduced over the members in member order, so the result is the same
/// byte for byte whatever the thread count.
pub fn all_reduce_in_place(
    dtype: DType,
    op: ReduceOp,
    bufs: &mut [&mut [u8]],
    threads: usize,
) -> Result<(), SimError> {
    let len = {
        let views: Vec<&[u8]> = bufs.iter().map(|b| &**b).collect();
        element_len("all_reduce", dtype, &views)?
    };
    let threads = threads.clamp(1, len.div_ceil(BLOCK_BYTES).max(1));
    if threads == 1 || len < PARALLEL_MIN_BYTES {
        return reduce_blocks_in_place(dtype, op, bufs, len);
    }
    // Runs of whole blocks (so every cut keeps the buffers' element alignment).
    let run = len.div_ceil(BLOCK_BYTES).div_ceil(threads) * BLOCK_BYTES;
    let mut parts: Vec<Vec<&mut [u8]>> = (0..len.div_ceil(run)).map(|_| Vec::new()).collect();
    for b in bufs.iter_mut() {
        for (part, piece) in parts.iter_mut().zip(b.chunks_mut(run)) {
            part.push(piece);
        }
    }
    let Some((first, rest)) = parts.split_first_mut() else {
        return Ok(());
    };
    std::thread::scope(|scope| {
        let helpers: Vec<_> = rest
            .iter_mut()
            .map(|part| {
                let piece = part.first().map_or(0, |p| p.len());
                scope.spawn(move || reduce_blocks_in_place(dtype, op, part, piece))
            })
            .collect();
        let piece = first.first().map_or(0, |p| p.len());
        let mut result = reduce_blocks_in_place(dtype, op, first, piece);
        for helper in helpers {
            let done = helper
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            result = result.and(done);
        }
        result
    })
}

/// The single-threaded body of [`all_reduce_in_place`] over buffers of `len` bytes.
fn reduce_blocks_in_place(
    dtype: DType,
    op: ReduceOp,
    bufs: &mut [&mut [u8]],
    len: usize,
) -> Result<(), SimError> {
    let mut acc = vec![0u8; BLOCK_BYTES.min(len)];
    for start in (0..len).step_by(BLOCK_BYTES) {
        let end = (start + BLOCK_BYTES).min(len);
        let acc = &mut acc[..end - start];
        {
            let views: Vec<&[u8]> = bufs.iter().map(|b| &**b).collect();
            acc.copy_from_slice(&views[0][start..end]);
            reduce_block(dtype, op, &views, start, acc)?;
        }
        for b in bufs.iter_mut() {
            b[start..end].copy_from_slice(acc);
        }
    }
    Ok(())
}

/// The reduction that `root` receives; the same value as [`all_reduce`] (the runtime
/// delivers it to the root only).
pub fn reduce(
    dtype: DType,
    op: ReduceOp,
    inputs: &[&[u8]],
    root: usize,
) -> Result<Vec<u8>, SimError> {
    check_root("reduce", inputs.len(), root)?;
    all_reduce(dtype, op, inputs)
}

/// The root's buffer, which every member receives. Every member's buffer must have the
/// root's length (they are tensors of one shape).
pub fn broadcast(inputs: &[&[u8]], root: usize) -> Result<Vec<u8>, SimError> {
    common_len("broadcast", inputs)?;
    check_root("broadcast", inputs.len(), root)?;
    copy_of(inputs[root])
}

/// The members' buffers concatenated in member order, which every member receives.
pub fn all_gather(inputs: &[&[u8]]) -> Result<Vec<u8>, SimError> {
    let len = common_len("all_gather", inputs)?;
    let total = len.checked_mul(inputs.len()).ok_or_else(|| {
        SimError::InvalidArgument(format!(
            "all_gather: {} members x {len} bytes overflows",
            inputs.len()
        ))
    })?;
    let mut out = alloc(total)?;
    for input in inputs {
        out.extend_from_slice(input);
    }
    Ok(out)
}

/// Member i receives block i of the reduction: each input is split into `members` equal
/// blocks, and block i of the result reduces block i of every member.
pub fn reduce_scatter(
    dtype: DType,
    op: ReduceOp,
    inputs: &[&[u8]],
) -> Result<Vec<Vec<u8>>, SimError> {
    let block = block_len("reduce_scatter", inputs, dtype.itemsize())?;
    (0..inputs.len())
        .map(|i| {
            let mut out = alloc(block)?;
            reduce_range(dtype, op, inputs, i * block..(i + 1) * block, &mut out)?;
            Ok(out)
        })
        .collect()
}

/// Member i receives the concatenation over members j of block i of member j's buffer,
/// where each buffer is split into `members` equal blocks.
pub fn all_to_all(inputs: &[&[u8]]) -> Result<Vec<Vec<u8>>, SimError> {
    let block = block_len("all_to_all", inputs, 1)?;
    let len = block * inputs.len();
    (0..inputs.len())
        .map(|i| {
            let mut out = alloc(len)?;
            for input in inputs {
                out.extend_from_slice(&input[i * block..(i + 1) * block]);
            }
            Ok(out)
        })
        .collect()
}

/// Append the reduction of `range` of every input to `out`, block by block so each
/// accumulator block is reduced over all members while it is in cache.
fn reduce_range(
    dtype: DType,
    op: ReduceOp,
    inputs: &[&[u8]],
    range: std::ops::Range<usize>,
    out: &mut Vec<u8>,
) -> Result<(), SimError> {
    for start in range.clone().step_by(BLOCK_BYTES) {
        let end = (start + BLOCK_BYTES).min(range.end);
        let base = out.len();
        out.extend_from_slice(&inputs[0][start..end]);
        reduce_block(dtype, op, inputs, start, &mut out[base..])?;
    }
    Ok(())
}

/// Reduce members 1.. of the block at `start` into `acc`, which holds member 0's block.
/// Avg divides as soon as the block's sum is complete.
fn reduce_block(
    dtype: DType,
    op: ReduceOp,
    inputs: &[&[u8]],
    start: usize,
    acc: &mut [u8],
) -> Result<(), SimError> {
    let end = start + acc.len();
    for x in &inputs[1..] {
        reduce_assign(dtype, op, acc, &x[start..end])?;
    }
    if op == ReduceOp::Avg {
        let members = u32::try_from(inputs.len()).map_err(|_| {
            SimError::InvalidArgument(format!("{} members are too many", inputs.len()))
        })?;
        finish_avg(dtype, acc, members)?;
    }
    Ok(())
}

/// The common length of every member's buffer, which must be whole `dtype` elements.
fn element_len(what: &str, dtype: DType, inputs: &[&[u8]]) -> Result<usize, SimError> {
    let len = common_len(what, inputs)?;
    let item = dtype.itemsize();
    if !(len as u64).is_multiple_of(item) {
        return invalid!(
            "{what}: {len} bytes per member is not a whole number of {dtype} elements ({item} bytes each)"
        );
    }
    Ok(len)
}

/// The common length of every member's buffer.
fn common_len(what: &str, inputs: &[&[u8]]) -> Result<usize, SimError> {
    let Some(first) = inputs.first() else {
        return invalid!("{what}: a collective needs at least one member, got 0");
    };
    let len = first.len();
    if let Some((i, other)) = inputs.iter().enumerate().find(|(_, b)| b.len() != len) {
        return invalid!(
            "{what}: member {i} has {} bytes but member 0 has {len} bytes; every member must pass the same size",
            other.len()
        );
    }
    Ok(len)
}

/// The per-member block length: the common length split into `members` equal blocks of
/// whole `itemsize`-byte elements.
fn block_len(what: &str, inputs: &[&[u8]], itemsize: u64) -> Result<usize, SimError> {
    let len = common_len(what, inputs)?;
    let members = inputs.len();
    let unit = members as u64 * itemsize;
    if !(len as u64).is_multiple_of(unit) {
        return invalid!(
            "{what}: {len} bytes per member do not split into {members} equal blocks of whole {itemsize}-byte elements \
             (the size must be a multiple of {unit} bytes)"
        );
    }
    Ok(len / members)
}

fn check_root(what: &str, members: usize, root: usize) -> Result<(), SimError> {
    if root >= members {
        return invalid!("{what}: root {root} is not a member of a group of {members}");
    }
    Ok(())
}

fn alloc(capacity: usize) -> Result<Vec<u8>, SimError> {
    let mut v = Vec::new();
    v.try_reserve_exact(capacity).map_err(|_| {
        SimError::LimitExceeded(format!(
            "host memory for a {capacity}-byte collective result is not available"
        ))
    })?;
    Ok(v)
}

fn copy_of(bytes: &[u8]) -> Result<Vec<u8>, SimError> {
    let mut v = alloc(bytes.len())?;
    v.extend_from_slice(bytes);
    Ok(v)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
