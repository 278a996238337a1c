//! The same source compiled twice, for wasm32-wasip2 inside a perf guest and natively inside
//! the perf harness, so "wasm vs native" compares code generation and nothing else.

/// Rows of `c` one register tile covers.
const TILE_ROWS: usize = 4;
/// Columns of `c` one register tile covers: two 128-bit vectors of f32.
const TILE_COLS: usize = 8;

/// `c = a @ b` for row-major `n x n` f32 matrices.
///
/// Written for the code generators that compile it: a 4 x 8 tile of `c` stays in eight
/// 128-bit registers over the whole `k` loop (one broadcast of `a` and two loads of `b` per
/// step, no load or store of `c`), so neither LLVM's wasm output nor Cranelift needs to
/// unroll or keep values in registers on its own. Edges that do not fill a tile take the
/// plain i-k-j loop.
pub fn matmul_f32(a: &[f32], b: &[f32], c: &mut [f32], n: usize) {
    let (a, b, c) = (&a[..n * n], &b[..n * n], &mut c[..n * n]);
    let full_rows = n - n % TILE_ROWS;
    let full_cols = n - n % TILE_COLS;
    for i0 in (0..full_rows).step_by(TILE_ROWS) {
        for j0 in (0..full_cols).step_by(TILE_COLS) {
            let mut acc = [[0.0f32; TILE_COLS]; TILE_ROWS];
            // Iterators, not indices: no bounds check is left in the loop, and two steps of
            // `k` per iteration halve the loop's own overhead (and its interruption check).
            let rows: [&[f32]; TILE_ROWS] =
                std::array::from_fn(|r| &a[(i0 + r) * n..(i0 + r + 1) * n]);
            let step =
                |acc: &mut [[f32; TILE_COLS]; TILE_ROWS], bt: &[f32], ak: [f32; TILE_ROWS]| {
                    let mut brow = [0.0f32; TILE_COLS];
                    brow.copy_from_slice(&bt[..TILE_COLS]);
                    for (row, aik) in acc.iter_mut().zip(ak) {
                        for (x, bkj) in row.iter_mut().zip(brow) {
                            *x += aik * bkj;
                        }
                    }
                };
            let pairs = b[j0..].chunks(2 * n).zip(
                rows[0]
                    .chunks_exact(2)
                    .zip(rows[1].chunks_exact(2))
                    .zip(rows[2].chunks_exact(2).zip(rows[3].chunks_exact(2))),
            );
            for (bp, ((a0, a1), (a2, a3))) in pairs {
                step(&mut acc, bp, [a0[0], a1[0], a2[0], a3[0]]);
                step(&mut acc, &bp[n..], [a0[1], a1[1], a2[1], a3[1]]);
            }
            if n % 2 == 1 {
                let k = n - 1;
                step(&mut acc, &b[k * n + j0..], rows.map(|r| r[k]));
            }
            for (r, row) in acc.iter().enumerate() {
                c[(i0 + r) * n + j0..(i0 + r) * n + j0 + TILE_COLS].copy_from_slice(row);
            }
        }
    }
    // The edges: columns past the last whole tile for the tiled rows, then the last rows.
    for i in 0..n {
        let j_from = if i < full_rows { full_cols } else { 0 };
        if j_from == n {
            continue;
        }
        c[i * n + j_from..(i + 1) * n]
            .iter_mut()
            .for_each(|x| *x = 0.0);
        for k in 0..n {
            let aik = a[i * n + k];
            let (row, brow) = (
                &mut c[i * n + j_from..(i + 1) * n],
                &b[k * n + j_from..(k + 1) * n],
            );
            for (cij, bkj) in row.iter_mut().zip(brow) {
                *cij += aik * bkj;
            }
        }
    }
}

/// The plain i-k-j product, the reference the tiled kernel is tested against.
pub fn matmul_reference(a: &[f32], b: &[f32], c: &mut [f32], n: usize) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tiled_kernel_matches_the_reference_at_every_edge() {
        // Whole tiles, ragged columns, ragged rows, both, and smaller than a tile.
        for n in [1usize, 3, 4, 8, 9, 13, 16, 64, 67] {
            let (a, b) = inputs(n);
            let (mut got, mut want) = (vec![f32::NAN; n * n], vec![0.0; n * n]);
            matmul_f32(&a, &b, &mut got, n);
            matmul_reference(&a, &b, &mut want, n);
            assert_eq!(got, want, "n = {n}");
        }
    }
}
