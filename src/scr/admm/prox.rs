//! The proximal steps of the w-update: singular-value soft thresholding of each product matrix
//! `M_k` through the eigen-decomposition of its small Gram matrix, and the shrink of each
//! complementarity block's pair (clipping for the copies is inline in the pass).

use crate::error::Result;
use crate::linalg::Matrix;
use std::ops::Range;

/// The prox of `τ‖·‖₂` on a pair: shrinks it towards zero by `τ`.
pub(super) fn shrink_pair(z: [f64; 2], tau: f64) -> [f64; 2] {
    let norm = z[0].hypot(z[1]);
    let keep = if norm > tau { 1.0 - tau / norm } else { 0.0 };
    [keep * z[0], keep * z[1]]
}

/// `P = U diag((σ − τ)_+/σ) Uᵀ` from the Gram matrix `Q Qᵀ = U diag(σ²) Uᵀ` of an `m × q` matrix
/// `Q`, so that `P Q` is the singular-value soft thresholding of `Q`.
pub(super) fn svt_projector(gram: &Matrix, tau: f64) -> Result<Matrix> {
    let m = gram.rows();
    let (vals, u) = gram.symmetric_eigen()?;
    let shrink: Vec<f64> = vals
        .iter()
        .map(|&l| {
            let s = l.max(0.0).sqrt();
            if s > tau {
                (s - tau) / s
            } else {
                0.0
            }
        })
        .collect();
    Ok(Matrix::from_fn(m, m, |a, b| {
        (0..m).map(|k| u.get(a, k) * shrink[k] * u.get(b, k)).sum()
    }))
}

/// `out[..m] ← P x` for a small dense `P` (m = x.len()).
pub(super) fn small_matvec(pm: &Matrix, x: &[f64], out: &mut [f64]) {
    for (a, t) in out[..x.len()].iter_mut().enumerate() {
        *t = x.iter().enumerate().map(|(b, xb)| pm.get(a, b) * xb).sum();
    }
}

/// `col ← P col` for a small dense `P`.
pub(super) fn apply_small(pm: &Matrix, col: &mut [f64], tmp: &mut [f64]) {
    small_matvec(pm, col, tmp);
    col.copy_from_slice(&tmp[..col.len()]);
}

/// One product column after pass 2: `w[r]` holds `z`; sets `w[r] ← P z` and `u[r] ← z − P z`.
pub(super) fn threshold_column(
    pm: &Matrix,
    r: Range<usize>,
    w: &mut [f64],
    u: &mut [f64],
    tmp: &mut [f64],
) {
    let m = r.len();
    small_matvec(pm, &w[r.clone()], tmp);
    for (i, &pz) in r.zip(tmp[..m].iter()) {
        u[i] = w[i] - pz;
        w[i] = pz;
    }
}

/// Adds the outer product `c cᵀ` to the (full, column-major) `m × m` array `gram`.
pub(super) fn add_outer(gram: &mut [f64], c: &[f64]) {
    let m = c.len();
    for b in 0..m {
        for a in 0..m {
            gram[a + b * m] += c[a] * c[b];
        }
    }
}

/// Singular-value soft thresholding of an `m × q` matrix (column-major, m small) through the
/// eigen-decomposition of its `m × m` Gram matrix: `U diag((σ − τ)_+/σ) Uᵀ Q`. O(m² q).
pub fn svt_wide(q: &mut [f64], m: usize, tau: f64) -> Result<()> {
    let mut g = vec![0.0; m * m];
    for c in q.chunks_exact(m) {
        add_outer(&mut g, c);
    }
    let pm = svt_projector(&Matrix::from_col_major(m, m, g)?, tau)?;
    let mut tmp = vec![0.0; m];
    for c in q.chunks_exact_mut(m) {
        apply_small(&pm, c, &mut tmp);
    }
    Ok(())
}
