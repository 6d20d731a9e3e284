//! The convex program of docs/convex.md §3 as an operator: groups `u_j` (one per pattern for the
//! gated model; a `v` and a `w` per pattern for the ReLU model), the prediction
//! `p = Σ_j s_j D_{i(j)} X̃ u_j`, the loss `(1/N) Σ_i ℓ(p_i, y_i)` ([`Loss`]), the group penalty
//! `β Σ_j ‖u_j‖`, and
//! (ReLU model) the cone constraints `(2D_{i(j)} − I) X̃ u_j ≥ 0`.
//!
//! One evaluation is two small-inner-dimension GEMMs per block of samples, `Z = X̃_b U` and
//! `X̃_bᵀ R`, with the pattern masks applied in between; `D_i X̃` is never formed. Blocks run on
//! all cores; each block's partial gradient is summed in block order, so the result does not
//! depend on the number of threads.

use super::lifted::Lifted;
use super::loss::Loss;
use super::patterns::Patterns;
use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

/// Samples per block: the block's `Z` (block × groups) stays in cache-sized pieces and the
/// per-block partial gradients stay few.
pub const BLOCK: usize = 512;

/// Below this many multiply-adds per evaluation (N · groups · d̃) one thread does it all: spawning
/// costs more than it saves.
pub const PARALLEL_WORK: usize = 1 << 18;

/// One block's share of an evaluation: its figures, partial gradient and scaled residual.
type BlockResult = (Eval, Vec<f64>, Vec<f64>);

/// One variable block: which pattern gates it and the sign of its output weight.
#[derive(Clone, Copy, Debug)]
pub struct Group {
    pub pattern: usize,
    pub sign: f64,
}

/// The gated model or the ReLU (cone-constrained) model over a set of patterns.
pub struct Program<'a> {
    pub data: &'a Lifted,
    /// The targets as the loss takes them (labels ±1 for the classification losses).
    pub y: &'a [f64],
    /// The loss of every sample, averaged over them.
    pub loss: Loss,
    /// Per-sample weights `w_i` of the loss, `w_i ℓ(p_i, y_i)`: the samples' weights of a
    /// weighted classification fit ([`super::fit_weighted`]), or the quadratic model of a smooth
    /// loss ([`Program::quadratic_model`]). The working sets' Gram-matrix path and the gated
    /// solvers take none (the squared loss is weighted by scaling rows instead).
    pub weights: Option<&'a [f64]>,
    pub patterns: &'a Patterns,
    pub groups: Vec<Group>,
    /// The ReLU model: the cone constraints hold.
    pub constrained: bool,
    pub beta: f64,
}

/// The augmented-Lagrangian term of the constraints: multipliers `μ` (one per sample and group,
/// laid out as [`Program::multiplier_len`] says) and penalty `ρ`. With `ρ = 0` the term is the
/// plain Lagrangian `−μᵀKU` (the gradient then certifies given multipliers).
pub struct Augmented<'m> {
    pub mu: &'m [f64],
    pub rho: f64,
}

/// What one evaluation at `U` gives besides the gradient.
#[derive(Clone, Debug, Default)]
pub struct Eval {
    /// `(1/N) Σ ℓ(p_i, y_i)` with the gated prediction `p = Σ s_j D X̃ u_j`.
    pub loss: f64,
    /// The augmented-Lagrangian term `(ρ/2)‖(μ/ρ − K U)₊‖² − ‖μ‖²/(2ρ)` (0 without one).
    pub augmented: f64,
    /// The scaled residual `r_i = ℓ'(p_i, y_i)/N` (for the squared loss `(p − y)/N`): the loss's
    /// gradient in `p`, the dual certificate's point.
    pub residual: Vec<f64>,
    /// The gated prediction `p`.
    pub prediction: Vec<f64>,
    /// `(1/N) Σ ℓ(Σ_j s_j (x̃_iᵀu_j)₊, y_i)`: the loss of the ReLU network read off `U` (ReLU
    /// model).
    pub network_loss: f64,
    /// The largest constraint violation `(−(2D−I)X̃u_j)_n₊ / (‖x̃_n‖ max_j ‖u_j‖)`, relative to
    /// the largest group (ReLU model).
    pub violation: f64,
}

impl<'a> Program<'a> {
    pub fn new(
        data: &'a Lifted,
        y: &'a [f64],
        loss: Loss,
        patterns: &'a Patterns,
        constrained: bool,
        beta: f64,
    ) -> Self {
        let signs: &[f64] = if constrained { &[1.0, -1.0] } else { &[1.0] };
        let groups = signs
            .iter()
            .flat_map(|&sign| (0..patterns.len()).map(move |pattern| Group { pattern, sign }))
            .collect();
        Self {
            data,
            y,
            loss,
            weights: None,
            patterns,
            groups,
            constrained,
            beta,
        }
    }

    /// The same program on the groups `keep` (indices into `self.groups`) only.
    pub fn subset(&self, keep: &[usize]) -> Program<'a> {
        Program {
            data: self.data,
            y: self.y,
            loss: self.loss,
            weights: self.weights,
            patterns: self.patterns,
            groups: keep.iter().map(|&j| self.groups[j]).collect(),
            constrained: self.constrained,
            beta: self.beta,
        }
    }

    /// The same program with the weighted squared loss `½ w_i (p_i − z_i)²` (a smooth loss's
    /// quadratic model at some point, [`super::newton`]).
    pub fn quadratic_model<'b>(&self, z: &'b [f64], w: &'b [f64]) -> Program<'b>
    where
        'a: 'b,
    {
        Program {
            data: self.data,
            y: z,
            loss: Loss::Squared,
            weights: Some(w),
            patterns: self.patterns,
            groups: self.groups.clone(),
            constrained: self.constrained,
            beta: self.beta,
        }
    }

    /// `w_i ℓ(p, y_i)` and `w_i ℓ'(p, y_i)`.
    fn sample_loss(&self, i: usize, p: f64) -> (f64, f64) {
        let (y, w) = (self.y[i], self.weights.map_or(1.0, |w| w[i]));
        (w * self.loss.value(p, y), w * self.loss.derivative(p, y))
    }

    pub fn n(&self) -> usize {
        self.data.n()
    }

    pub fn dim(&self) -> usize {
        self.data.dim()
    }

    pub fn n_groups(&self) -> usize {
        self.groups.len()
    }

    /// Length of `U` (d̃ × groups, column-major: group j is `U[j d̃ .. (j + 1) d̃]`).
    pub fn n_vars(&self) -> usize {
        self.dim() * self.n_groups()
    }

    /// Length of the multipliers: one per sample and group, block by block (block b holds its
    /// samples × groups, column-major).
    pub fn multiplier_len(&self) -> usize {
        self.n() * self.n_groups()
    }

    /// `β Σ_j ‖u_j‖`.
    pub fn penalty(&self, u: &[f64]) -> f64 {
        self.beta * group_norms(u, self.dim()).iter().sum::<f64>()
    }

    /// Loss, gradient of loss (+ augmented term) into `grad`, and the figures of [`Eval`]. With
    /// `next`, the updated multipliers `(μ − ρ K U)₊` are written there.
    pub fn eval(
        &self,
        u: &[f64],
        aug: Option<&Augmented>,
        grad: &mut [f64],
        next: Option<&mut [f64]>,
    ) -> Eval {
        let (n, dim, g) = (self.n(), self.dim(), self.n_groups());
        let norms = group_norms(u, dim);
        let top = norms.iter().copied().fold(0.0, f64::max);
        let blocks: Vec<std::ops::Range<usize>> = (0..n)
            .step_by(BLOCK)
            .map(|s| s..(s + BLOCK).min(n))
            .collect();
        // each block's slice of the multipliers' next values
        let mut next_slices: Vec<Option<&mut [f64]>> = match next {
            Some(buf) => {
                let mut out = Vec::with_capacity(blocks.len());
                let mut rest = buf;
                for b in &blocks {
                    let (head, tail) = rest.split_at_mut(b.len() * g);
                    out.push(Some(head));
                    rest = tail;
                }
                out
            }
            None => blocks.iter().map(|_| None).collect(),
        };
        type NextSlice<'s> = Option<&'s mut [f64]>;
        let threads = if n * g * dim < PARALLEL_WORK {
            1
        } else {
            crate::linalg::threads::available().min(blocks.len())
        };
        let mut results: Vec<Option<BlockResult>> = (0..blocks.len()).map(|_| None).collect();
        if threads <= 1 {
            for (b, range) in blocks.iter().enumerate() {
                results[b] = Some(self.block(range.clone(), u, top, aug, next_slices[b].take()));
            }
        } else {
            let mut work: Vec<Vec<(usize, NextSlice)>> = (0..threads).map(|_| Vec::new()).collect();
            for (b, s) in next_slices.into_iter().enumerate() {
                work[b % threads].push((b, s));
            }
            let done: Vec<Vec<(usize, BlockResult)>> = std::thread::scope(|scope| {
                let handles: Vec<_> = work
                    .into_iter()
                    .map(|items| {
                        let blocks = &blocks;
                        scope.spawn(move || {
                            items
                                .into_iter()
                                .map(|(b, s)| (b, self.block(blocks[b].clone(), u, top, aug, s)))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("a block evaluation panicked"))
                    .collect()
            });
            for (b, r) in done.into_iter().flatten() {
                results[b] = Some(r);
            }
        }
        grad.iter_mut().for_each(|v| *v = 0.0);
        let mut total = Eval {
            residual: Vec::with_capacity(n),
            prediction: Vec::with_capacity(n),
            ..Default::default()
        };
        for r in results {
            let (e, partial, r_block) = r.expect("every block evaluated");
            total.residual.extend_from_slice(&r_block);
            total.prediction.extend_from_slice(&e.prediction);
            grad.iter_mut().zip(&partial).for_each(|(a, b)| *a += b);
            total.loss += e.loss;
            total.augmented += e.augmented;
            total.network_loss += e.network_loss;
            total.violation = total.violation.max(e.violation);
        }
        total
    }

    /// One block of samples: its share of every figure and its partial gradient.
    fn block(
        &self,
        range: std::ops::Range<usize>,
        u: &[f64],
        top: f64,
        aug: Option<&Augmented>,
        mut next: Option<&mut [f64]>,
    ) -> BlockResult {
        let (dim, g) = (self.dim(), self.n_groups());
        let len = range.len();
        let nf = self.n() as f64;
        let xs = MatRef::from_column_major_slice(self.data.rows(range.clone()), dim, len);
        let uu = MatRef::from_column_major_slice(u, dim, g);
        let mut z = vec![0.0; len * g];
        matmul(
            MatMut::from_column_major_slice_mut(&mut z, len, g),
            Accum::Replace,
            xs.transpose(),
            uu,
            1.0,
            Par::Seq,
        );
        let mut p = vec![0.0; len];
        let mut p_net = vec![0.0; len];
        let mut e = Eval::default();
        for (j, grp) in self.groups.iter().enumerate() {
            let mask = &self.patterns.masks[grp.pattern];
            let col = &z[j * len..(j + 1) * len];
            mask.masked_add(range.start, grp.sign, col, &mut p);
            if self.constrained {
                for (k, &zk) in col.iter().enumerate() {
                    p_net[k] += grp.sign * zk.max(0.0);
                    let s = if mask.on(range.start + k) { zk } else { -zk };
                    if s < 0.0 && top > 0.0 {
                        let v = -s / (self.data.row_norm(range.start + k) * top);
                        e.violation = e.violation.max(v);
                    }
                }
            }
        }
        let mut r = vec![0.0; len];
        for k in 0..len {
            let (value, derivative) = self.sample_loss(range.start + k, p[k]);
            e.loss += value / nf;
            r[k] = derivative / nf;
            if self.constrained {
                e.network_loss += self.sample_loss(range.start + k, p_net[k]).0 / nf;
            }
        }
        e.prediction = p;
        // Z becomes R: ∂/∂Z of the loss (and of the augmented term)
        for (j, grp) in self.groups.iter().enumerate() {
            let mask = &self.patterns.masks[grp.pattern];
            let col = &mut z[j * len..(j + 1) * len];
            if aug.is_none() {
                mask.masked_copy(range.start, grp.sign, &r, col);
                continue;
            }
            for (k, zk) in col.iter_mut().enumerate() {
                let on = mask.on(range.start + k);
                let mut d = if on { grp.sign * r[k] } else { 0.0 };
                if let Some(a) = aug {
                    let s = if on { 1.0 } else { -1.0 };
                    let mu = a.mu[range.start * g + j * len + k];
                    let m = (mu - a.rho * s * *zk).max(0.0);
                    if a.rho > 0.0 {
                        e.augmented += (m * m - mu * mu) / (2.0 * a.rho);
                    }
                    d -= s * m;
                    if let Some(nx) = next.as_deref_mut() {
                        nx[j * len + k] = m;
                    }
                }
                *zk = d;
            }
        }
        let mut partial = vec![0.0; dim * g];
        matmul(
            MatMut::from_column_major_slice_mut(&mut partial, dim, g),
            Accum::Replace,
            xs,
            MatRef::from_column_major_slice(&z, len, g),
            1.0,
            Par::Seq,
        );
        (e, partial, r)
    }

    /// The gradient the dual certificate needs for a given scaled residual `r` and multipliers
    /// `μ` (ReLU model): group j gets `X̃ᵀ(s_j D_j r − (2D_j − I) μ_j)`.
    pub fn adjoint(&self, r: &[f64], mu: Option<&[f64]>, grad: &mut [f64]) {
        let (n, dim, g) = (self.n(), self.dim(), self.n_groups());
        grad.iter_mut().for_each(|v| *v = 0.0);
        let mut rc = Vec::new();
        let mut partial = vec![0.0; dim * g];
        for start in (0..n).step_by(BLOCK) {
            let len = BLOCK.min(n - start);
            rc.clear();
            rc.resize(len * g, 0.0);
            for (j, grp) in self.groups.iter().enumerate() {
                let mask = &self.patterns.masks[grp.pattern];
                for k in 0..len {
                    let on = mask.on(start + k);
                    let mut d = if on { grp.sign * r[start + k] } else { 0.0 };
                    if let Some(m) = mu {
                        let s = if on { 1.0 } else { -1.0 };
                        d -= s * m[start * g + j * len + k].max(0.0);
                    }
                    rc[j * len + k] = d;
                }
            }
            matmul(
                MatMut::from_column_major_slice_mut(&mut partial, dim, g),
                Accum::Replace,
                MatRef::from_column_major_slice(self.data.rows(start..start + len), dim, len),
                MatRef::from_column_major_slice(&rc, len, g),
                1.0,
                Par::Seq,
            );
            grad.iter_mut().zip(&partial).for_each(|(a, b)| *a += b);
        }
    }

    /// The ReLU network's loss and largest violation at `U` (an evaluation without gradient use).
    pub fn network_loss(&self, u: &[f64]) -> f64 {
        let mut grad = vec![0.0; u.len()];
        let e = self.eval(u, None, &mut grad, None);
        if self.constrained {
            e.network_loss
        } else {
            e.loss
        }
    }
}

/// Copies the multipliers of the groups `keep` from the layout of `g_full` groups (`full`) to
/// that of `keep.len()` groups (`sub`), or back when `to_sub` is false.
pub fn move_multipliers(
    n: usize,
    g_full: usize,
    keep: &[usize],
    full: &mut [f64],
    sub: &mut [f64],
    to_sub: bool,
) {
    let gs = keep.len();
    for start in (0..n).step_by(BLOCK) {
        let len = BLOCK.min(n - start);
        for (w, &j) in keep.iter().enumerate() {
            let f = start * g_full + j * len;
            let s = start * gs + w * len;
            if to_sub {
                sub[s..s + len].copy_from_slice(&full[f..f + len]);
            } else {
                full[f..f + len].copy_from_slice(&sub[s..s + len]);
            }
        }
    }
}

/// `‖u_j‖` for every group of `U` (d̃ × groups).
pub fn group_norms(u: &[f64], dim: usize) -> Vec<f64> {
    u.chunks_exact(dim).map(crate::linalg::norm).collect()
}

/// The non-zero groups of `u` (groups of `dim` entries).
pub fn nonzero_groups(u: &[f64], dim: usize) -> usize {
    u.chunks_exact(dim)
        .filter(|c| c.iter().map(|v| v * v).sum::<f64>() > 0.0)
        .count()
}
