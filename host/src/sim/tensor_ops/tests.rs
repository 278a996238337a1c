//! The wider tensor ops against values worked out by hand, PyTorch's rules and errors.

use super::*;
use crate::sim::{SimLimits, Topology};

fn sim() -> Simulator {
    Simulator::new(Topology::embedded_default(), SimLimits::default(), 2)
}

fn tensor(sim: &mut Simulator, shape: &[u64], dtype: DType, values: &[f64]) -> TensorId {
    let bytes: Vec<u8> = values
        .iter()
        .flat_map(|&v| crate::sim::dtype::scalar_bytes(dtype, v))
        .collect();
    let req = NewTensor {
        shape: shape.to_vec(),
        dtype,
        dp: DpPolicy::SplitRows,
        device: 0,
        init: Init::Bytes(bytes),
    };
    sim.create(0, req).unwrap()
}

fn vals(sim: &Simulator, id: TensorId) -> (Vec<u64>, DType, Vec<f64>) {
    let t = sim.store.tensor(id).unwrap();
    let bytes = t.data.as_ref().unwrap().bytes();
    let n = numel(&t.shape) as usize;
    let v = (0..n)
        .map(|i| values::read(t.dtype, bytes, i).as_f64())
        .collect();
    (t.shape.clone(), t.dtype, v)
}

#[test]
fn arithmetic_broadcasts_as_pytorch_does() {
    let mut s = sim();
    let a = tensor(&mut s, &[2, 3], DType::F32, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let row = tensor(&mut s, &[3], DType::F32, &[10.0, 20.0, 30.0]);
    let col = tensor(&mut s, &[2, 1], DType::F32, &[1.0, 2.0]);
    let sum = s.arith(0, Arith::Add, a, row).unwrap();
    assert_eq!(vals(&s, sum).2, [11.0, 22.0, 33.0, 14.0, 25.0, 36.0]);
    let sub = s.arith(0, Arith::Sub, row, col).unwrap();
    assert_eq!(
        vals(&s, sub),
        (
            vec![2, 3],
            DType::F32,
            vec![9.0, 19.0, 29.0, 8.0, 18.0, 28.0]
        )
    );
    let short = tensor(&mut s, &[2], DType::F32, &[1.0, 2.0]);
    let err = s.arith(0, Arith::Mul, a, short);
    assert_eq!(
        err.unwrap_err().to_string(),
        "mul: shapes [2, 3] float32 and [2] float32 cannot be broadcast (dimension -1 is 3 and 2)"
    );
    let i = tensor(&mut s, &[2], DType::I32, &[7.0, -7.0]);
    let two = tensor(&mut s, &[1], DType::I32, &[2.0]);
    let q = s.arith(0, Arith::Div, i, two).unwrap();
    assert_eq!(
        vals(&s, q),
        (vec![2], DType::F32, vec![3.5, -3.5]),
        "true division"
    );
    let f = tensor(&mut s, &[1], DType::F64, &[1.0]);
    let err = s.arith(0, Arith::Add, i, f).unwrap_err().to_string();
    assert!(
        err.contains("dtypes differ ([2] int32 and [1] float64)"),
        "{err}"
    );
    assert!(s.clocks.get(0) > 0, "ops cost time");
}

#[test]
fn activations_reductions_and_softmax() {
    let mut s = sim();
    let a = tensor(
        &mut s,
        &[2, 3],
        DType::F32,
        &[-1.0, 0.5, 2.0, 3.0, f64::NAN, -4.0],
    );
    let r = s.unary(0, Unary::Relu, a).unwrap();
    let got = vals(&s, r).2;
    assert_eq!(&got[..4], [0.0, 0.5, 2.0, 3.0]);
    assert!(got[4].is_nan() && got[5] == 0.0);
    let g = s.unary(0, Unary::Gelu, a).unwrap();
    assert!(
        (vals(&s, g).2[2] - 1.954_499_7).abs() < 1e-6,
        "gelu(2) = 2 Φ(2)"
    );
    let m = s.reduce_dim(0, Reduction::Max, a, Some(1), true).unwrap();
    let (shape, _, v) = vals(&s, m);
    assert_eq!((shape, v[0]), (vec![2, 1], 2.0));
    assert!(v[1].is_nan(), "NaN wins a max");
    let ints = tensor(&mut s, &[2, 2], DType::I32, &[1.0, 2.0, 3.0, 4.0]);
    let total = s.reduce_dim(0, Reduction::Sum, ints, None, false).unwrap();
    assert_eq!(
        vals(&s, total),
        (vec![], DType::I64, vec![10.0]),
        "ints sum to int64"
    );
    let cols = s
        .reduce_dim(0, Reduction::Sum, ints, Some(0), false)
        .unwrap();
    assert_eq!(vals(&s, cols).2, [4.0, 6.0]);
    let err = s
        .reduce_dim(0, Reduction::Mean, ints, None, false)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("mean needs a floating-point tensor"),
        "{err}"
    );
    let x = tensor(&mut s, &[2, 2], DType::F32, &[1.0, 1.0, 0.0, 2.0_f64.ln()]);
    let p = s.softmax(0, x, -1).unwrap();
    let v = vals(&s, p).2;
    assert_eq!(&v[..2], [0.5, 0.5]);
    assert!((v[2] - 1.0 / 3.0).abs() < 1e-7 && (v[3] - 2.0 / 3.0).abs() < 1e-7);
    let mean = s.reduce_dim(0, Reduction::Mean, x, Some(0), false).unwrap();
    assert_eq!(vals(&s, mean).2[0], 0.5);
}

#[test]
fn reshape_narrow_cat_and_conversion() {
    let mut s = sim();
    let a = tensor(&mut s, &[2, 3], DType::F32, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let r = s.reshape(0, a, &[3, -1]).unwrap();
    assert_eq!(vals(&s, r).0, [3, 2]);
    let err = s.reshape(0, a, &[4, -1]).unwrap_err().to_string();
    assert_eq!(
        err,
        "reshape: shape [4, -1] is invalid for [2, 3] float32 (6 elements)"
    );
    let n = s.narrow(0, a, 1, 1, 2).unwrap();
    assert_eq!(
        vals(&s, n),
        (vec![2, 2], DType::F32, vec![2.0, 3.0, 5.0, 6.0])
    );
    let err = s.narrow(0, a, 1, 2, 2).unwrap_err().to_string();
    assert!(
        err.contains("start 2 + length 2 exceeds dimension 1 of size 3"),
        "{err}"
    );
    let left = s.narrow(0, a, 1, 0, 1).unwrap();
    let joined = s.cat(0, &[left, n], 1).unwrap();
    assert_eq!(
        vals(&s, joined).2,
        vals(&s, a).2,
        "narrow then cat gives the tensor back"
    );
    let rows = s.cat(0, &[a, a], 0).unwrap();
    assert_eq!(vals(&s, rows).0, [4, 3]);
    let err = s.cat(0, &[a, r], 0).unwrap_err().to_string();
    assert!(
        err.contains("cat: [3, 2] float32 does not fit [2, 3] float32 along dimension 0"),
        "{err}"
    );
    let odd = tensor(&mut s, &[2], DType::F32, &[1.0 + 1.0 / 256.0, -2.7]);
    let b = s.to_dtype(0, odd, DType::BF16).unwrap();
    assert_eq!(vals(&s, b).2[0], 1.0, "rounded to nearest even");
    let i = s.to_dtype(0, odd, DType::I64).unwrap();
    assert_eq!(vals(&s, i).2, [1.0, -2.0], "truncated toward zero");
    let m = s.to_dtype(0, odd, DType::Bool).unwrap();
    assert_eq!(vals(&s, m).2, [1.0, 1.0]);
}

#[test]
fn arange_and_seeded_random() {
    let mut s = sim();
    let r = s
        .arange(0, (0.0, 1.0, 0.25), DType::F32, DpPolicy::SplitRows, 0)
        .unwrap();
    assert_eq!(vals(&s, r).2, [0.0, 0.25, 0.5, 0.75]);
    let down = s
        .arange(0, (5.0, 0.0, -2.0), DType::I64, DpPolicy::SplitRows, 0)
        .unwrap();
    assert_eq!(vals(&s, down).2, [5.0, 3.0, 1.0]);
    assert!(
        s.arange(0, (0.0, 1.0, 0.0), DType::F32, DpPolicy::SplitRows, 0)
            .is_err()
    );
    let draw = |s: &mut Simulator, seed| {
        let id = s
            .random(
                0,
                Distribution::Normal,
                vec![4096],
                DType::F32,
                DpPolicy::SplitRows,
                0,
                seed,
            )
            .unwrap();
        vals(s, id).2
    };
    let (x, y, z) = (draw(&mut s, 7), draw(&mut s, 7), draw(&mut s, 8));
    assert_eq!(x, y, "the same seed draws the same tensor");
    assert_ne!(x, z);
    let mean = x.iter().sum::<f64>() / x.len() as f64;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / x.len() as f64;
    assert!(
        mean.abs() < 0.05 && (var - 1.0).abs() < 0.08,
        "mean {mean}, variance {var}"
    );
    let u = s
        .random(
            0,
            Distribution::Uniform,
            vec![1000],
            DType::F64,
            DpPolicy::SplitRows,
            0,
            1,
        )
        .unwrap();
    assert!(vals(&s, u).2.iter().all(|v| (0.0..1.0).contains(v)));
    assert!(
        s.random(
            0,
            Distribution::Uniform,
            vec![2],
            DType::I32,
            DpPolicy::SplitRows,
            0,
            1
        )
        .is_err()
    );
}

#[test]
fn batched_matmul_multiplies_each_batch() {
    let mut s = sim();
    // Two batches of [1, 2] @ [2, 1].
    let a = tensor(&mut s, &[2, 1, 2], DType::F32, &[1.0, 2.0, 3.0, 4.0]);
    let b = tensor(&mut s, &[2, 2, 1], DType::F32, &[1.0, 1.0, 10.0, 100.0]);
    let c = s.matmul(0, a, b, DpPolicy::SplitRows, None).unwrap();
    assert_eq!(vals(&s, c), (vec![2, 1, 1], DType::F32, vec![3.0, 430.0]));
    let w = tensor(&mut s, &[2, 1], DType::F32, &[1.0, -1.0]);
    let d = s.matmul(0, a, w, DpPolicy::SplitRows, None).unwrap();
    assert_eq!(
        vals(&s, d).2,
        [-1.0, -1.0],
        "a 2-D right operand serves every batch"
    );
    let err = s
        .matmul(0, w, a, DpPolicy::SplitRows, None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("matmul needs 2-D tensors, or a 3-D batch"),
        "{err}"
    );
}

#[test]
fn same_shape_arithmetic_is_the_typed_kernel() {
    let mut s = sim();
    let a = tensor(&mut s, &[4], DType::BF16, &[1.0, 2.0, 3.0, 257.0]);
    let b = tensor(&mut s, &[4], DType::BF16, &[1.0, 1.0, 1.0, 1.0]);
    let t0 = s.clocks.get(0);
    let typed = s.binary(0, BinaryOp::Add, a, b).unwrap();
    let t1 = s.clocks.get(0);
    let general = s.arith(0, Arith::Add, a, b).unwrap();
    let t2 = s.clocks.get(0);
    assert_eq!(vals(&s, general), vals(&s, typed));
    assert_eq!(t2 - t1, t1 - t0, "same cost");
}
