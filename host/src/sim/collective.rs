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

/// All-reduce in place: every member's buffer ends holding the reduction of all of them, as
/// `all_reduce` on tensors does. It works one cache-sized block at a time (reduce the block of
/// every member into a scratch block, then write it back to each member), so each member byte
/// is read once and written once and nothing larger than a block is allocated.
pub fn all_reduce_in_place(
    dtype: DType,
    op: ReduceOp,
    bufs: &mut [&mut [u8]],
) -> Result<(), SimError> {
    let len = {
        let views: Vec<&[u8]> = bufs.iter().map(|b| &**b).collect();
        element_len("all_reduce", dtype, &views)?
    };
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
mod tests {
    use super::*;
    use half::{bf16, f16};

    const DTYPES: [DType; 5] = [DType::F32, DType::BF16, DType::F16, DType::I32, DType::I8];

    fn member_data(dtype: DType, member: usize, elems: usize) -> Vec<u8> {
        let mut s = (member as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ elems as u64;
        (0..elems)
            .flat_map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                let u = (s >> 11) as f64 / (1u64 << 53) as f64;
                let v = match dtype {
                    DType::I8 => (u * 256.0).floor() - 128.0,
                    DType::I32 => (u * 4.0e9).floor() - 2.0e9,
                    // Products of 64 members stay finite-ish around 1.
                    _ => 0.5 + u,
                };
                dtype.scalar_bytes(v)
            })
            .collect()
    }

    /// Independent reference: element by element, fold members in rank order with scalar
    /// ops (`half` for the 16-bit types, which computes in f32 and rounds each step).
    fn reference(dtype: DType, op: ReduceOp, inputs: &[Vec<u8>]) -> Vec<u8> {
        let item = dtype.itemsize() as usize;
        let n = inputs.len();
        let elems = inputs[0].len() / item;
        let el = |m: usize, e: usize| &inputs[m][e * item..(e + 1) * item];
        let pick_f = |a: f32, b: f32, min: bool| -> bool {
            // true = take b
            !a.is_nan() && (b.is_nan() || if min { b < a } else { b > a })
        };
        let mut out = Vec::new();
        for e in 0..elems {
            match dtype {
                DType::F32 => {
                    let get = |m| f32::from_le_bytes(el(m, e).try_into().unwrap());
                    let mut acc = get(0);
                    for m in 1..n {
                        let x = get(m);
                        acc = match op {
                            ReduceOp::Sum | ReduceOp::Avg => acc + x,
                            ReduceOp::Product => acc * x,
                            ReduceOp::Min | ReduceOp::Max => {
                                if pick_f(acc, x, op == ReduceOp::Min) {
                                    x
                                } else {
                                    acc
                                }
                            }
                        };
                    }
                    if op == ReduceOp::Avg {
                        acc /= n as f32;
                    }
                    out.extend_from_slice(&acc.to_le_bytes());
                }
                DType::BF16 => {
                    let get = |m| bf16::from_le_bytes(el(m, e).try_into().unwrap());
                    let mut acc = get(0);
                    for m in 1..n {
                        let x = get(m);
                        acc = match op {
                            ReduceOp::Sum | ReduceOp::Avg => acc + x,
                            ReduceOp::Product => acc * x,
                            _ => {
                                if pick_f(acc.to_f32(), x.to_f32(), op == ReduceOp::Min) {
                                    x
                                } else {
                                    acc
                                }
                            }
                        };
                    }
                    if op == ReduceOp::Avg {
                        acc = bf16::from_f32(acc.to_f32() / n as f32);
                    }
                    out.extend_from_slice(&acc.to_le_bytes());
                }
                DType::F16 => {
                    let get = |m| f16::from_le_bytes(el(m, e).try_into().unwrap());
                    let mut acc = get(0);
                    for m in 1..n {
                        let x = get(m);
                        acc = match op {
                            ReduceOp::Sum | ReduceOp::Avg => acc + x,
                            ReduceOp::Product => acc * x,
                            _ => {
                                if pick_f(acc.to_f32(), x.to_f32(), op == ReduceOp::Min) {
                                    x
                                } else {
                                    acc
                                }
                            }
                        };
                    }
                    if op == ReduceOp::Avg {
                        acc = f16::from_f32(acc.to_f32() / n as f32);
                    }
                    out.extend_from_slice(&acc.to_le_bytes());
                }
                DType::I32 | DType::I8 => {
                    let get = |m: usize| -> i64 {
                        if dtype == DType::I8 {
                            i64::from(el(m, e)[0] as i8)
                        } else {
                            i64::from(i32::from_le_bytes(el(m, e).try_into().unwrap()))
                        }
                    };
                    let wrap = |v: i64| {
                        if dtype == DType::I8 {
                            i64::from(v as i8)
                        } else {
                            i64::from(v as i32)
                        }
                    };
                    let mut acc = get(0);
                    for m in 1..n {
                        let x = get(m);
                        acc = match op {
                            ReduceOp::Sum | ReduceOp::Avg => wrap(acc + x),
                            ReduceOp::Product => wrap(acc.wrapping_mul(x)),
                            ReduceOp::Min => acc.min(x),
                            ReduceOp::Max => acc.max(x),
                        };
                    }
                    if op == ReduceOp::Avg {
                        acc /= n as i64; // Rust integer division truncates toward zero
                    }
                    if dtype == DType::I8 {
                        out.push(acc as i8 as u8);
                    } else {
                        out.extend_from_slice(&(acc as i32).to_le_bytes());
                    }
                }
            }
        }
        out
    }

    fn refs(v: &[Vec<u8>]) -> Vec<&[u8]> {
        v.iter().map(Vec::as_slice).collect()
    }

    #[test]
    fn all_reduce_matches_reference_for_every_dtype_op_and_size() {
        for members in [1usize, 2, 3, 8, 64] {
            for dtype in DTYPES {
                for op in ReduceOp::ALL {
                    for elems in [1usize, 7, 1001] {
                        let inputs: Vec<Vec<u8>> =
                            (0..members).map(|m| member_data(dtype, m, elems)).collect();
                        let want = reference(dtype, op, &inputs);
                        let got = all_reduce(dtype, op, &refs(&inputs)).unwrap();
                        assert_eq!(got, want, "{members} members, {dtype} {op}, {elems} elems");
                        let root = members - 1;
                        assert_eq!(reduce(dtype, op, &refs(&inputs), root).unwrap(), want);
                    }
                }
            }
        }
    }

    #[test]
    fn all_reduce_spanning_several_blocks_and_into_a_buffer() {
        // 3 x 64 KiB blocks + an odd tail, so block boundaries are exercised.
        let elems = (3 * BLOCK_BYTES + 12) / 4 + 1;
        for dtype in [DType::F32, DType::BF16, DType::I8] {
            for op in [ReduceOp::Sum, ReduceOp::Avg] {
                let inputs: Vec<Vec<u8>> = (0..3).map(|m| member_data(dtype, m, elems)).collect();
                let want = reference(dtype, op, &inputs);
                assert_eq!(all_reduce(dtype, op, &refs(&inputs)).unwrap(), want);
                let mut out = vec![0xAA; want.len()];
                all_reduce_into(dtype, op, &refs(&inputs), &mut out).unwrap();
                assert_eq!(out, want);
            }
        }
    }

    #[test]
    fn all_reduce_of_one_member_is_its_input() {
        let data = member_data(DType::F16, 0, 9);
        for op in ReduceOp::ALL {
            assert_eq!(all_reduce(DType::F16, op, &[&data]).unwrap(), data);
        }
    }

    #[test]
    fn reduce_scatter_gives_member_i_block_i_of_the_reduction() {
        for members in [1usize, 2, 3, 8, 64] {
            for dtype in DTYPES {
                for op in [ReduceOp::Sum, ReduceOp::Avg, ReduceOp::Max] {
                    let per_block = 3;
                    let inputs: Vec<Vec<u8>> = (0..members)
                        .map(|m| member_data(dtype, m, per_block * members))
                        .collect();
                    let full = reference(dtype, op, &inputs);
                    let got = reduce_scatter(dtype, op, &refs(&inputs)).unwrap();
                    let block = per_block * dtype.itemsize() as usize;
                    assert_eq!(got.len(), members);
                    for (i, b) in got.iter().enumerate() {
                        assert_eq!(
                            b,
                            &full[i * block..(i + 1) * block],
                            "{members} {dtype} {op} block {i}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn all_gather_concatenates_in_member_order() {
        for members in [1usize, 2, 3, 8, 64] {
            let inputs: Vec<Vec<u8>> = (0..members).map(|m| vec![m as u8; 5]).collect();
            let got = all_gather(&refs(&inputs)).unwrap();
            let want: Vec<u8> = (0..members).flat_map(|m| vec![m as u8; 5]).collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn all_to_all_transposes_blocks() {
        for members in [1usize, 2, 3, 8, 64] {
            // Member j's block i is [j, i, j, i, j, i] (3 two-byte items).
            let inputs: Vec<Vec<u8>> = (0..members)
                .map(|j| {
                    (0..members)
                        .flat_map(|i| [j as u8, i as u8].repeat(3))
                        .collect()
                })
                .collect();
            let got = all_to_all(&refs(&inputs)).unwrap();
            for (i, out) in got.iter().enumerate() {
                let want: Vec<u8> = (0..members)
                    .flat_map(|j| [j as u8, i as u8].repeat(3))
                    .collect();
                assert_eq!(out, &want, "{members} members, output {i}");
            }
        }
    }

    #[test]
    fn broadcast_gives_the_roots_buffer() {
        let inputs = [vec![1u8, 2, 3], vec![4, 5, 6], vec![7, 8, 9]];
        assert_eq!(broadcast(&refs(&inputs), 1).unwrap(), [4, 5, 6]);
        let err = broadcast(&refs(&inputs), 3).unwrap_err();
        assert_eq!(
            err.to_string(),
            "broadcast: root 3 is not a member of a group of 3"
        );
        let err = reduce(DType::I8, ReduceOp::Sum, &refs(&inputs), 5).unwrap_err();
        assert!(
            err.to_string()
                .contains("root 5 is not a member of a group of 3"),
            "{err}"
        );
    }

    #[test]
    fn size_mismatches_are_errors_naming_sizes() {
        let a = [0u8; 8];
        let b = [0u8; 12];
        let err = all_reduce(DType::F32, ReduceOp::Sum, &[&a, &b]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "all_reduce: member 1 has 12 bytes but member 0 has 8 bytes; every member must pass the same size"
        );
        assert!(matches!(
            all_gather(&[&a, &b]),
            Err(SimError::InvalidArgument(_))
        ));
        assert!(matches!(
            broadcast(&[&a, &b], 0),
            Err(SimError::InvalidArgument(_))
        ));
        let err = all_reduce(DType::F32, ReduceOp::Sum, &[]).unwrap_err();
        assert!(
            err.to_string().contains("at least one member, got 0"),
            "{err}"
        );
        let err = all_reduce(DType::F32, ReduceOp::Sum, &[&[0u8; 6], &[0u8; 6]]).unwrap_err();
        assert!(
            err.to_string()
                .contains("not a whole number of float32 elements"),
            "{err}"
        );
        // 3 members x 4-byte elements: 24 bytes split, 20 do not.
        let c = [0u8; 20];
        let err = reduce_scatter(DType::F32, ReduceOp::Sum, &[&c, &c, &c]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "reduce_scatter: 20 bytes per member do not split into 3 equal blocks of whole 4-byte elements \
             (the size must be a multiple of 12 bytes)"
        );
        assert!(
            reduce_scatter(
                DType::F32,
                ReduceOp::Sum,
                &[&[0u8; 24][..], &[0u8; 24], &[0u8; 24]]
            )
            .is_ok()
        );
        let err = all_to_all(&[&[0u8; 5][..], &[0u8; 5]]).unwrap_err();
        assert!(
            err.to_string()
                .contains("5 bytes per member do not split into 2 equal blocks"),
            "{err}"
        );
        let mut out = [0u8; 4];
        let err = all_reduce_into(DType::F32, ReduceOp::Sum, &[&a, &a], &mut out).unwrap_err();
        assert!(
            err.to_string()
                .contains("output buffer is 4 bytes but the inputs are 8 bytes"),
            "{err}"
        );
    }
}
