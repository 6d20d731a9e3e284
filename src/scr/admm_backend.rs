//! First-order backend, pure Rust: ADMM on subproblem (8).
//!
//! Splitting (scr-method.md §6, "first-order alternatives"): with `v` the decision variables and
//! `w = A v + c` the stacked affine images — the matrix `M_1`, every 2×2 block `m_k`, and copies of
//! `H`, `S_1` and the free entries of `Z_2` — (8) is `min g(w)` s.t. `w = A v + c`, where `g` is
//! `λ‖M_1‖_* + μ Σ_k ‖m_k‖_*` plus the indicators of `H ≥ 0`, `S_1 ≥ 0`, `Z_2 ≤ 0`. Scaled ADMM:
//!
//! - `v ← argmin ‖A v + c − w + u‖²`: the normal matrix `AᵀA` has a block-arrow structure — the
//!   hidden activations (and free `Z_2` entries) of sample `j` couple only with each other and with
//!   the weights — so each sample's block is eliminated and only a small dense system in the weights
//!   is solved. It does not depend on ρ: it is factored once per subproblem. O(N) per iteration.
//! - `w ← prox_{g/ρ}(A v + c + u)`: singular-value thresholding of `M_1` through the eigenvalues of
//!   its `m × m` Gram matrix, the 2×2 blocks in closed form, clipping for the copies.
//! - `u ← u + A v + c − w`; ρ adapted by residual balancing; stop on the primal and dual residuals.
//!
//! The operator `A` is never stored: its rows are generated sample by sample.

use super::backend::{SolveStatus, SubSolution, Subproblem, SubproblemSolver};
use super::formulation::{objective_at, Iterate, ScrProblem};
use super::Params;
use crate::error::{Error, Result};
use crate::linalg::Matrix;
use crate::net::Activation;

/// ADMM settings. The defaults aim at violations near 1e-8 on the seed's problem.
#[derive(Clone, Debug)]
pub struct AdmmBackend {
    /// Absolute tolerance on the primal and dual residuals (per √dimension).
    pub eps_abs: f64,
    /// Relative tolerance on the primal and dual residuals.
    pub eps_rel: f64,
    /// Iteration cap of one subproblem.
    pub max_iter: usize,
    /// Initial penalties ρ of the three blocks of w: M_1, the 2×2 blocks, the copies of H, S₁, Z₂.
    /// The copies' ρ is further multiplied by min(1, 30/N): at N = 300 the first subproblem of a
    /// perturbed start took 18 240 iterations with ρ = 1 there, 2 140 with 0.1 and 1 530 with 0.01,
    /// while at N = 30 (the demo) ρ = 1 was fastest. A heuristic, measured on 3-3-2 teachers.
    pub rho: [f64; 3],
    /// Over-relaxation α ∈ (0, 2): `A v + c` is replaced by `α (A v + c) + (1 − α) w` in the
    /// w- and u-updates.
    pub alpha: f64,
    /// The last solve's split variables, reused as the next start when the sizes match.
    warm: Option<Warm>,
}

#[derive(Clone, Debug)]
struct Warm {
    w: Vec<f64>,
    u: Vec<f64>,
    rho: [f64; 3],
}

impl Default for AdmmBackend {
    fn default() -> Self {
        Self {
            eps_abs: 1e-9,
            eps_rel: 1e-9,
            max_iter: 20_000,
            rho: [1.0; 3],
            alpha: 1.6,
            warm: None,
        }
    }
}

impl AdmmBackend {
    /// Default settings with tolerance `tol` (absolute and relative) and an iteration cap.
    pub fn with_tolerance(tol: f64, max_iter: usize) -> Self {
        Self {
            eps_abs: tol,
            eps_rel: tol,
            max_iter,
            ..Default::default()
        }
    }
}

/// How far residual balancing may move each block's ρ from its start (both ways). Unbounded, the
/// copies' ρ grew to 1e10 within 200 iterations and one zero-start SCR step of the 3-3-2 teacher
/// stopped at the 20 000-iteration cap for N = 100, 300 and 10 000; bounded by 100 it converged in
/// 120, 200 and 1 150 iterations (10 and 1 000 gave the same counts).
const RHO_RANGE: f64 = 100.0;

/// Small reusable buffers for one generated row.
#[derive(Default)]
struct RowBuf {
    loc: Vec<(usize, f64)>,
    glob: Vec<(usize, f64)>,
}

/// The structure of `A` for one subproblem.
struct Ops<'a> {
    p: &'a ScrProblem,
    par: &'a Params,
    nx: usize,
    nh: usize,
    ny: usize,
    n: usize,
    /// Rows of `M_1`: n_y + n_h.
    m: usize,
    /// Number of weights (W₁, b₁, W₂, b₂).
    ng: usize,
    /// Start of sample `j`'s local variables (H[:, j], then its free Z₂ entries); length n + 1.
    loc_off: Vec<usize>,
    /// Per entry (i, j) of Z₂ (column-major): `Some(k)` if free, k its index among the free entries.
    zfree: Vec<Option<usize>>,
    off_blk: usize,
    off_ph: usize,
    off_ps: usize,
    off_pz: usize,
    n_w: usize,
}

impl<'a> Ops<'a> {
    fn new(p: &'a ScrProblem, par: &'a Params) -> Self {
        let (nx, nh, ny, n) = (p.n_inputs(), p.n_hidden, p.n_outputs(), p.n_samples());
        let m = ny + nh;
        let mut zfree = Vec::with_capacity(ny * n);
        let mut loc_off = Vec::with_capacity(n + 1);
        let mut count = 0;
        let mut total = 0;
        for j in 0..n {
            loc_off.push(total);
            total += nh;
            for i in 0..ny {
                if p.output == Activation::Relu && p.y.get(i, j) == 0.0 {
                    zfree.push(Some(count));
                    count += 1;
                    total += 1;
                } else {
                    zfree.push(None);
                }
            }
        }
        loc_off.push(total);
        let off_blk = m * (n + nh);
        let off_ph = off_blk + 4 * nh * n;
        let off_ps = off_ph + nh * n;
        let off_pz = off_ps + nh * n;
        Self {
            p,
            par,
            nx,
            nh,
            ny,
            n,
            m,
            ng: nh * nx + nh + ny * nh + ny,
            loc_off,
            zfree,
            off_blk,
            off_ph,
            off_ps,
            off_pz,
            n_w: off_pz + count,
        }
    }

    /// Which block of `w` an entry belongs to: 0 = M_1, 1 = the 2×2 blocks, 2 = the copies.
    fn group(&self, o: usize) -> usize {
        if o < self.off_blk {
            0
        } else if o < self.off_ph {
            1
        } else {
            2
        }
    }

    fn g_w1(&self, i: usize, c: usize) -> usize {
        i + c * self.nh
    }
    fn g_b1(&self, i: usize) -> usize {
        self.nh * self.nx + i
    }
    fn g_w2(&self, i: usize, l: usize) -> usize {
        self.nh * self.nx + self.nh + i + l * self.ny
    }
    fn g_b2(&self, i: usize) -> usize {
        self.nh * self.nx + self.nh + self.ny * self.nh + i
    }

    /// Local slot of the free Z₂[i, j] within sample j (after the n_h entries of H[:, j]).
    /// Constant time: the free entries before column j number `loc_off[j] − j·n_h`, and they are
    /// numbered consecutively.
    fn z_slot(&self, i: usize, j: usize) -> Option<usize> {
        let k = self.zfree[i + j * self.ny]?;
        Some(self.nh + k + j * self.nh - self.loc_off[j])
    }

    /// Calls `f(out, local terms, global terms, constant)` for every row of sample `j`.
    fn sample_rows(
        &self,
        j: usize,
        buf: &mut RowBuf,
        mut f: impl FnMut(usize, &[(usize, f64)], &[(usize, f64)], f64),
    ) {
        let (p, par) = (self.p, self.par);
        let (nh, ny, m) = (self.nh, self.ny, self.m);
        // M_1 data column j: top rows C + X_W Y_H + W_2 Y_H + X_W H, bottom rows H + Y_H.
        for i in 0..ny {
            buf.loc.clear();
            buf.glob.clear();
            let mut c = 0.0;
            match self.z_slot(i, j) {
                Some(s) => buf.loc.push((s, 1.0)),
                None => c += p.y.get(i, j),
            }
            buf.glob.push((self.g_b2(i), -1.0));
            for l in 0..nh {
                let (xw, yh) = (par.xw.get(i, l), par.yh.get(l, j));
                c += xw * yh;
                buf.loc.push((l, xw));
                buf.glob.push((self.g_w2(i, l), yh));
            }
            f(i + j * m, &buf.loc, &buf.glob, c);
        }
        for l in 0..nh {
            f(ny + l + j * m, &[(l, 1.0)], &[], par.yh.get(l, j));
        }
        // Complementarity blocks [[a, b], [c, 1]] stored row-major, and the copies of H and S₁.
        for l in 0..nh {
            let (x, y) = (par.xh.get(l, j), par.ys.get(l, j));
            let base = self.off_blk + 4 * (l + j * nh);
            // S₁[l, j] = H[l, j] − Σ_c W₁[l, c] X[c, j] − b₁[l]: its global part, scaled by `s`.
            let s_glob = |buf: &mut RowBuf, scale: f64| {
                buf.glob.clear();
                for c in 0..self.nx {
                    buf.glob.push((self.g_w1(l, c), -scale * p.x.get(c, j)));
                }
                buf.glob.push((self.g_b1(l), -scale));
            };
            s_glob(buf, x);
            f(base, &[(l, x + y)], &buf.glob, x * y);
            f(base + 1, &[(l, 1.0)], &[], x);
            s_glob(buf, 1.0);
            f(base + 2, &[(l, 1.0)], &buf.glob, y);
            f(base + 3, &[], &[], 1.0);
            f(self.off_ph + l + j * nh, &[(l, 1.0)], &[], 0.0);
            f(self.off_ps + l + j * nh, &[(l, 1.0)], &buf.glob, 0.0);
        }
        for i in 0..ny {
            if let (Some(k), Some(s)) = (self.zfree[i + j * ny], self.z_slot(i, j)) {
                f(self.off_pz + k, &[(s, 1.0)], &[], 0.0);
            }
        }
    }

    /// Rows that involve only weights: the last n_h columns `[W₂ + X_W; I]` of M_1.
    fn global_rows(&self, mut f: impl FnMut(usize, &[(usize, f64)], f64)) {
        for l in 0..self.nh {
            let col = self.n + l;
            for i in 0..self.ny {
                f(
                    i + col * self.m,
                    &[(self.g_w2(i, l), 1.0)],
                    self.par.xw.get(i, l),
                );
            }
            for r in 0..self.nh {
                f(
                    self.ny + r + col * self.m,
                    &[],
                    if r == l { 1.0 } else { 0.0 },
                );
            }
        }
    }

    /// `A v + c`.
    fn apply(&self, vg: &[f64], vl: &[f64], out: &mut [f64]) {
        let mut buf = RowBuf::default();
        for j in 0..self.n {
            let lv = &vl[self.loc_off[j]..self.loc_off[j + 1]];
            self.sample_rows(j, &mut buf, |o, loc, glob, c| {
                out[o] = c
                    + loc.iter().map(|&(s, a)| a * lv[s]).sum::<f64>()
                    + glob.iter().map(|&(g, a)| a * vg[g]).sum::<f64>();
            });
        }
        self.global_rows(|o, glob, c| {
            out[o] = c + glob.iter().map(|&(g, a)| a * vg[g]).sum::<f64>();
        });
    }

    /// `Aᵀ R t` with `R` the per-block weights (the constants are ignored).
    fn apply_t(&self, t: &[f64], wts: &[f64; 3], gg: &mut [f64], gl: &mut [f64]) {
        gg.iter_mut().for_each(|v| *v = 0.0);
        gl.iter_mut().for_each(|v| *v = 0.0);
        let mut buf = RowBuf::default();
        for j in 0..self.n {
            let lo = self.loc_off[j];
            self.sample_rows(j, &mut buf, |o, loc, glob, _| {
                let to = t[o] * wts[self.group(o)];
                for &(s, a) in loc {
                    gl[lo + s] += a * to;
                }
                for &(g, a) in glob {
                    gg[g] += a * to;
                }
            });
        }
        self.global_rows(|o, glob, _| {
            for &(g, a) in glob {
                gg[g] += a * t[o] * wts[0];
            }
        });
    }

    /// The constants `c` (A applied to zero).
    fn constants(&self) -> Vec<f64> {
        let mut c = vec![0.0; self.n_w];
        self.apply(
            &vec![0.0; self.ng],
            &vec![0.0; self.loc_off[self.n]],
            &mut c,
        );
        c
    }
}

/// Cholesky factor of a small dense SPD matrix (row-major, lower triangle), in place.
fn cholesky(a: &mut [f64], n: usize) -> Result<()> {
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        if d.is_nan() || d <= 0.0 || !d.is_finite() {
            return Err(Error::Numerical(format!(
                "ADMM normal matrix is not positive definite (pivot {j}: {d:e})"
            )));
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

/// Solves `L Lᵀ x = b` in place with a factor from [`cholesky`].
fn chol_solve(l: &[f64], n: usize, b: &mut [f64]) {
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

/// The factored normal matrix `AᵀA`: per-sample local blocks and the Schur complement in the weights.
struct Normal {
    /// Cholesky factors of the local blocks D_j, concatenated (n_j² each).
    dl: Vec<f64>,
    dl_off: Vec<usize>,
    /// Cholesky factor of S = K_gg − Σ_j B_j D_j⁻¹ B_jᵀ (ng × ng).
    s: Vec<f64>,
    /// The per-block weights (penalties ρ) of `AᵀRA`.
    wts: [f64; 3],
}

impl Normal {
    /// Factors `AᵀRA` with `R` the per-block weights.
    fn factor(ops: &Ops<'_>, wts: [f64; 3]) -> Result<Self> {
        let ng = ops.ng;
        let mut s = vec![0.0; ng * ng];
        let mut dl = Vec::new();
        let mut dl_off = Vec::with_capacity(ops.n + 1);
        let mut buf = RowBuf::default();
        let mut bmat = Vec::new(); // B_j: ng × nj, row-major
        for j in 0..ops.n {
            let nj = ops.loc_off[j + 1] - ops.loc_off[j];
            let mut d = vec![0.0; nj * nj];
            bmat.clear();
            bmat.resize(ng * nj, 0.0);
            ops.sample_rows(j, &mut buf, |o, loc, glob, _| {
                let r = wts[ops.group(o)];
                for &(a, ca) in loc {
                    for &(b, cb) in loc {
                        d[a * nj + b] += r * ca * cb;
                    }
                    for &(g, cg) in glob {
                        bmat[g * nj + a] += r * cg * ca;
                    }
                }
                for &(g, cg) in glob {
                    for &(h, ch) in glob {
                        s[g * ng + h] += r * cg * ch;
                    }
                }
            });
            cholesky(&mut d, nj)?;
            // S −= B_j D_j⁻¹ B_jᵀ, one weight column at a time
            let mut col = vec![0.0; nj];
            for g in 0..ng {
                col.copy_from_slice(&bmat[g * nj..(g + 1) * nj]);
                if col.iter().all(|&v| v == 0.0) {
                    continue;
                }
                chol_solve(&d, nj, &mut col);
                for h in 0..ng {
                    let bh = &bmat[h * nj..(h + 1) * nj];
                    s[h * ng + g] -= bh.iter().zip(&col).map(|(a, b)| a * b).sum::<f64>();
                }
            }
            dl_off.push(dl.len());
            dl.extend_from_slice(&d);
        }
        dl_off.push(dl.len());
        ops.global_rows(|_, glob, _| {
            for &(g, cg) in glob {
                for &(h, ch) in glob {
                    s[g * ng + h] += wts[0] * cg * ch;
                }
            }
        });
        // A tiny ridge keeps rank-deficient inputs (e.g. a constant feature) solvable.
        let scale = (0..ng)
            .map(|g| s[g * ng + g])
            .fold(0.0_f64, f64::max)
            .max(1.0);
        for g in 0..ng {
            s[g * ng + g] += 1e-12 * scale;
        }
        cholesky(&mut s, ng)?;
        Ok(Self { dl, dl_off, s, wts })
    }

    /// Solves `AᵀRA v = r` (r split into weights and locals), overwriting `rg`, `rl` with `v`.
    fn solve(&self, ops: &Ops<'_>, rg: &mut [f64], rl: &mut [f64]) {
        let ng = ops.ng;
        let mut buf = RowBuf::default();
        // y_j = D_j⁻¹ r_j ; rg −= B_j y_j
        let mut acc = vec![0.0; ng];
        let mut yj = Vec::new();
        for j in 0..ops.n {
            let (lo, hi) = (ops.loc_off[j], ops.loc_off[j + 1]);
            let nj = hi - lo;
            let d = &self.dl[self.dl_off[j]..self.dl_off[j + 1]];
            yj.clear();
            yj.extend_from_slice(&rl[lo..hi]);
            chol_solve(d, nj, &mut yj);
            ops.sample_rows(j, &mut buf, |o, loc, glob, _| {
                if glob.is_empty() {
                    return;
                }
                let t: f64 =
                    self.wts[ops.group(o)] * loc.iter().map(|&(s, a)| a * yj[s]).sum::<f64>();
                for &(g, cg) in glob {
                    acc[g] += cg * t;
                }
            });
        }
        for g in 0..ng {
            rg[g] -= acc[g];
        }
        chol_solve(&self.s, ng, rg);
        // v_j = D_j⁻¹ (r_j − B_jᵀ v_g)
        for j in 0..ops.n {
            let (lo, hi) = (ops.loc_off[j], ops.loc_off[j + 1]);
            let nj = hi - lo;
            let r = &mut rl[lo..hi];
            ops.sample_rows(j, &mut buf, |o, loc, glob, _| {
                if glob.is_empty() {
                    return;
                }
                let t: f64 =
                    self.wts[ops.group(o)] * glob.iter().map(|&(g, a)| a * rg[g]).sum::<f64>();
                for &(s, a) in loc {
                    r[s] -= a * t;
                }
            });
            chol_solve(&self.dl[self.dl_off[j]..self.dl_off[j + 1]], nj, r);
        }
    }
}

/// Singular-value soft thresholding of a 2×2 matrix `[a, b; c, d]` (row-major), in closed form.
pub fn svt_2x2(m: [f64; 4], tau: f64) -> [f64; 4] {
    let [a, b, c, d] = m;
    let (e, f, g, h) = ((a + d) / 2.0, (a - d) / 2.0, (c + b) / 2.0, (c - b) / 2.0);
    let (q, r) = (e.hypot(h), f.hypot(g));
    let (sx, sy) = (q + r, q - r);
    let (a1, a2) = (g.atan2(f), h.atan2(e));
    let (theta, phi) = ((a2 - a1) / 2.0, (a2 + a1) / 2.0);
    let sx2 = (sx - tau).max(0.0);
    let sy2 = sy.signum() * (sy.abs() - tau).max(0.0);
    // M = R(φ) diag(sx, sy) R(θ), R(α) = [cos −sin; sin cos]
    let (cp, sp, ct, st) = (phi.cos(), phi.sin(), theta.cos(), theta.sin());
    [
        cp * sx2 * ct - sp * sy2 * st,
        -cp * sx2 * st - sp * sy2 * ct,
        sp * sx2 * ct + cp * sy2 * st,
        -sp * sx2 * st + cp * sy2 * ct,
    ]
}

/// Singular-value soft thresholding of an `m × q` matrix (column-major, m small) through the
/// eigen-decomposition of its `m × m` Gram matrix: `U diag((σ − τ)_+/σ) Uᵀ Q`. O(m² q).
pub fn svt_wide(q: &mut [f64], m: usize, tau: f64) -> Result<()> {
    let cols = q.len() / m;
    let mut gram = Matrix::zeros(m, m);
    for j in 0..cols {
        let c = &q[j * m..(j + 1) * m];
        for a in 0..m {
            for b in 0..=a {
                let v = gram.get(a, b) + c[a] * c[b];
                gram.set(a, b, v);
            }
        }
    }
    for a in 0..m {
        for b in 0..a {
            gram.set(b, a, gram.get(a, b));
        }
    }
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
    // P = U diag(shrink) Uᵀ
    let p = Matrix::from_fn(m, m, |a, b| {
        (0..m).map(|k| u.get(a, k) * shrink[k] * u.get(b, k)).sum()
    });
    let mut tmp = vec![0.0; m];
    for j in 0..cols {
        let c = &mut q[j * m..(j + 1) * m];
        for (a, t) in tmp.iter_mut().enumerate() {
            *t = (0..m).map(|b| p.get(a, b) * c[b]).sum();
        }
        c.copy_from_slice(&tmp);
    }
    Ok(())
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

impl AdmmBackend {
    /// The proximal step `w ← prox_{g/ρ}(z)`.
    fn prox(ops: &Ops<'_>, z: &mut [f64], lambda: f64, mu: f64, rho: &[f64; 3]) -> Result<()> {
        svt_wide(&mut z[..ops.off_blk], ops.m, lambda / rho[0])?;
        for blk in z[ops.off_blk..ops.off_ph].chunks_exact_mut(4) {
            let out = svt_2x2([blk[0], blk[1], blk[2], blk[3]], mu / rho[1]);
            blk.copy_from_slice(&out);
        }
        for v in &mut z[ops.off_ph..ops.off_pz] {
            *v = v.max(0.0);
        }
        for v in &mut z[ops.off_pz..] {
            *v = v.min(0.0);
        }
        Ok(())
    }

    fn unpack(ops: &Ops<'_>, vg: &[f64], vl: &[f64]) -> Iterate {
        let (nx, nh, ny, n) = (ops.nx, ops.nh, ops.ny, ops.n);
        let w1 = Matrix::from_fn(nh, nx, |i, c| vg[ops.g_w1(i, c)]);
        let b1 = (0..nh).map(|i| vg[ops.g_b1(i)]).collect();
        let w2 = Matrix::from_fn(ny, nh, |i, l| vg[ops.g_w2(i, l)]);
        let b2 = (0..ny).map(|i| vg[ops.g_b2(i)]).collect();
        let h = Matrix::from_fn(nh, n, |l, j| vl[ops.loc_off[j] + l]);
        let z2 = Matrix::from_fn(ny, n, |i, j| match ops.z_slot(i, j) {
            Some(s) => vl[ops.loc_off[j] + s],
            None => ops.p.y.get(i, j),
        });
        Iterate {
            w1,
            b1,
            w2,
            b2,
            h,
            z2,
        }
    }
}

impl SubproblemSolver for AdmmBackend {
    fn name(&self) -> &str {
        "admm"
    }

    fn solve(&mut self, sub: &Subproblem<'_>) -> Result<SubSolution> {
        let ops = Ops::new(sub.problem, sub.params);
        let n_w = ops.n_w;
        let c = ops.constants();
        // One penalty per block of w (M_1, 2×2 blocks, copies), each balanced on its own residuals.
        let mut rho0 = self.rho;
        rho0[2] *= (30.0 / ops.n as f64).min(1.0);
        let (mut w, mut u, mut rho) = match self.warm.take() {
            Some(wm) if wm.w.len() == n_w => (wm.w, wm.u, wm.rho),
            _ => (c.clone(), vec![0.0; n_w], rho0),
        };
        let mut normal = Normal::factor(&ops, rho)?;
        let ranges = [0..ops.off_blk, ops.off_blk..ops.off_ph, ops.off_ph..n_w];
        let nl = ops.loc_off[ops.n];
        let (mut vg, mut vl) = (vec![0.0; ops.ng], vec![0.0; nl]);
        let mut av = vec![0.0; n_w];
        let mut t = vec![0.0; n_w];
        let mut w_prev = w.clone();
        let (mut gg, mut gl) = (vec![0.0; ops.ng], vec![0.0; nl]);
        let (mut r_prim, mut r_dual) = (f64::INFINITY, f64::INFINITY);
        let mut converged = false;
        let mut iters = 0;
        let check_every = 10;
        for k in 1..=self.max_iter {
            iters = k;
            // v-update: AᵀRA v = AᵀR(w − u − c)
            for i in 0..n_w {
                t[i] = w[i] - u[i] - c[i];
            }
            ops.apply_t(&t, &rho, &mut vg, &mut vl);
            normal.solve(&ops, &mut vg, &mut vl);
            ops.apply(&vg, &vl, &mut av);
            // w-update with over-relaxation: t = α(Av + c) + (1 − α) w
            w_prev.copy_from_slice(&w);
            for i in 0..n_w {
                t[i] = self.alpha * av[i] + (1.0 - self.alpha) * w_prev[i];
                w[i] = t[i] + u[i];
            }
            Self::prox(&ops, &mut w, sub.lambda, sub.mu, &rho)?;
            // dual update
            for i in 0..n_w {
                u[i] += t[i] - w[i];
            }
            if k % check_every == 0 || k == self.max_iter {
                for i in 0..n_w {
                    t[i] = av[i] - w[i];
                }
                r_prim = norm(&t);
                let group_prim: Vec<f64> = ranges.iter().map(|r| norm(&t[r.clone()])).collect();
                for i in 0..n_w {
                    t[i] = w[i] - w_prev[i];
                }
                let group_dual: Vec<f64> = ranges
                    .iter()
                    .enumerate()
                    .map(|(g, r)| rho[g] * norm(&t[r.clone()]))
                    .collect();
                ops.apply_t(&t, &rho, &mut gg, &mut gl);
                r_dual = (norm(&gg).powi(2) + norm(&gl).powi(2)).sqrt();
                ops.apply_t(&u, &rho, &mut gg, &mut gl);
                let aty = (norm(&gg).powi(2) + norm(&gl).powi(2)).sqrt();
                let eps_p =
                    self.eps_abs * (n_w as f64).sqrt() + self.eps_rel * norm(&av).max(norm(&w));
                let eps_d = self.eps_abs * ((ops.ng + nl) as f64).sqrt() + self.eps_rel * aty;
                if !r_prim.is_finite() || !r_dual.is_finite() {
                    break;
                }
                if r_prim <= eps_p && r_dual <= eps_d {
                    converged = true;
                    break;
                }
                // residual balancing, block by block
                let mut changed = false;
                for (g, r) in ranges.iter().enumerate() {
                    let dim = (r.len() as f64).sqrt();
                    let ep = self.eps_abs * dim
                        + self.eps_rel * norm(&av[r.clone()]).max(norm(&w[r.clone()]));
                    let ed = self.eps_abs * dim + self.eps_rel * rho[g] * norm(&u[r.clone()]);
                    let ratio = (group_prim[g] / ep) / (group_dual[g] / ed).max(1e-300);
                    if !(0.1..=10.0).contains(&ratio) {
                        let scale = ratio.sqrt().clamp(0.2, 5.0);
                        // Kept within a factor RHO_RANGE of its start: unclamped, the copies'
                        // ρ ran away to 1e10 and the solve stalled (see RHO_RANGE).
                        let (lo, hi) = (rho0[g] / RHO_RANGE, rho0[g] * RHO_RANGE);
                        let scale = (rho[g] * scale).clamp(lo, hi) / rho[g];
                        if scale == 1.0 {
                            continue;
                        }
                        rho[g] *= scale;
                        for v in &mut u[r.clone()] {
                            *v /= scale;
                        }
                        changed = true;
                    }
                }
                if changed {
                    normal = Normal::factor(&ops, rho)?;
                }
            }
        }
        let iterate = Self::unpack(&ops, &vg, &vl);
        let finite = vg.iter().chain(&vl).all(|v| v.is_finite());
        let status = if !finite {
            SolveStatus::Failed("ADMM diverged (non-finite iterate)".into())
        } else if converged {
            SolveStatus::Solved
        } else {
            SolveStatus::AlmostSolved
        };
        let objective = if finite {
            objective_at(&iterate, sub.problem, sub.params, sub.lambda, sub.mu)?
        } else {
            f64::NAN
        };
        if finite {
            self.warm = Some(Warm { w, u, rho });
        }
        Ok(SubSolution {
            iterate,
            objective,
            status,
            solver_iterations: iters as u32,
            residuals: Some((r_prim, r_dual)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::planted_teacher;
    use crate::net::Architecture;
    use crate::scr::formulation::Layout;

    fn svt_reference(m: &Matrix, tau: f64) -> Matrix {
        let svd = faer::Mat::from_fn(m.rows(), m.cols(), |i, j| m.get(i, j))
            .thin_svd()
            .unwrap();
        let (u, s, v) = (svd.U(), svd.S(), svd.V());
        let k = s.column_vector().nrows();
        Matrix::from_fn(m.rows(), m.cols(), |i, j| {
            (0..k)
                .map(|r| u[(i, r)] * (s[r] - tau).max(0.0) * v[(j, r)])
                .sum()
        })
    }

    #[test]
    fn svt_closed_form_and_gram_route_match_svd() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for k in 0..500 {
            let m = Matrix::from_fn(2, 2, |_, _| rng.random_range(-3.0..3.0));
            let tau = [0.0, 0.1, 1.0, 5.0][k % 4];
            let want = svt_reference(&m, tau);
            let got = svt_2x2([m.get(0, 0), m.get(0, 1), m.get(1, 0), m.get(1, 1)], tau);
            let got = Matrix::from_rows(&[vec![got[0], got[1]], vec![got[2], got[3]]]).unwrap();
            assert!(got.sub(&want).unwrap().frobenius() < 1e-10, "{m:?} τ={tau}");
        }
        for (rows, cols) in [(5, 33), (3, 8)] {
            let m = Matrix::from_fn(rows, cols, |_, _| rng.random_range(-2.0..2.0));
            let want = svt_reference(&m, 1.5);
            let mut q = m.as_slice().to_vec();
            svt_wide(&mut q, rows, 1.5).unwrap();
            let got = Matrix::from_col_major(rows, cols, q).unwrap();
            assert!(got.sub(&want).unwrap().frobenius() < 1e-9);
        }
    }

    /// The matrix-free operator equals the formulation's affine expressions, and the block
    /// elimination solves the weighted normal equations `AᵀRA v = r` like a dense solve.
    #[test]
    fn operator_and_structured_solve_match_dense() {
        for output in [Activation::Relu, Activation::Linear] {
            let arch = Architecture::parse("3-4-2", output).unwrap();
            let t = planted_teacher(&arch, 9, 2).unwrap();
            let p = ScrProblem::new(&t.data.x, &t.data.y, &arch).unwrap();
            let par = Params::random(&p, 4);
            let ops = Ops::new(&p, &par);
            let lay = Layout::new(&p);
            // a random point, compared entry by entry against Layout's expressions
            let nl = ops.loc_off[ops.n];
            let vg: Vec<f64> = (0..ops.ng).map(|i| (i as f64 * 0.37).sin()).collect();
            let vl: Vec<f64> = (0..nl).map(|i| (i as f64 * 0.91).cos()).collect();
            let it = AdmmBackend::unpack(&ops, &vg, &vl);
            let v = lay.pack(&it);
            let mut av = vec![0.0; ops.n_w];
            ops.apply(&vg, &vl, &mut av);
            for j in 0..ops.n + ops.nh {
                for (i, e) in lay.product_column(&p, &par, j).iter().enumerate() {
                    assert!((e.eval(&v) - av[i + j * ops.m]).abs() < 1e-12);
                }
            }
            for j in 0..ops.n {
                for l in 0..ops.nh {
                    let [a, b, c] = lay.complementarity_block(&p, &par, l, j);
                    let base = ops.off_blk + 4 * (l + j * ops.nh);
                    assert!((a.eval(&v) - av[base]).abs() < 1e-12);
                    assert!((b.eval(&v) - av[base + 1]).abs() < 1e-12);
                    assert!((c.eval(&v) - av[base + 2]).abs() < 1e-12);
                    assert_eq!(av[base + 3], 1.0);
                    let s = lay.s1_expr(&p, l, j).eval(&v);
                    assert!((av[ops.off_ps + l + j * ops.nh] - s).abs() < 1e-12);
                }
            }
            // dense AᵀA from the operator, against the structured solve
            let nv = ops.ng + nl;
            let col = |k: usize| {
                let (mut g, mut l) = (vec![0.0; ops.ng], vec![0.0; nl]);
                if k < ops.ng {
                    g[k] = 1.0
                } else {
                    l[k - ops.ng] = 1.0
                }
                let c = ops.constants();
                let mut a = vec![0.0; ops.n_w];
                ops.apply(&g, &l, &mut a);
                a.iter().zip(&c).map(|(x, y)| x - y).collect::<Vec<_>>()
            };
            let cols: Vec<Vec<f64>> = (0..nv).map(col).collect();
            let wts = [2.0, 0.5, 3.0];
            let r: Vec<f64> = (0..ops.n_w).map(|o| wts[ops.group(o)]).collect();
            let ata = Matrix::from_fn(nv, nv, |a, b| {
                (0..ops.n_w).map(|o| cols[a][o] * r[o] * cols[b][o]).sum()
            });
            let x_true: Vec<f64> = (0..nv).map(|i| 1.0 + (i as f64).sqrt()).collect();
            let rhs: Vec<f64> = (0..nv)
                .map(|a| (0..nv).map(|b| ata.get(a, b) * x_true[b]).sum())
                .collect();
            let normal = Normal::factor(&ops, wts).unwrap();
            let (mut rg, mut rl) = (rhs[..ops.ng].to_vec(), rhs[ops.ng..].to_vec());
            normal.solve(&ops, &mut rg, &mut rl);
            let err: f64 = rg
                .iter()
                .chain(&rl)
                .zip(&x_true)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(err < 1e-6, "{output}: structured solve error {err:e}");
        }
    }
}
