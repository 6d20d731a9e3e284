//! Cholesky factorisations `A = LLᵀ`, both with results that do not depend on the thread count.
//!
//! - [`factor_small`], [`solve_small`]: scalar, in order, for the small systems solved every
//!   iteration (ADMM's normal matrix in the weights, side ≤ a few hundred): no allocation, no
//!   threads.
//! - [`factor_in_place`], [`solve`]: on several threads, for the large Newton systems of the
//!   convex model's working sets: right-looking and blocked, with every product of the trailing
//!   update computed by one sequential faer GEMM per fixed tile column, so each entry is summed
//!   in the same order whichever thread computes it. faer's own parallel factorisation needs its
//!   rayon feature, whose work splitting is not documented to be independent of the thread
//!   count.
//!
//! Two, because they serve different sizes: faer's factorisation (the blocked one's diagonal
//! blocks) sums in another order than the scalar loop, so ADMM's iterates — and SCR's answers —
//! would change in their last bits with it, and at side ≤ 100 the scalar loop allocates nothing.
//! Measured on the bench's N = 10⁴, d = 20, 200-pattern gated case (2 cores), whose last Newton
//! systems have side 4 200: the whole working-set run took 10.3–11.5 s with faer's sequential
//! `llt` and 8.9–9.3 s with this, to the same digits; 1 and 2 threads give the same model file.

use faer::linalg::matmul::matmul;
use faer::linalg::triangular_solve::{
    solve_lower_triangular_in_place, solve_upper_triangular_in_place,
};
use faer::{Accum, Mat, MatMut, MatRef, Par, Side};

/// Factors the small dense symmetric positive definite `a` (row-major `n × n`, lower triangle
/// read) in place: on success its lower triangle holds L. A pivot that is not positive and
/// finite is returned as `(its index, its value)`.
pub fn factor_small(a: &mut [f64], n: usize) -> Result<(), (usize, f64)> {
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        if d.is_nan() || d <= 0.0 || !d.is_finite() {
            return Err((j, d));
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
    }
    Ok(())
}

/// Solves `L Lᵀ x = b` in place with a factor from [`factor_small`].
pub fn solve_small(l: &[f64], n: usize, b: &mut [f64]) {
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * n + k] * b[k];
        }
        b[i] = s / l[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= l[k * n + i] * b[k];
        }
        b[i] = s / l[i * n + i];
    }
}

/// Side of the diagonal blocks (and the width of the trailing update's tile columns).
const BLOCK: usize = 192;

/// Factors the symmetric positive definite `a` (its lower triangle is read) in place: on
/// success its lower triangle holds L (the strict upper triangle is left as it was). Returns
/// false when `a` is not numerically positive definite.
pub fn factor_in_place(mut a: MatMut<'_, f64>, threads: usize) -> bool {
    let n = a.nrows();
    debug_assert_eq!(n, a.ncols());
    let threads = threads.max(1);
    for k0 in (0..n).step_by(BLOCK) {
        let kb = BLOCK.min(n - k0);
        // the diagonal block
        let diagonal = Mat::<f64>::from_fn(kb, kb, |i, j| {
            if i >= j {
                a[(k0 + i, k0 + j)]
            } else {
                a[(k0 + j, k0 + i)]
            }
        });
        let Ok(llt) = diagonal.llt(Side::Lower) else {
            return false;
        };
        let l11 = llt.L();
        for j in 0..kb {
            for i in j..kb {
                a[(k0 + i, k0 + j)] = l11[(i, j)];
            }
        }
        let rest = n - k0 - kb;
        if rest == 0 {
            break;
        }
        // the panel below it: L21 = A21 L11⁻ᵀ, i.e. L11 L21ᵀ = A21ᵀ, split by rows
        {
            let (_, right) = a.as_mut().split_at_col_mut(k0);
            let (panel_cols, _) = right.split_at_col_mut(kb);
            let (_, panel) = panel_cols.split_at_row_mut(k0 + kb);
            let row_blocks = split_rows(panel, rest.div_ceil(threads).max(1));
            std::thread::scope(|scope| {
                for block in row_blocks {
                    let l11 = l11.as_ref();
                    scope.spawn(move || {
                        solve_lower_triangular_in_place(l11, block.transpose_mut(), Par::Seq);
                    });
                }
            });
        }
        // the trailing update A22 −= L21 L21ᵀ (lower part), one GEMM per tile column
        let (left, right) = a.as_mut().split_at_col_mut(k0 + kb);
        let l21 = left.as_ref().submatrix(k0 + kb, k0, rest, kb);
        let (_, a22) = right.split_at_row_mut(k0 + kb);
        let tiles: Vec<usize> = (0..rest).step_by(BLOCK).collect();
        // tile column t costs about (rest − t) · width; deal them to threads by balanced work
        let mut groups: Vec<Vec<usize>> = vec![Vec::new(); threads];
        let mut load = vec![0usize; threads];
        for &t in &tiles {
            let lightest = (0..threads).min_by_key(|&i| (load[i], i)).unwrap_or(0);
            load[lightest] += rest - t;
            groups[lightest].push(t);
        }
        let columns = split_tile_columns(a22, &tiles, &groups);
        std::thread::scope(|scope| {
            for mine in columns {
                scope.spawn(move || {
                    for (t, col) in mine {
                        let width = col.ncols();
                        let (_, mut lower) = col.split_at_row_mut(t);
                        matmul(
                            lower.as_mut(),
                            Accum::Add,
                            l21.subrows(t, rest - t),
                            l21.subrows(t, width).transpose(),
                            -1.0,
                            Par::Seq,
                        );
                    }
                });
            }
        });
    }
    true
}

/// Solves `L Lᵀ x = b` with the factor from [`factor_in_place`] (only its lower triangle is read).
pub fn solve(l: MatRef<'_, f64>, b: &[f64]) -> Vec<f64> {
    let n = b.len();
    let mut x = Mat::<f64>::from_fn(n, 1, |i, _| b[i]);
    solve_lower_triangular_in_place(l, x.as_mut(), Par::Seq);
    solve_upper_triangular_in_place(l.transpose(), x.as_mut(), Par::Seq);
    (0..n).map(|i| x[(i, 0)]).collect()
}

/// `m` split into consecutive row blocks of at most `rows` rows.
fn split_rows(mut m: MatMut<'_, f64>, rows: usize) -> Vec<MatMut<'_, f64>> {
    let mut out = Vec::new();
    while m.nrows() > rows {
        let (top, bottom) = m.split_at_row_mut(rows);
        out.push(top);
        m = bottom;
    }
    if m.nrows() > 0 {
        out.push(m);
    }
    out
}

/// The tile columns of `m` starting at `tiles` (each up to the next start), grouped as `groups`
/// says, each with its start.
fn split_tile_columns<'a>(
    mut m: MatMut<'a, f64>,
    tiles: &[usize],
    groups: &[Vec<usize>],
) -> Vec<Vec<(usize, MatMut<'a, f64>)>> {
    let mut pieces: Vec<(usize, MatMut<'a, f64>)> = Vec::new();
    let mut at = 0;
    for (i, &t) in tiles.iter().enumerate() {
        let end = tiles.get(i + 1).copied().unwrap_or(at + m.ncols());
        let (left, right) = m.split_at_col_mut(end - at);
        pieces.push((t, left));
        m = right;
        at = end;
    }
    // each tile column goes to the group that lists its start
    let mut owner = vec![0; tiles.len()];
    for (g, starts) in groups.iter().enumerate() {
        for t in starts {
            if let Ok(i) = tiles.binary_search(t) {
                owner[i] = g;
            }
        }
    }
    let mut out: Vec<Vec<(usize, MatMut<'a, f64>)>> = groups.iter().map(|_| Vec::new()).collect();
    for (piece, g) in pieces.into_iter().zip(owner) {
        out[g].push(piece);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// On a seeded positive definite matrix of several blocks, the factor reproduces `A = LLᵀ`
    /// and solves a system to rounding, and it is the same to the last bit on 1, 2 and 3
    /// threads.
    #[test]
    fn the_factor_is_exact_and_independent_of_the_thread_count() {
        let n = 2 * BLOCK + 37;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut next = || rng.random::<f64>() - 0.5;
        let b = Mat::<f64>::from_fn(n, n + 5, |_, _| next());
        let mut a = Mat::<f64>::zeros(n, n);
        matmul(
            a.as_mut(),
            Accum::Replace,
            b.as_ref(),
            b.transpose(),
            1.0,
            Par::Seq,
        );
        let factors: Vec<Mat<f64>> = [1, 2, 3]
            .iter()
            .map(|&t| {
                let mut f = a.clone();
                assert!(factor_in_place(f.as_mut(), t));
                f
            })
            .collect();
        let l = Mat::<f64>::from_fn(n, n, |i, j| if i >= j { factors[0][(i, j)] } else { 0.0 });
        let mut llt = Mat::<f64>::zeros(n, n);
        matmul(
            llt.as_mut(),
            Accum::Replace,
            l.as_ref(),
            l.transpose(),
            1.0,
            Par::Seq,
        );
        let scale = (0..n).map(|i| a[(i, i)]).fold(0.0, f64::max);
        for j in 0..n {
            for i in 0..n {
                assert!(
                    (llt[(i, j)] - a[(i, j)]).abs() <= 1e-12 * scale,
                    "({i}, {j})"
                );
            }
        }
        for f in &factors[1..] {
            for j in 0..n {
                for i in j..n {
                    assert_eq!(
                        f[(i, j)].to_bits(),
                        factors[0][(i, j)].to_bits(),
                        "({i}, {j})"
                    );
                }
            }
        }
        let rhs: Vec<f64> = (0..n).map(|i| (i as f64).sin()).collect();
        let x = solve(factors[0].as_ref(), &rhs);
        for i in 0..n {
            let ax: f64 = (0..n).map(|j| a[(i, j)] * x[j]).sum();
            assert!(
                (ax - rhs[i]).abs() <= 1e-8,
                "row {i}: {ax} against {}",
                rhs[i]
            );
        }
        // not positive definite: refused
        let mut bad = a.clone();
        bad[(n - 1, n - 1)] = -1.0;
        assert!(!factor_in_place(bad.as_mut(), 2));
    }
}
