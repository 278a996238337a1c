//! Every reduction and kernel against independent scalar references.

use super::elem::*;
use super::*;
use half::{bf16, f16};

const DTYPES: [DType; 5] = [DType::F32, DType::BF16, DType::F16, DType::I32, DType::I8];

/// Deterministic pseudo-random values (xorshift), spread over a dtype-friendly range.
fn values(seed: u64, n: usize, dtype: DType) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let u = (s >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
            match dtype {
                DType::I8 => (u * 256.0).floor() - 128.0,
                DType::I32 => (u * 4.0e9).floor() - 2.0e9,
                _ => (u - 0.5) * 8.0,
            }
        })
        .collect()
}

fn encode(dtype: DType, vals: &[f64]) -> Vec<u8> {
    vals.iter()
        .flat_map(|&v| crate::sim::dtype::scalar_bytes(dtype, v))
        .collect()
}

/// A copy of `bytes` starting one byte into a fresh buffer, so typed casts fail.
fn unaligned(bytes: &[u8]) -> (Vec<u8>, std::ops::Range<usize>) {
    let mut buf = Vec::with_capacity(bytes.len() + 8);
    let base = buf.as_ptr() as usize;
    let pad = usize::from(base.is_multiple_of(2));
    buf.resize(pad, 0);
    buf.extend_from_slice(bytes);
    (buf, pad..pad + bytes.len())
}

// Independent scalar references, one element at a time (NaN first, then the comparison,
// spelled out separately on purpose).
#[allow(clippy::if_same_then_else)]
fn ref_f32(op: ReduceOp, a: f32, b: f32) -> f32 {
    match op {
        ReduceOp::Sum | ReduceOp::Avg => a + b,
        ReduceOp::Product => a * b,
        ReduceOp::Min => {
            if a.is_nan() {
                a
            } else if b.is_nan() {
                b
            } else if b < a {
                b
            } else {
                a
            }
        }
        ReduceOp::Max => {
            if a.is_nan() {
                a
            } else if b.is_nan() {
                b
            } else if b > a {
                b
            } else {
                a
            }
        }
    }
}

fn ref_elem(dtype: DType, op: ReduceOp, a: &[u8], b: &[u8]) -> Vec<u8> {
    match dtype {
        DType::F32 => {
            let (a, b) = (
                f32::from_le_bytes(a.try_into().unwrap()),
                f32::from_le_bytes(b.try_into().unwrap()),
            );
            ref_f32(op, a, b).to_le_bytes().to_vec()
        }
        DType::BF16 => {
            let (a, b) = (
                bf16::from_le_bytes(a.try_into().unwrap()),
                bf16::from_le_bytes(b.try_into().unwrap()),
            );
            let r = match op {
                ReduceOp::Sum | ReduceOp::Avg => a + b, // half: f32 compute, round once
                ReduceOp::Product => a * b,
                _ => bf16::from_f32(ref_f32(op, a.to_f32(), b.to_f32())),
            };
            r.to_le_bytes().to_vec()
        }
        DType::F16 => {
            let (a, b) = (
                f16::from_le_bytes(a.try_into().unwrap()),
                f16::from_le_bytes(b.try_into().unwrap()),
            );
            let r = match op {
                ReduceOp::Sum | ReduceOp::Avg => a + b,
                ReduceOp::Product => a * b,
                _ => f16::from_f32(ref_f32(op, a.to_f32(), b.to_f32())),
            };
            r.to_le_bytes().to_vec()
        }
        DType::I32 => {
            let (a, b) = (
                i32::from_le_bytes(a.try_into().unwrap()),
                i32::from_le_bytes(b.try_into().unwrap()),
            );
            let r = match op {
                ReduceOp::Sum | ReduceOp::Avg => a.wrapping_add(b),
                ReduceOp::Product => a.wrapping_mul(b),
                ReduceOp::Min => a.min(b),
                ReduceOp::Max => a.max(b),
            };
            r.to_le_bytes().to_vec()
        }
        DType::I8 => {
            let (a, b) = (a[0] as i8, b[0] as i8);
            let r = match op {
                ReduceOp::Sum | ReduceOp::Avg => a.wrapping_add(b),
                ReduceOp::Product => a.wrapping_mul(b),
                ReduceOp::Min => a.min(b),
                ReduceOp::Max => a.max(b),
            };
            vec![r as u8]
        }
        other => panic!("no reference for {other}: new_dtypes_reduce_as_pytorch_does covers it"),
    }
}

fn reference(dtype: DType, op: ReduceOp, acc: &[u8], x: &[u8]) -> Vec<u8> {
    let item = dtype.itemsize() as usize;
    acc.chunks(item)
        .zip(x.chunks(item))
        .flat_map(|(a, b)| ref_elem(dtype, op, a, b))
        .collect()
}

#[test]
fn bf16_conversions_match_half_bit_for_bit() {
    // Every bf16 pattern widens as half does; every f32 whose high half is any pattern
    // and whose low half hits each rounding case (and some others) narrows as half does.
    for hi in 0..=u16::MAX {
        let b = bf16::from_bits(hi);
        assert_eq!(bf16_to_f32(b).to_bits(), b.to_f32().to_bits(), "{hi:#06x}");
        for lo in [0u32, 1, 0x3FFF, 0x7FFF, 0x8000, 0x8001, 0xC000, 0xFFFF] {
            let x = f32::from_bits((u32::from(hi) << 16) | lo);
            assert_eq!(
                f32_to_bf16(x).to_bits(),
                bf16::from_f32(x).to_bits(),
                "{:#010x}",
                x.to_bits()
            );
        }
    }
}

#[test]
fn names_match_nccl_tests() {
    let names: Vec<_> = ReduceOp::ALL.iter().map(|op| op.name()).collect();
    assert_eq!(names, ["sum", "avg", "prod", "min", "max"]);
    assert_eq!(
        serde_json::to_string(&ReduceOp::Product).unwrap(),
        "\"product\""
    );
}

#[test]
fn every_dtype_and_op_matches_the_scalar_reference() {
    for dtype in DTYPES {
        for op in ReduceOp::ALL {
            for n in [1usize, 7, 1001] {
                let a = encode(dtype, &values(1 + n as u64, n, dtype));
                let b = encode(dtype, &values(1000 + n as u64, n, dtype));
                let want = reference(dtype, op, &a, &b);
                let mut got = a.clone();
                reduce_assign(dtype, op, &mut got, &b).unwrap();
                assert_eq!(got, want, "{dtype} {op} n={n}");
            }
        }
    }
}

#[test]
fn unaligned_buffers_give_the_same_bits() {
    for dtype in DTYPES {
        for op in ReduceOp::ALL {
            let a = encode(dtype, &values(5, 1001, dtype));
            let b = encode(dtype, &values(6, 1001, dtype));
            let want = reference(dtype, op, &a, &b);
            let (mut ua, ra) = unaligned(&a);
            let (ub, rb) = unaligned(&b);
            reduce_assign(dtype, op, &mut ua[ra.clone()], &ub[rb]).unwrap();
            assert_eq!(&ua[ra], &want[..], "{dtype} {op}");
        }
    }
}

#[test]
fn bf16_rounds_every_step() {
    // 256 + 1 rounds back to 256 in bf16 (8 significant bits); adding 1 three times in
    // rank order therefore stays 256, while a wide accumulator would give 259 -> 260.
    let mut acc = crate::sim::dtype::scalar_bytes(DType::BF16, 256.0);
    for _ in 0..3 {
        reduce_assign(
            DType::BF16,
            ReduceOp::Sum,
            &mut acc,
            &crate::sim::dtype::scalar_bytes(DType::BF16, 1.0),
        )
        .unwrap();
    }
    assert_eq!(acc, crate::sim::dtype::scalar_bytes(DType::BF16, 256.0));
}

#[test]
fn min_max_propagate_nan() {
    for dtype in [DType::F32, DType::BF16, DType::F16] {
        let a = encode(dtype, &[1.0, f64::NAN, 3.0, -0.0]);
        let b = encode(dtype, &[f64::NAN, 2.0, 1.0, 0.0]);
        for op in [ReduceOp::Min, ReduceOp::Max] {
            let mut got = a.clone();
            reduce_assign(dtype, op, &mut got, &b).unwrap();
            let item = dtype.itemsize() as usize;
            let as_f64 = |bytes: &[u8]| match dtype {
                DType::F32 => f64::from(f32::from_le_bytes(bytes.try_into().unwrap())),
                DType::BF16 => bf16::from_le_bytes(bytes.try_into().unwrap()).to_f64(),
                _ => f16::from_le_bytes(bytes.try_into().unwrap()).to_f64(),
            };
            let v: Vec<f64> = got.chunks(item).map(as_f64).collect();
            assert!(v[0].is_nan() && v[1].is_nan(), "{dtype} {op}: {v:?}");
            assert_eq!(v[2], if op == ReduceOp::Min { 1.0 } else { 3.0 });
            // Tie between -0 and +0 keeps the accumulator (-0).
            assert!(
                v[3] == 0.0 && v[3].is_sign_negative(),
                "{dtype} {op}: {v:?}"
            );
        }
    }
}

#[test]
fn integers_wrap() {
    let mut acc = i32::MAX.to_le_bytes().to_vec();
    reduce_assign(DType::I32, ReduceOp::Sum, &mut acc, &1i32.to_le_bytes()).unwrap();
    assert_eq!(acc, i32::MIN.to_le_bytes());
    let mut acc = vec![100i8 as u8];
    reduce_assign(DType::I8, ReduceOp::Product, &mut acc, &[3]).unwrap();
    assert_eq!(acc[0] as i8, 100i8.wrapping_mul(3)); // 300 mod 256 = 44
    assert_eq!(acc[0] as i8, 44);
}

#[test]
fn avg_divides_floats_in_f32_and_truncates_ints() {
    let mut acc = encode(DType::F32, &[1.0, 2.0, -7.0]);
    finish_avg(DType::F32, &mut acc, 3).unwrap();
    assert_eq!(
        acc,
        encode(
            DType::F32,
            &[
                f64::from(1.0f32 / 3.0),
                f64::from(2.0f32 / 3.0),
                f64::from(-7.0f32 / 3.0)
            ]
        )
    );
    let mut acc = encode(DType::BF16, &[1.0]);
    finish_avg(DType::BF16, &mut acc, 3).unwrap();
    assert_eq!(acc, bf16::from_f32(1.0 / 3.0).to_le_bytes());
    let mut acc = encode(DType::I32, &[7.0, -7.0, 5.0]);
    finish_avg(DType::I32, &mut acc, 2).unwrap();
    assert_eq!(acc, encode(DType::I32, &[3.0, -3.0, 2.0]));
    let mut acc = vec![(-128i8) as u8, 127];
    finish_avg(DType::I8, &mut acc, 3).unwrap();
    assert_eq!(acc, [(-42i8) as u8, 42]);
    let err = finish_avg(DType::I8, &mut acc, 0).unwrap_err();
    assert!(err.to_string().contains("0 members"), "{err}");
}

#[test]
fn binary_into_matches_reduce_semantics() {
    for dtype in DTYPES {
        for (op, rop) in [
            (BinaryOp::Add, ReduceOp::Sum),
            (BinaryOp::Mul, ReduceOp::Product),
        ] {
            let a = encode(dtype, &values(11, 1001, dtype));
            let b = encode(dtype, &values(12, 1001, dtype));
            let want = reference(dtype, rop, &a, &b);
            let mut out = vec![0; a.len()];
            binary_into(dtype, op, &a, &b, &mut out).unwrap();
            assert_eq!(out, want, "{dtype} {op:?}");
            let (ua, ra) = unaligned(&a);
            let (mut uo, ro) = unaligned(&vec![0; a.len()]);
            binary_into(dtype, op, &ua[ra], &b, &mut uo[ro.clone()]).unwrap();
            assert_eq!(&uo[ro], &want[..], "{dtype} {op:?} unaligned");
        }
        let mut acc = encode(dtype, &values(13, 7, dtype));
        let x = encode(dtype, &values(14, 7, dtype));
        let want = reference(dtype, ReduceOp::Sum, &acc, &x);
        add_assign(dtype, &mut acc, &x).unwrap();
        assert_eq!(acc, want);
    }
}

#[test]
fn half_avg_and_scale_match_scalar_half_aligned_or_not() {
    let factor = 0.3f64;
    for dtype in [DType::BF16, DType::F16] {
        let a = encode(dtype, &values(21, 1001, dtype));
        // Scalar references: widen with half, compute in f32, round with half.
        let each = |f: &dyn Fn(f32) -> f32| -> Vec<u8> {
            a.chunks(2)
                .flat_map(|c| {
                    let raw = [c[0], c[1]];
                    if dtype == DType::BF16 {
                        bf16::from_f32(f(bf16::from_le_bytes(raw).to_f32())).to_le_bytes()
                    } else {
                        f16::from_f32(f(f16::from_le_bytes(raw).to_f32())).to_le_bytes()
                    }
                })
                .collect()
        };
        let want_avg = each(&|v| v / 3.0);
        let want_scale = each(&|v| v * factor as f32);
        let mut got = a.clone();
        finish_avg(dtype, &mut got, 3).unwrap();
        assert_eq!(got, want_avg, "{dtype} avg");
        let (mut ua, ra) = unaligned(&a);
        finish_avg(dtype, &mut ua[ra.clone()], 3).unwrap();
        assert_eq!(&ua[ra], &want_avg[..], "{dtype} avg unaligned");
        let mut got = a.clone();
        scale_assign(dtype, &mut got, factor).unwrap();
        assert_eq!(got, want_scale, "{dtype} scale");
        let (mut ua, ra) = unaligned(&a);
        scale_assign(dtype, &mut ua[ra.clone()], factor).unwrap();
        assert_eq!(&ua[ra], &want_scale[..], "{dtype} scale unaligned");
    }
}

#[test]
fn scale_rounds_floats_and_truncates_ints() {
    let mut d = encode(DType::F32, &[1.5, -2.0]);
    scale_assign(DType::F32, &mut d, 0.1).unwrap();
    assert_eq!(
        d,
        encode(
            DType::F32,
            &[f64::from(1.5f32 * 0.1f32), f64::from(-2.0f32 * 0.1f32)]
        )
    );
    let mut d = encode(DType::BF16, &[3.0]);
    scale_assign(DType::BF16, &mut d, 1.0 / 3.0).unwrap();
    assert_eq!(
        d,
        bf16::from_f32(3.0f32 * (1.0f64 / 3.0) as f32).to_le_bytes()
    );
    let mut d = encode(DType::I32, &[7.0, -7.0, i32::MAX as f64]);
    scale_assign(DType::I32, &mut d, 2.5).unwrap();
    assert_eq!(d, encode(DType::I32, &[17.0, -17.0, i32::MAX as f64]));
    let mut d = vec![100u8, (-100i8) as u8];
    scale_assign(DType::I8, &mut d, 2.0).unwrap();
    assert_eq!(d, [127u8, (-128i8) as u8]);
    let mut d = vec![5u8];
    scale_assign(DType::I8, &mut d, f64::NAN).unwrap();
    assert_eq!(d, [0]);
}

#[test]
fn size_mismatches_are_errors_naming_sizes() {
    let mut acc = vec![0u8; 8];
    let err = reduce_assign(DType::F32, ReduceOp::Sum, &mut acc, &[0u8; 4]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "reduce: operands differ in size (8 bytes vs 4 bytes)"
    );
    let mut acc = vec![0u8; 6];
    let err = reduce_assign(DType::F32, ReduceOp::Sum, &mut acc, &[0u8; 6]).unwrap_err();
    assert!(
        err.to_string()
            .contains("6 bytes is not a whole number of float32 elements"),
        "{err}"
    );
    let err = binary_into(DType::I8, BinaryOp::Add, &[0; 3], &[0; 3], &mut [0; 2]).unwrap_err();
    assert!(
        err.to_string()
            .contains("output buffer is 2 bytes but the operands are 3 bytes"),
        "{err}"
    );
    let err = scale_assign(DType::BF16, &mut [0; 3], 2.0).unwrap_err();
    assert!(matches!(err, SimError::InvalidArgument(_)));
}

#[test]
fn new_dtypes_reduce_as_pytorch_does() {
    let f64s = |v: &[f64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let mut acc = f64s(&[0.1, f64::NAN, 3.0]);
    reduce_assign(
        DType::F64,
        ReduceOp::Sum,
        &mut acc,
        &f64s(&[0.2, 1.0, -1.0]),
    )
    .unwrap();
    let got: Vec<f64> = acc
        .chunks(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(got[0], 0.1 + 0.2, "summed in f64");
    assert!(got[1].is_nan());
    let i64s = |v: &[i64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let mut acc = i64s(&[i64::MAX, -5]);
    reduce_assign(DType::I64, ReduceOp::Sum, &mut acc, &i64s(&[1, 2])).unwrap();
    assert_eq!(acc, i64s(&[i64::MIN, -3]), "int64 wraps");
    finish_avg(DType::I64, &mut acc, 2).unwrap();
    assert_eq!(acc, i64s(&[i64::MIN / 2, -1]), "avg truncates toward zero");
    let (mut any, mut all) = (vec![0u8, 1, 0, 1], vec![0u8, 1, 0, 1]);
    reduce_assign(DType::Bool, ReduceOp::Sum, &mut any, &[0, 0, 1, 1]).unwrap();
    reduce_assign(DType::Bool, ReduceOp::Min, &mut all, &[0, 0, 1, 1]).unwrap();
    assert_eq!(
        (any.as_slice(), all.as_slice()),
        ([0, 1, 1, 1].as_slice(), [0, 0, 0, 1].as_slice())
    );
    assert!(
        finish_avg(DType::Bool, &mut any, 2).is_err(),
        "avg of bool is refused"
    );
}
