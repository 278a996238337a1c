//! The data results of every collective against an independent scalar reference (member
//! order, per-step rounding for 16-bit floats), and the size errors.

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
            crate::sim::dtype::scalar_bytes(dtype, v)
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
            other => panic!("no reference for {other} (DTYPES holds the 0.1.0 dtypes)"),
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
fn in_place_all_reduce_gives_the_same_bytes_on_any_thread_count() {
    // Above the parallel threshold, with a tail that is not a whole block, so the runs the
    // threads take end at block boundaries and the last one is short.
    for dtype in [DType::F32, DType::BF16, DType::I8] {
        let elems = (PARALLEL_MIN_BYTES + 5 * BLOCK_BYTES + 24) / dtype.itemsize() as usize + 3;
        for op in [ReduceOp::Sum, ReduceOp::Avg, ReduceOp::Max] {
            let inputs: Vec<Vec<u8>> = (0..5).map(|m| member_data(dtype, m, elems)).collect();
            let want = reference(dtype, op, &inputs);
            for threads in [1, 2, 3, 7] {
                let mut bufs = inputs.clone();
                let mut views: Vec<&mut [u8]> = bufs.iter_mut().map(Vec::as_mut_slice).collect();
                all_reduce_in_place(dtype, op, &mut views, threads).unwrap();
                for (m, b) in bufs.iter().enumerate() {
                    assert!(
                        *b == want,
                        "{dtype} {op}, {threads} threads: member {m} differs"
                    );
                }
            }
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
