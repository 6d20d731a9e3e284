//! The operator rows of the splitting `w = A v + c`: generated once per subproblem from
//! [`Layout`]'s affine expressions (the same ones the interior-point backend reads), sample by
//! sample on several threads, and stored compactly: each row's terms, its constant and its
//! penalty group.

use super::super::formulation::{Affine, Layout, ScrProblem};
use super::super::Params;
use crate::error::{Error, Result};
use crate::linalg::threads::par_map;
use std::ops::Range;

/// Samples per chunk of a parallel pass. Fixed, so that the summation order — and so the result —
/// does not depend on the number of threads.
pub(super) const CHUNK: usize = 2048;

/// Where the rows of one sample sit, relative to the sample's first row. The same for every
/// sample except the number of trailing `Z ≤ 0` copies.
#[derive(Clone, Debug)]
pub(super) struct SampleShape {
    /// Start of `M_k`'s data column (m_k rows each).
    pub(super) m_start: Vec<usize>,
    /// Rows of each `M_k` (n_{k+2} + n_{k+1}).
    pub(super) m_rows: Vec<usize>,
    /// Start of the 2×2 blocks (two rows each, `a − 1` and `b + c`), and the layer of each block.
    pub(super) blk_start: usize,
    pub(super) blk_layer: Vec<usize>,
    /// Start of the `≥ 0` copies (H_k and S_k); they end where the `≤ 0` copies begin.
    pub(super) nonneg_start: usize,
    pub(super) nonpos_start: usize,
}

/// The rows of `w = A v + c` for one subproblem, stored compactly.
pub(super) struct Rows {
    /// Number of weights (the global variables, first in `v`).
    pub(super) ng: usize,
    pub(super) n: usize,
    pub(super) k_layers: usize,
    pub(super) shape: SampleShape,
    /// Sample j's rows are `w_off[j]..w_off[j + 1]`; the global rows (the last columns of every
    /// `M_k`) follow `w_off[n]`.
    pub(super) w_off: Vec<usize>,
    /// Sample j's variables are `loc_off[j]..loc_off[j + 1]` of the local part of `v`.
    pub(super) loc_off: Vec<usize>,
    /// Start of `M_k`'s global columns (n_{k+1} columns of m_k rows).
    pub(super) glob_start: Vec<usize>,
    pub(super) c: Vec<f64>,
    /// Penalty group of each row: `M_k` → k, layer k's blocks → K + k, copies → 2K.
    pub(super) group: Vec<u8>,
    pub(super) t_start: Vec<usize>,
    /// Term index: `< ng` a weight, otherwise `ng +` a slot of the row's sample.
    pub(super) t_idx: Vec<u32>,
    pub(super) t_val: Vec<f64>,
}

/// The rows of some samples (or of the weights alone), built separately and then appended.
#[derive(Default)]
pub(super) struct RowsPart {
    pub(super) w_off: Vec<usize>,
    pub(super) c: Vec<f64>,
    pub(super) group: Vec<u8>,
    /// End of each row's terms (relative to this part).
    pub(super) t_end: Vec<usize>,
    pub(super) t_idx: Vec<u32>,
    pub(super) t_val: Vec<f64>,
}

impl RowsPart {
    /// Appends the row `e` (terms merged by variable, zeros dropped; a sample's variables as
    /// `ng + slot`, with `base` the sample's first variable).
    pub(super) fn push(
        &mut self,
        e: &Affine,
        group: usize,
        ng: usize,
        base: usize,
        merged: &mut Vec<(usize, f64)>,
    ) -> Result<()> {
        merged.clear();
        merged.extend(e.terms.iter().filter(|t| t.1 != 0.0).copied());
        merged.sort_by_key(|t| t.0);
        merged.dedup_by(|b, a| {
            let same = a.0 == b.0;
            if same {
                a.1 += b.1;
            }
            same
        });
        for &(var, val) in merged.iter().filter(|t| t.1 != 0.0) {
            let idx = if var < ng { var } else { ng + var - base };
            self.t_idx.push(u32::try_from(idx).map_err(|_| {
                Error::InvalidArgument("problem too large for the ADMM backend".into())
            })?);
            self.t_val.push(val);
        }
        self.t_end.push(self.t_idx.len());
        self.c.push(e.constant);
        self.group.push(group as u8);
        Ok(())
    }

    /// The rows of sample j, in the order of [`SampleShape`].
    pub(super) fn sample(
        &mut self,
        p: &ScrProblem,
        lay: &Layout,
        par: &Params,
        j: usize,
        merged: &mut Vec<(usize, f64)>,
    ) -> Result<()> {
        let (ng, kl) = (lay.n_weights, lay.n_hidden_layers());
        let copies = 2 * kl;
        let base = lay.sample_range(j).start;
        for k in 0..kl {
            for e in lay.product_column(p, par, k, j) {
                self.push(&e, k, ng, base, merged)?;
            }
        }
        for k in 0..kl {
            for i in 0..p.hidden_width(k) {
                for e in block_pair(lay.complementarity_block(p, par, k, i, j)) {
                    self.push(&e, kl + k, ng, base, merged)?;
                }
            }
        }
        for k in 0..kl {
            for i in 0..p.hidden_width(k) {
                self.push(&Affine::var(lay.h(k, i, j), 1.0), copies, ng, base, merged)?;
                self.push(&lay.slack_expr(p, k, i, j), copies, ng, base, merged)?;
            }
        }
        for var in lay.output_vars_of(j) {
            self.push(&Affine::var(var, 1.0), copies, ng, base, merged)?;
        }
        Ok(())
    }
}

/// The pair `(a − 1, b + c)` of a complementarity block `m = [[a, b], [c, 1]]` whose nuclear norm
/// the subproblem weighs.
///
/// `‖m‖_* = max(‖(a + 1, c − b)‖, ‖(a − 1, b + c)‖)` (docs/scr.md §3.3), and the squares of the
/// two norms differ by `4 det m = −4 h s` (the block's `a − bc` is `−hs`), so wherever `h ≥ 0` and
/// `s ≥ 0` — on the whole feasible set — the second norm is the larger and `‖m‖_*` equals it. The
/// subproblem with the pair's Euclidean norm in place of `‖m‖_*` therefore has the same optimum,
/// and its prox is a smooth shrink instead of a thresholding with a kink along `hs = 0`: from
/// random parameters the optimal pairs sit on that kink, and with the 2×2 thresholding the first
/// SCR step of the 3-3-2 teacher (N = 10 000) took 2 260 ADMM iterations; with the pair and the
/// old penalties, 590 (perturbed start 840 → 550, zero start 110 either way); with the pair and
/// the penalties of [`AdmmBackend::rho`], 140 (perturbed 150).
pub(super) fn block_pair([a, b, c]: [Affine; 3]) -> [Affine; 2] {
    let mut lower = a;
    lower.constant -= 1.0;
    [lower, Affine::combine(&b, &c, 1.0)]
}

impl Rows {
    pub(super) fn build(
        p: &ScrProblem,
        lay: &Layout,
        par: &Params,
        threads: usize,
    ) -> Result<Self> {
        let (n, kl, ng) = (lay.n, lay.n_hidden_layers(), lay.n_weights);
        if kl >= 100 {
            return Err(Error::InvalidArgument(format!(
                "{kl} hidden layers: the ADMM backend handles at most 99"
            )));
        }
        let m_rows: Vec<usize> = (0..kl).map(|k| p.widths[k + 1] + p.widths[k + 2]).collect();
        let mut m_start = Vec::new();
        let mut next = 0;
        for &m in &m_rows {
            m_start.push(next);
            next += m;
        }
        let blk_start = next;
        let blk_layer: Vec<usize> = (0..kl)
            .flat_map(|k| std::iter::repeat_n(k, p.hidden_width(k)))
            .collect();
        let nonneg_start = blk_start + 2 * blk_layer.len();
        let nonpos_start = nonneg_start + 2 * blk_layer.len();
        let shape = SampleShape {
            m_start,
            m_rows: m_rows.clone(),
            blk_start,
            blk_layer,
            nonneg_start,
            nonpos_start,
        };
        let mut rows = Rows {
            ng,
            n,
            k_layers: kl,
            shape,
            w_off: Vec::with_capacity(n + 1),
            loc_off: Vec::with_capacity(n + 1),
            glob_start: Vec::new(),
            c: Vec::new(),
            group: Vec::new(),
            t_start: vec![0],
            t_idx: Vec::new(),
            t_val: Vec::new(),
        };
        let parts = par_map(rows.chunks(), threads, |js| -> Result<RowsPart> {
            let mut part = RowsPart::default();
            let mut merged = Vec::new();
            for j in js {
                part.w_off.push(part.c.len());
                part.sample(p, lay, par, j, &mut merged)?;
            }
            Ok(part)
        });
        for part in parts {
            let part = part?;
            let (r0, t0) = (rows.c.len(), rows.t_idx.len());
            rows.w_off.extend(part.w_off.iter().map(|o| o + r0));
            rows.c.extend_from_slice(&part.c);
            rows.group.extend_from_slice(&part.group);
            rows.t_start.extend(part.t_end.iter().map(|e| e + t0));
            rows.t_idx.extend_from_slice(&part.t_idx);
            rows.t_val.extend_from_slice(&part.t_val);
        }
        rows.loc_off
            .extend((0..n).map(|j| lay.sample_range(j).start - ng));
        rows.w_off.push(rows.c.len());
        rows.loc_off.push(lay.n_core - ng);
        let mut part = RowsPart::default();
        let mut merged = Vec::new();
        for k in 0..kl {
            rows.glob_start.push(rows.c.len() + part.c.len());
            for l in 0..p.hidden_width(k) {
                for e in lay.product_column(p, par, k, n + l) {
                    part.push(&e, k, ng, 0, &mut merged)?;
                }
            }
        }
        let t0 = rows.t_idx.len();
        rows.c.extend_from_slice(&part.c);
        rows.group.extend_from_slice(&part.group);
        rows.t_start.extend(part.t_end.iter().map(|e| e + t0));
        rows.t_idx.extend_from_slice(&part.t_idx);
        rows.t_val.extend_from_slice(&part.t_val);
        Ok(rows)
    }

    pub(super) fn n_w(&self) -> usize {
        self.c.len()
    }

    pub(super) fn n_groups(&self) -> usize {
        2 * self.k_layers + 1
    }

    /// The penalty group of row `o`.
    pub(super) fn group_of(&self, o: usize) -> usize {
        self.group[o] as usize
    }

    pub(super) fn terms(&self, o: usize) -> (&[u32], &[f64]) {
        let r = self.t_start[o]..self.t_start[o + 1];
        (&self.t_idx[r.clone()], &self.t_val[r])
    }

    /// `(A v)_o` without the constant.
    pub(super) fn dot(&self, o: usize, vg: &[f64], vl: &[f64]) -> f64 {
        let (idx, val) = self.terms(o);
        let ng = self.ng as u32;
        idx.iter()
            .zip(val)
            .map(|(&i, &a)| {
                a * if i < ng {
                    vg[i as usize]
                } else {
                    vl[(i - ng) as usize]
                }
            })
            .sum()
    }

    pub(super) fn chunks(&self) -> Vec<Range<usize>> {
        (0..self.n)
            .step_by(CHUNK)
            .map(|s| s..(s + CHUNK).min(self.n))
            .collect()
    }
}
