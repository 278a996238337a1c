//! The same source compiled twice, for wasm32-wasip2 inside a perf guest and natively inside
//! the perf harness, so "wasm vs native" compares code generation and nothing else.

/// `c = a @ b` for row-major `n x n` f32 matrices (i-k-j order, which vectorises).
pub fn matmul_f32(a: &[f32], b: &[f32], c: &mut [f32], n: usize) {
    c.iter_mut().for_each(|x| *x = 0.0);
    for i in 0..n {
        for k in 0..n {
            let aik = a[i * n + k];
            let (row, brow) = (&mut c[i * n..(i + 1) * n], &b[k * n..(k + 1) * n]);
            for (cij, bkj) in row.iter_mut().zip(brow) {
                *cij += aik * bkj;
            }
        }
    }
}

/// Deterministic inputs for an `n x n` matmul.
pub fn inputs(n: usize) -> (Vec<f32>, Vec<f32>) {
    let a = (0..n * n).map(|i| ((i % 7) as f32) - 3.0).collect();
    let b = (0..n * n).map(|i| ((i % 5) as f32) * 0.5).collect();
    (a, b)
}

/// Run `iters` matmuls of size `n` and return a checksum (so nothing is optimised away).
pub fn matmul_loop(n: usize, iters: u32) -> f32 {
    let (a, b) = inputs(n);
    let mut c = vec![0.0f32; n * n];
    let mut sum = 0.0;
    for _ in 0..iters {
        matmul_f32(&a, &b, &mut c, n);
        sum += c[n * n / 2];
    }
    sum
}
