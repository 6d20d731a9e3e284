//! The passes of one ADMM iteration over the samples (on several threads, in fixed chunks): the
//! v-update (right-hand side, weights' solve, local back-substitution), the local proxes with
//! their dual updates, the product columns' thresholding, and the sums of a convergence check.

use super::normal::Normal;
use super::prox::{add_outer, shrink_pair, svt_projector, threshold_column};
use super::residuals::{Check, GroupedAtR};
use super::rows::Rows;
use crate::linalg::threads::{par_map, split_at_bounds};
use crate::linalg::{cholesky, norm, Matrix};
use std::ops::Range;

/// The state of one ADMM solve: rows, penalties, factorisation.
pub(super) struct Solver<'a> {
    pub(super) rows: &'a Rows,
    pub(super) rho: Vec<f64>,
    /// Threshold of each group's prox: λ_k/ρ for `M_k`, μ_k/ρ for layer k's blocks.
    pub(super) tau: Vec<f64>,
    pub(super) normal: Normal,
    /// The terms' weights: λ_k, then μ_k.
    weights: Vec<f64>,
    pub(super) alpha: f64,
    pub(super) threads: usize,
    /// Whether the normal matrix stores every `E_j`.
    dense: bool,
}

/// The split and dual variables of a solve, and what a convergence check reads: `Av + c` and
/// the previous `w`, written on the iterations that test convergence.
pub(super) struct State {
    pub(super) w: Vec<f64>,
    pub(super) u: Vec<f64>,
    pub(super) av: Vec<f64>,
    pub(super) wp: Vec<f64>,
    /// The weights and every sample's variables.
    pub(super) vg: Vec<f64>,
    pub(super) vl: Vec<f64>,
    /// The passes' fixed chunks of samples, and where each starts in `w` and in `vl`.
    chunks: Vec<Range<usize>>,
    w_bounds: Vec<usize>,
    l_bounds: Vec<usize>,
}

impl State {
    pub(super) fn new(rows: &Rows, w: Vec<f64>, u: Vec<f64>) -> Self {
        let (n, n_w) = (rows.n, rows.n_w());
        let nl = rows.loc_off[n];
        let chunks = rows.chunks();
        let mut w_bounds: Vec<usize> = chunks.iter().map(|r| rows.w_off[r.start]).collect();
        w_bounds.push(rows.w_off[n]);
        let mut l_bounds: Vec<usize> = chunks.iter().map(|r| rows.loc_off[r.start]).collect();
        l_bounds.push(nl);
        Self {
            w,
            u,
            av: vec![0.0; n_w],
            wp: vec![0.0; n_w],
            vg: vec![0.0; rows.ng],
            vl: vec![0.0; nl],
            chunks,
            w_bounds,
            l_bounds,
        }
    }
}

impl<'a> Solver<'a> {
    /// The solver of `rows` with penalties `rho`, the terms' weights (λ_k, then μ_k) and
    /// over-relaxation `alpha`, its normal matrix factored.
    pub(super) fn new(
        rows: &'a Rows,
        rho: Vec<f64>,
        weights: Vec<f64>,
        alpha: f64,
        threads: usize,
        dense: bool,
    ) -> crate::error::Result<Self> {
        let mut s = Self {
            rows,
            tau: Vec::new(),
            normal: Normal::factor(rows, &rho, threads, dense)?,
            rho,
            weights,
            alpha,
            threads,
            dense,
        };
        s.tau = s.tau_of();
        Ok(s)
    }

    /// Threshold of each group's prox: λ_k/ρ for `M_k`, μ_k/ρ for layer k's blocks.
    fn tau_of(&self) -> Vec<f64> {
        let kl = self.rows.k_layers;
        (0..self.rows.n_groups())
            .map(|g| {
                if g < 2 * kl {
                    self.weights[g] / self.rho[g]
                } else {
                    0.0
                }
            })
            .collect()
    }

    /// Multiplies each group's ρ by its scale (and divides its scaled dual variables by it);
    /// refactors the normal matrix if any changed.
    pub(super) fn rescale(&mut self, scales: &[f64], u: &mut [f64]) -> crate::error::Result<()> {
        if scales.iter().all(|&s| s == 1.0) {
            return Ok(());
        }
        let rows = self.rows;
        for (g, &scale) in scales.iter().enumerate() {
            if scale == 1.0 {
                continue;
            }
            self.rho[g] *= scale;
            for (o, uo) in u.iter_mut().enumerate() {
                if rows.group_of(o) == g {
                    *uo /= scale;
                }
            }
        }
        // free the old factors first: they are most of the memory
        drop(std::mem::take(&mut self.normal));
        self.normal = Normal::factor(rows, &self.rho, self.threads, self.dense)?;
        self.tau = self.tau_of();
        Ok(())
    }

    /// One iteration: the v-update, `Av + c` with relaxation and the local proxes, then the
    /// singular-value thresholding of every `M_k` and its dual update; `record` keeps `Av + c`
    /// and the previous `w` for a convergence check.
    pub(super) fn step(
        &self,
        p: &crate::scr::formulation::ScrProblem,
        st: &mut State,
        record: bool,
    ) -> crate::error::Result<()> {
        let rows = self.rows;
        let (threads, wn) = (self.threads, rows.w_off[rows.n]);
        // v-update: AᵀRA v = AᵀR(w − u − c), samples eliminated (finished in pass_local)
        self.v_update(
            &st.chunks,
            &st.l_bounds,
            &st.w,
            &st.u,
            &mut st.vg,
            &mut st.vl,
        );
        // Av + c, relaxation, local proxes; Gram matrices of the product terms
        let mut grams: Vec<Vec<f64>> = rows
            .shape
            .m_rows
            .iter()
            .map(|&m| vec![0.0; m * m])
            .collect();
        {
            let vgr = &st.vg;
            let (wh, wt) = st.w.split_at_mut(wn);
            let (uh, ut) = st.u.split_at_mut(wn);
            let (avh, avt) = st.av.split_at_mut(wn);
            let (wph, wpt) = st.wp.split_at_mut(wn);
            let items: Vec<_> = st
                .chunks
                .iter()
                .cloned()
                .zip(split_at_bounds(&mut st.vl[..], &st.l_bounds))
                .zip(split_at_bounds(wh, &st.w_bounds))
                .zip(split_at_bounds(uh, &st.w_bounds))
                .zip(split_at_bounds(avh, &st.w_bounds))
                .zip(split_at_bounds(wph, &st.w_bounds))
                .collect();
            let parts = par_map(items, threads, |(((((js, vlc), wc), uc), avc), wpc)| {
                self.pass_local(js, vgr, vlc, wc, uc, avc, wpc, record)
            });
            for part in parts {
                for (g, pg) in grams.iter_mut().zip(&part) {
                    for (a, b) in g.iter_mut().zip(pg) {
                        *a += b;
                    }
                }
            }
            // the global product columns
            for (layer, &m) in rows.shape.m_rows.iter().enumerate() {
                let start = rows.glob_start[layer];
                for col in 0..p.hidden_width(layer) {
                    let r = start + col * m - wn..start + (col + 1) * m - wn;
                    for i in r.clone() {
                        let o = i + wn;
                        let a = rows.c[o] + rows.dot(o, vgr, &[]);
                        (avt[i], wpt[i]) = (a, wt[i]);
                        wt[i] = self.alpha * a + (1.0 - self.alpha) * wt[i] + ut[i];
                    }
                    add_outer(&mut grams[layer], &wt[r]);
                }
            }
        }
        // singular-value thresholding of every M_k, and the dual update of its columns
        let projectors = grams
            .into_iter()
            .zip(&rows.shape.m_rows)
            .enumerate()
            .map(|(layer, (g, &m))| {
                svt_projector(&Matrix::from_col_major(m, m, g)?, self.tau[layer])
            })
            .collect::<crate::error::Result<Vec<_>>>()?;
        let pr = &projectors;
        let (wh, wt) = st.w.split_at_mut(wn);
        let (uh, ut) = st.u.split_at_mut(wn);
        let items: Vec<_> = st
            .chunks
            .iter()
            .cloned()
            .zip(split_at_bounds(wh, &st.w_bounds))
            .zip(split_at_bounds(uh, &st.w_bounds))
            .collect();
        par_map(items, threads, |((js, wc), uc)| {
            self.pass_product(js, pr, wc, uc)
        });
        let mut tmp = vec![0.0; rows.shape.m_rows.iter().copied().max().unwrap_or(0)];
        for (layer, &m) in rows.shape.m_rows.iter().enumerate() {
            let start = rows.glob_start[layer] - wn;
            for col in 0..p.hidden_width(layer) {
                let r = start + col * m..start + (col + 1) * m;
                threshold_column(&pr[layer], r, wt, ut, &mut tmp);
            }
        }
        Ok(())
    }

    /// Pass 1 for the samples `js`: `y_j = D_j⁻¹ r_j` into `vl` (r = AᵀR(w − u − c)), and the
    /// weights' right-hand side minus `Σ_j B_j y_j`.
    pub(super) fn pass_rhs(
        &self,
        js: Range<usize>,
        w: &[f64],
        u: &[f64],
        vl: &mut [f64],
    ) -> Vec<f64> {
        let rows = self.rows;
        let ng = rows.ng;
        let mut gp = vec![0.0; ng];
        let mut r = Vec::new();
        let l0 = rows.loc_off[js.start];
        for j in js {
            let y = &mut vl[rows.loc_off[j] - l0..rows.loc_off[j + 1] - l0];
            let span = rows.w_off[j]..rows.w_off[j + 1];
            self.at_r(j, |o| w[o] - u[o] - rows.c[o], &mut gp, &mut r);
            self.normal.local_solve(j, &r, y);
            // the weights' right-hand side loses B_j y_j = E_jᵀ r_j
            if let Some(e) = self.normal.e(j) {
                for (ra, ea) in r.iter().zip(e.chunks_exact(ng)) {
                    for (g, eg) in gp.iter_mut().zip(ea) {
                        *g -= eg * ra;
                    }
                }
                continue;
            }
            for o in span {
                let (idx, val) = rows.terms(o);
                let so: f64 = idx
                    .iter()
                    .zip(val)
                    .filter(|(&i, _)| i as usize >= ng)
                    .map(|(&i, &a)| a * y[i as usize - ng])
                    .sum::<f64>()
                    * self.rho[rows.group_of(o)];
                if so == 0.0 {
                    continue;
                }
                for (&i, &a) in idx.iter().zip(val) {
                    if (i as usize) < ng {
                        gp[i as usize] -= a * so;
                    }
                }
            }
        }
        gp
    }

    /// First half of the v-update: the weights `v_g` (solved) and `y_j = D_j⁻¹ r_j` in `vl`, where
    /// `r = AᵀR(w − u − c)`. [`Solver::finish_local`] turns `y_j` into `v_j`.
    pub(super) fn v_update(
        &self,
        chunks: &[Range<usize>],
        l_bounds: &[usize],
        w: &[f64],
        u: &[f64],
        vg: &mut [f64],
        vl: &mut [f64],
    ) {
        let rows = self.rows;
        let items: Vec<_> = chunks
            .iter()
            .cloned()
            .zip(split_at_bounds(vl, l_bounds))
            .collect();
        let parts = par_map(items, self.threads, |(js, vlc)| {
            self.pass_rhs(js, w, u, vlc)
        });
        vg.iter_mut().for_each(|v| *v = 0.0);
        for part in parts {
            for (a, b) in vg.iter_mut().zip(&part) {
                *a += b;
            }
        }
        for o in rows.w_off[rows.n]..rows.n_w() {
            let to = self.rho[rows.group_of(o)] * (w[o] - u[o] - rows.c[o]);
            let (idx, val) = rows.terms(o);
            for (&i, &a) in idx.iter().zip(val) {
                vg[i as usize] += a * to;
            }
        }
        cholesky::solve_small(&self.normal.s, rows.ng, vg);
    }

    /// Second half of the v-update for sample j: `v_j = y_j − D_j⁻¹ B_jᵀ v_g` (in place).
    pub(super) fn finish_local(&self, j: usize, vg: &[f64], v: &mut [f64], q: &mut Vec<f64>) {
        let rows = self.rows;
        let ng = rows.ng;
        if let Some(e) = self.normal.e(j) {
            for (va, ea) in v.iter_mut().zip(e.chunks_exact(ng)) {
                *va -= ea.iter().zip(vg).map(|(x, y)| x * y).sum::<f64>();
            }
            return;
        }
        q.clear();
        q.resize(v.len(), 0.0);
        for o in rows.w_off[j]..rows.w_off[j + 1] {
            let (idx, val) = rows.terms(o);
            let sg: f64 = idx
                .iter()
                .zip(val)
                .filter(|(&i, _)| (i as usize) < ng)
                .map(|(&i, &a)| a * vg[i as usize])
                .sum::<f64>()
                * self.rho[rows.group_of(o)];
            if sg == 0.0 {
                continue;
            }
            for (&i, &a) in idx.iter().zip(val) {
                if i as usize >= ng {
                    q[i as usize - ng] += a * sg;
                }
            }
        }
        let n = v.len();
        q.resize(2 * n, 0.0);
        let (rhs, sol) = q.split_at_mut(n);
        self.normal.local_solve(j, rhs, sol);
        for (a, b) in v.iter_mut().zip(sol.iter()) {
            *a -= b;
        }
    }

    /// Pass 2 for the samples `js` (slices start at the chunk's first row / local): finishes
    /// `v_j = y_j − D_j⁻¹ B_jᵀ v_g`, forms `Av + c`, the relaxed point, and applies the local proxes
    /// (the blocks' pairs, clipping) with their dual updates. The product columns get `t + u` in `w`
    /// (thresholded in pass 3); returns their Gram matrices, one per `M_k`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn pass_local(
        &self,
        js: Range<usize>,
        vg: &[f64],
        vl: &mut [f64],
        w: &mut [f64],
        u: &mut [f64],
        av: &mut [f64],
        wp: &mut [f64],
        record: bool,
    ) -> Vec<Vec<f64>> {
        let rows = self.rows;
        let sh = &rows.shape;
        let mut grams: Vec<Vec<f64>> = sh.m_rows.iter().map(|&m| vec![0.0; m * m]).collect();
        let (l0, w0) = (rows.loc_off[js.start], rows.w_off[js.start]);
        let mut q = Vec::new();
        // the relaxed point α(Av + c) + (1 − α)w of one sample's rows
        let mut ts = Vec::new();
        let alpha = self.alpha;
        for j in js {
            let v = &mut vl[rows.loc_off[j] - l0..rows.loc_off[j + 1] - l0];
            self.finish_local(j, vg, v, &mut q);
            let span = rows.w_off[j]..rows.w_off[j + 1];
            let base = span.start - w0;
            ts.clear();
            for o in span.clone() {
                let r = o - w0;
                let a = rows.c[o] + rows.dot(o, vg, v);
                if record {
                    av[r] = a;
                    wp[r] = w[r];
                }
                ts.push(alpha * a + (1.0 - alpha) * w[r]);
            }
            // product columns: w = t + u, thresholded (and u updated) in pass 3
            for (k, (&ms, &m)) in sh.m_start.iter().zip(&sh.m_rows).enumerate() {
                let r = base + ms..base + ms + m;
                for (wi, (ti, ui)) in w[r.clone()]
                    .iter_mut()
                    .zip(ts[ms..ms + m].iter().zip(&u[r.clone()]))
                {
                    *wi = ti + ui;
                }
                add_outer(&mut grams[k], &w[r]);
            }
            // the blocks' pairs
            for (b, &layer) in sh.blk_layer.iter().enumerate() {
                let (s0, r0) = (sh.blk_start + 2 * b, base + sh.blk_start + 2 * b);
                let z = [ts[s0] + u[r0], ts[s0 + 1] + u[r0 + 1]];
                let out = shrink_pair(z, self.tau[rows.k_layers + layer]);
                w[r0..r0 + 2].copy_from_slice(&out);
                for i in 0..2 {
                    u[r0 + i] += ts[s0 + i] - out[i];
                }
            }
            // copies
            for (s, &t) in ts.iter().enumerate().skip(sh.nonneg_start) {
                let r = base + s;
                let z = t + u[r];
                w[r] = if s < sh.nonpos_start {
                    z.max(0.0)
                } else {
                    z.min(0.0)
                };
                u[r] += t - w[r];
            }
        }
        grams
    }

    /// Pass 3: the thresholded product columns and their dual update. `w` holds `z = t + u` from
    /// pass 2; `w ← P z` and `u ← u + t − w = z − w`.
    pub(super) fn pass_product(
        &self,
        js: Range<usize>,
        projectors: &[Matrix],
        w: &mut [f64],
        u: &mut [f64],
    ) {
        let rows = self.rows;
        let sh = &rows.shape;
        let w0 = rows.w_off[js.start];
        let mut tmp = vec![0.0; sh.m_rows.iter().copied().max().unwrap_or(0)];
        for j in js {
            let base = rows.w_off[j] - w0;
            for (k, (&ms, &m)) in sh.m_start.iter().zip(&sh.m_rows).enumerate() {
                threshold_column(&projectors[k], base + ms..base + ms + m, w, u, &mut tmp);
            }
        }
    }

    /// `AᵀR x` for the rows of sample j: adds the weight part to `g` and writes the local part
    /// into `local`.
    pub(super) fn at_r(
        &self,
        j: usize,
        x: impl Fn(usize) -> f64,
        g: &mut [f64],
        local: &mut Vec<f64>,
    ) {
        let rows = self.rows;
        let ng = rows.ng;
        local.clear();
        local.resize(rows.loc_off[j + 1] - rows.loc_off[j], 0.0);
        for o in rows.w_off[j]..rows.w_off[j + 1] {
            let xo = self.rho[rows.group_of(o)] * x(o);
            if xo == 0.0 {
                continue;
            }
            let (idx, val) = rows.terms(o);
            for (&i, &a) in idx.iter().zip(val) {
                let i = i as usize;
                if i < ng {
                    g[i] += a * xo;
                } else {
                    local[i - ng] += a * xo;
                }
            }
        }
    }

    /// `AᵀR x` for the rows of sample j, split by group into `out`; `local` is scratch. (The
    /// loop repeats [`Solver::at_r`]'s: one term walker with a closure for both made the
    /// v-update 5–10 % slower at N = 100 000, median 5.8 s against 5.25 s for one step.)
    pub(super) fn at_r_grouped(
        &self,
        j: usize,
        x: impl Fn(usize) -> f64,
        out: &mut GroupedAtR,
        local: &mut Vec<f64>,
    ) {
        let rows = self.rows;
        let ng = rows.ng;
        let nloc = rows.loc_off[j + 1] - rows.loc_off[j];
        local.clear();
        local.resize(rows.n_groups() * nloc, 0.0);
        for o in rows.w_off[j]..rows.w_off[j + 1] {
            let g = rows.group_of(o);
            let xo = self.rho[g] * x(o);
            if xo == 0.0 {
                continue;
            }
            let (idx, val) = rows.terms(o);
            for (&i, &a) in idx.iter().zip(val) {
                let i = i as usize;
                if i < ng {
                    out.weights[g * ng + i] += a * xo;
                } else {
                    local[g * nloc + i - ng] += a * xo;
                }
            }
        }
        if nloc == 0 {
            return;
        }
        for (g, part) in local.chunks(nloc).enumerate() {
            out.local_share[g] += norm(part).powi(2);
        }
        out.local_total += (0..nloc)
            .map(|i| local.iter().skip(i).step_by(nloc).sum::<f64>().powi(2))
            .sum::<f64>();
    }

    /// The sums behind the stopping test and residual balancing.
    pub(super) fn check(&self, w: &[f64], u: &[f64], av: &[f64], wp: &[f64]) -> Check {
        let rows = self.rows;
        let (ngr, ng) = (rows.n_groups(), rows.ng);
        let add_row = |c: &mut Check, o: usize| {
            let gsum = &mut c.groups[rows.group_of(o)];
            gsum[0] += (av[o] - w[o]).powi(2);
            gsum[1] += av[o] * av[o];
            gsum[2] += w[o] * w[o];
        };
        let parts = par_map(rows.chunks(), self.threads, |js| {
            let mut c = Check::new(ngr, ng);
            let mut scratch = Vec::new();
            for j in js {
                for o in rows.w_off[j]..rows.w_off[j + 1] {
                    add_row(&mut c, o);
                }
                self.at_r_grouped(j, |o| w[o] - wp[o], &mut c.dual, &mut scratch);
                self.at_r_grouped(j, |o| u[o], &mut c.aty, &mut scratch);
            }
            c
        });
        let mut total = Check::new(ngr, ng);
        for p in &parts {
            total.add(p);
        }
        for o in rows.w_off[rows.n]..rows.n_w() {
            add_row(&mut total, o);
            let g = rows.group_of(o);
            let r = self.rho[g];
            let (idx, val) = rows.terms(o);
            for (&i, &a) in idx.iter().zip(val) {
                total.dual.weights[g * ng + i as usize] += a * r * (w[o] - wp[o]);
                total.aty.weights[g * ng + i as usize] += a * r * u[o];
            }
        }
        total
    }
}
