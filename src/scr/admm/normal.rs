//! The v-update's normal matrix `AᵀRA`: block-arrow, each sample's variables coupled only with
//! each other and with the weights, so every sample's block `D_j` is eliminated (its inverse, and
//! `E_j = D_j⁻¹ B_jᵀ` where small) and only the weights' Schur complement `S` is factored — a small
//! dense Cholesky. Refactored when a penalty changes.

use super::rows::Rows;
use crate::error::{Error, Result};
use crate::linalg::cholesky;
use crate::linalg::threads::par_map;

/// The small dense Cholesky of the weights' system, with ADMM's message when it fails.
pub(super) fn cholesky(a: &mut [f64], n: usize) -> Result<()> {
    cholesky::factor_small(a, n).map_err(|(j, d)| {
        Error::Numerical(format!(
            "ADMM normal matrix is not positive definite (pivot {j}: {d:e})"
        ))
    })
}

/// Above this many entries per sample, `E_j = D_j⁻¹ B_jᵀ` is not stored and the passes go through
/// the rows instead (8 KB per sample; the 3-3-2 network needs 80 entries, 4-8-8-1 about 3 000).
pub(super) const DENSE_LIMIT: usize = 1024;

/// The factored normal matrix `AᵀRA`: per-sample local blocks and the Schur complement in the
/// weights.
#[derive(Default)]
pub(super) struct Normal {
    /// The inverses `D_j⁻¹` of the local blocks, concatenated (n_j² each, row-major).
    pub(super) dinv: Vec<f64>,
    pub(super) d_off: Vec<usize>,
    /// `E_j = D_j⁻¹ B_jᵀ` (n_j × ng, row-major) per sample, when small enough (else empty).
    pub(super) e: Vec<f64>,
    pub(super) e_off: Vec<usize>,
    /// Cholesky factor of S = K_gg − Σ_j B_j D_j⁻¹ B_jᵀ (ng × ng).
    pub(super) s: Vec<f64>,
}

impl Normal {
    /// Factors `AᵀRA` with `R` the per-group penalties `rho`; `dense` stores the `E_j`.
    pub(super) fn factor(rows: &Rows, rho: &[f64], threads: usize, dense: bool) -> Result<Self> {
        let ng = rows.ng;
        type Part = (Vec<f64>, Vec<f64>, Vec<f64>);
        let parts = par_map(rows.chunks(), threads, |js| -> Result<Part> {
            let mut s = vec![0.0; ng * ng];
            let (mut dinv, mut e) = (Vec::new(), Vec::new());
            let mut bmat = Vec::new(); // B_j: ng × nj, row-major
            let mut col = Vec::new();
            for j in js {
                let nj = rows.loc_off[j + 1] - rows.loc_off[j];
                let mut d = vec![0.0; nj * nj];
                bmat.clear();
                bmat.resize(ng * nj, 0.0);
                for o in rows.w_off[j]..rows.w_off[j + 1] {
                    let r = rho[rows.group_of(o)];
                    let (idx, val) = rows.terms(o);
                    for (&ia, &va) in idx.iter().zip(val) {
                        let ia = ia as usize;
                        for (&ib, &vb) in idx.iter().zip(val) {
                            let ib = ib as usize;
                            match (ia >= ng, ib >= ng) {
                                (true, true) => d[(ia - ng) * nj + ib - ng] += r * va * vb,
                                (true, false) => bmat[ib * nj + ia - ng] += r * va * vb,
                                (false, false) => s[ia * ng + ib] += r * va * vb,
                                (false, true) => {}
                            }
                        }
                    }
                }
                cholesky(&mut d, nj)?;
                let base = dinv.len();
                dinv.resize(base + nj * nj, 0.0);
                for b in 0..nj {
                    col.clear();
                    col.resize(nj, 0.0);
                    col[b] = 1.0;
                    cholesky::solve_small(&d, nj, &mut col);
                    for a in 0..nj {
                        dinv[base + a * nj + b] = col[a];
                    }
                }
                let ebase = e.len();
                if dense {
                    e.resize(ebase + nj * ng, 0.0);
                }
                // S −= B_j D_j⁻¹ B_jᵀ over the weights this sample touches
                let active: Vec<usize> = (0..ng)
                    .filter(|&g| bmat[g * nj..(g + 1) * nj].iter().any(|&v| v != 0.0))
                    .collect();
                for &g in &active {
                    col.clear();
                    col.extend_from_slice(&bmat[g * nj..(g + 1) * nj]);
                    cholesky::solve_small(&d, nj, &mut col);
                    if dense {
                        for a in 0..nj {
                            e[ebase + a * ng + g] = col[a];
                        }
                    }
                    for &h in &active {
                        let bh = &bmat[h * nj..(h + 1) * nj];
                        s[h * ng + g] -= bh.iter().zip(&col).map(|(a, b)| a * b).sum::<f64>();
                    }
                }
            }
            Ok((dinv, e, s))
        });
        let mut s = vec![0.0; ng * ng];
        let (mut dinv, mut e) = (Vec::new(), Vec::new());
        for part in parts {
            let (d, ep, sp) = part?;
            dinv.extend_from_slice(&d);
            e.extend_from_slice(&ep);
            for (a, b) in s.iter_mut().zip(&sp) {
                *a += b;
            }
        }
        let (mut d_off, mut e_off) = (Vec::with_capacity(rows.n + 1), Vec::new());
        let (mut pos, mut epos) = (0, 0);
        for j in 0..rows.n {
            d_off.push(pos);
            let nj = rows.loc_off[j + 1] - rows.loc_off[j];
            pos += nj * nj;
            if dense {
                e_off.push(epos);
                epos += nj * ng;
            }
        }
        d_off.push(pos);
        e_off.push(epos);
        for o in rows.w_off[rows.n]..rows.n_w() {
            let r = rho[rows.group_of(o)];
            let (idx, val) = rows.terms(o);
            for (&ia, &va) in idx.iter().zip(val) {
                for (&ib, &vb) in idx.iter().zip(val) {
                    s[ia as usize * ng + ib as usize] += r * va * vb;
                }
            }
        }
        // A tiny ridge keeps rank-deficient inputs (e.g. a constant feature) solvable.
        let scale = (0..ng)
            .map(|g| s[g * ng + g])
            .fold(0.0_f64, f64::max)
            .max(1.0);
        for g in 0..ng {
            s[g * ng + g] += 1e-12 * scale;
        }
        cholesky(&mut s, ng)?;
        Ok(Self {
            dinv,
            d_off,
            e,
            e_off,
            s,
        })
    }

    /// `y ← D_j⁻¹ r`.
    pub(super) fn local_solve(&self, j: usize, r: &[f64], y: &mut [f64]) {
        let n = r.len();
        let d = &self.dinv[self.d_off[j]..self.d_off[j + 1]];
        for (a, ya) in y.iter_mut().enumerate() {
            *ya = d[a * n..(a + 1) * n]
                .iter()
                .zip(r)
                .map(|(x, y)| x * y)
                .sum();
        }
    }

    /// `E_j` (n_j × ng, row-major) if stored.
    pub(super) fn e(&self, j: usize) -> Option<&[f64]> {
        (!self.e.is_empty()).then(|| &self.e[self.e_off[j]..self.e_off[j + 1]])
    }
}
