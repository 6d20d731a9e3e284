//! First-order backend, pure Rust: ADMM on subproblem (8) / (8_L).
//!
//! Splitting (docs/admm.md): with `v` the decision variables and
//! `w = A v + c` the stacked affine images — every product matrix `M_k`, the pair
//! `(a − 1, b + c)` of every 2×2 block `m = [[a, b], [c, 1]]`, and copies of `H_k`, `S_k` and the
//! free output entries — the subproblem is `min g(w)` s.t. `w = A v + c`, where `g` is
//! `Σ_k λ_k‖M_k‖_* + μ_k Σ ‖(a − 1, b + c)‖₂` plus the indicators of `H_k ≥ 0`, `S_k ≥ 0`,
//! `Z ≤ 0`. On that feasible set the pair's norm is the block's nuclear norm (see
//! [`block_pair`]), so the optimum is the subproblem's. Scaled ADMM with over-relaxation:
//!
//! - `v ← argmin ‖R^{1/2}(A v + c − w + u)‖²`: the normal matrix `AᵀRA` has a block-arrow
//!   structure — the variables of sample `j` (its activations and free pre-activations) couple only
//!   with each other and with the weights — so each sample's block is eliminated and only a small
//!   dense system in the weights is solved. Factored once per subproblem (and again when a ρ
//!   changes). O(N) per iteration.
//! - `w ← prox_{g/ρ}(A v + c + u)`: singular-value thresholding of each `M_k` through the
//!   eigenvalues of its small Gram matrix, a vector soft threshold for each block's pair, clipping
//!   for the copies.
//! - `u ← u + A v + c − w`; one ρ per term (each `M_k`, each layer's block pairs, the copies),
//!   balanced on its primal residual against its own share of the dual residual `AᵀRΔw`, within a
//!   bounded range; stop on the primal and dual residuals.
//!
//! The rows of `A` are generated once per subproblem from [`Layout`]'s affine expressions (the same
//! ones the interior-point backend uses) and stored compactly, sample by sample. The passes over
//! the samples run on several threads in fixed chunks, so the result does not depend on the thread
//! count.

use super::backend::{SolveStatus, SubSolution, Subproblem, SubproblemSolver};
use super::formulation::{objective_at, Affine, Layout, ScrProblem};
use crate::error::{Error, Result};
use crate::linalg::Matrix;
use crate::train::Budget;
use std::ops::Range;

/// ADMM settings. The defaults aim at violations near 1e-8 on the seed's problem.
#[derive(Clone, Debug)]
pub struct AdmmBackend {
    /// Absolute tolerance on the primal and dual residuals (per √dimension).
    pub eps_abs: f64,
    /// Relative tolerance on the primal and dual residuals.
    pub eps_rel: f64,
    /// Iteration cap of one subproblem.
    pub max_iter: usize,
    /// Initial penalties ρ of the three kinds of block of w: the product matrices (before the
    /// scaling with N of [`product_scale`]), the blocks' pairs, the copies of H, S and Z.
    /// Heuristics, measured on 3-3-2 teachers: with the pairs, the blocks at 0.5 and the copies
    /// at 1 took 140 / 150 / 110 iterations for the random / perturbed / zero first step at
    /// N = 10 000 (blocks at 1: 650 / 550 / 110; copies at 0.3: 140 / 160 / 110), and
    /// 150–200 / 160–300 / 110–120 at N = 30, 300 and 1 000.
    pub rho: [f64; 3],
    /// Over-relaxation α ∈ (0, 2): `A v + c` is replaced by `α (A v + c) + (1 − α) w` in the
    /// w- and u-updates.
    pub alpha: f64,
    /// Worker threads for the passes over the samples (1 = this thread only).
    pub threads: usize,
    /// Inexact SCR: inside an SCR run, while the violations decrease, solve each subproblem only to
    /// `clamp(ADAPTIVE_FACTOR × previous violation, eps, ADAPTIVE_LATER_MAX)` (`eps_abs`, `eps_rel`
    /// are the floor); the first subproblem of a run to `ADAPTIVE_MAX`, and any after a step without
    /// progress `STALL_TIGHTEN` times tighter than the last. The stopping test of SCR is on the
    /// true violations, so this changes the cost and the path, not what "converged" means. Solves
    /// outside `scr::run` always use the floor.
    pub adaptive: bool,
    /// Print the residuals and penalties at every convergence check (to stderr).
    pub verbose: bool,
    /// The tolerance of the next solve when `adaptive` (set from the violation hint).
    hint_tol: Option<f64>,
    last_violation: Option<f64>,
    /// The last solve's split variables, reused as the next start when the sizes match.
    warm: Option<Warm>,
    /// The running SCR's time limit and interrupt, polled at every convergence check.
    budget: Option<Budget>,
}

#[derive(Clone, Debug)]
struct Warm {
    w: Vec<f64>,
    u: Vec<f64>,
    rho: Vec<f64>,
}

impl Default for AdmmBackend {
    fn default() -> Self {
        Self {
            eps_abs: 1e-9,
            eps_rel: 1e-9,
            max_iter: 20_000,
            rho: [1.0, 0.5, 1.0],
            alpha: 1.6,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get().min(8)),
            adaptive: true,
            verbose: false,
            hint_tol: None,
            last_violation: None,
            warm: None,
            budget: None,
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
/// 120, 200 and 1 150 iterations (10 and 1 000 gave the same counts; measured with the products'
/// ρ starting at 1 and balancing every 10 iterations).
const RHO_RANGE: f64 = 100.0;

/// Residual balancing leaves a group's ρ alone while its primal and dual residuals, each over its
/// tolerance, are within this factor of each other. Each group's dual residual is its own share of
/// `AᵀR(w − w_prev)`; before issue 15's last change it was the proxy `ρ_g‖w_g − w_prev,g‖`, with
/// a band of 10, which left the dual residual deciding the deep perturbed steps. First SCR step,
/// N = 3 000, ADMM iterations at bands (proxy, 10) → (shares, 10) → (shares, 5) → (shares, 2.5),
/// the last three with the guard against trading a converged residual (teacher seed 1):
/// 3-4-4-2 perturbed 660 → 420 → 230 → 200, 3-3-3-2 perturbed 420 → 240 → 190 → 180, 3-3-2
/// perturbed 150 → 150 → 150 → 150, random starts 140–180 → 100–150; zero starts 110–150 → 70–80
/// at every band. At N = 100 000 (3-3-2, perturbed) 180 → 160 → 160 → 220. Whole runs (shares at
/// bands 10 and 2.5 measured without the guard): 50 steps from random parameters at N = 10 000,
/// 6 670 → 3 620 → 3 860 → 4 070 iterations; 30 steps from the perturbed 3-4-4-2 teacher at
/// N = 3 000, 2 780 → 1 680 → 1 180 → 1 510. Seeds 2 and 3 gave the same ordering.
const BALANCE_BAND: f64 = 5.0;

/// How the initial ρ of the products scales with the number of samples N: `min(1, √(30/N))`.
///
/// The dual of `λ‖M‖_*` is a matrix of spectral norm ≤ λ spread over N columns, so its entries
/// shrink like 1/√N while `M`'s do not. A fixed ρ = 0.1 (best at N = 3 000) made the zero-start
/// step of the 3-3-2 teacher take 200 iterations at N = 100 000 (the dual residual dominating
/// throughout); with 1/√N it takes 50 (N = 10 000: 80 → 50, N = 30 000: 120 → 40). Perturbed and
/// random starts at N = 30, 300, 1 000 (40 SCR iterations each) took 73 040 ADMM iterations in
/// total instead of 73 150 (each run within 6 %). (These counts are from the splitting with the
/// whole 2×2 blocks, whose copies' ρ also scaled with 30/N; with the blocks' pairs a fixed ρ = 1
/// for the copies is best at every N measured.)
fn product_scale(n: usize) -> f64 {
    (30.0 / n.max(1) as f64).sqrt().min(1.0)
}

/// Inexact SCR (see [`AdmmBackend::adaptive`]): the tolerance is this fraction of the previous
/// SCR iterate's violation, never looser than `ADAPTIVE_LATER_MAX`; the first subproblem of a run
/// (no violation yet) is solved to `ADAPTIVE_MAX`.
const ADAPTIVE_FACTOR: f64 = 1e-3;
const ADAPTIVE_MAX: f64 = 1e-5;
/// A run that stalls — from random parameters, violations near 0.1 for tens of iterations — solves
/// every step to `min(1e-3 × violation, this)`. The 50-iteration run from random parameters at
/// N = 10 000 (3-3-2 teacher, linear output) took 26 870 ADMM iterations (142 s) with this at
/// 1e-5, 13 280 (81 s) at 3e-5 and 6 670 (46 s) at 1e-4, ending at the same output error
/// (8.70e-2, 8.69e-2, 8.67e-2); the demo's three runs end as before. Runs that converge tighten
/// with their violations and do not reach it.
const ADAPTIVE_LATER_MAX: f64 = 1e-4;
/// After a step without progress (a violation that did not fall) the next solve is this much
/// tighter than the last, until the floor. Two earlier rules stalled the 50-iteration run from
/// random parameters at N = 100 000, whose violation falls by about 1 % per step: "progress" as a
/// fall of at least 1 % with a jump to the floor (1e-9) made step 46 (0.0803 after 0.0809) a
/// solve that had not finished after 5 minutes, and with tightening by 10 the run took more than
/// 10 minutes, most of it in such steps. The demo's zero start, whose violations do not move at
/// all, reaches the floor after four steps and ends as before.
const STALL_TIGHTEN: f64 = 10.0;

/// Residual balancing looks at the penalties every this many iterations (the residuals are
/// checked every 10). Every change refactors the normal matrix (about 0.3 s at N = 100 000); at
/// every 10 iterations the zero-start step at N = 100 000 refactored 10 times (the 2×2 blocks' ρ
/// oscillated), at every 50 three times, in the same 200 iterations; the demo's and N = 1 000's
/// counts hardly changed.
const ADAPT_EVERY: usize = 50;

/// Samples per chunk of a parallel pass. Fixed, so that the summation order — and so the result —
/// does not depend on the number of threads.
const CHUNK: usize = 2048;

/// Where the rows of one sample sit, relative to the sample's first row. The same for every
/// sample except the number of trailing `Z ≤ 0` copies.
#[derive(Clone, Debug)]
struct SampleShape {
    /// Start of `M_k`'s data column (m_k rows each).
    m_start: Vec<usize>,
    /// Rows of each `M_k` (n_{k+2} + n_{k+1}).
    m_rows: Vec<usize>,
    /// Start of the 2×2 blocks (two rows each, `a − 1` and `b + c`), and the layer of each block.
    blk_start: usize,
    blk_layer: Vec<usize>,
    /// Start of the `≥ 0` copies (H_k and S_k); they end where the `≤ 0` copies begin.
    nonneg_start: usize,
    nonpos_start: usize,
}

/// The rows of `w = A v + c` for one subproblem, stored compactly.
struct Rows {
    /// Number of weights (the global variables, first in `v`).
    ng: usize,
    n: usize,
    k_layers: usize,
    shape: SampleShape,
    /// Sample j's rows are `w_off[j]..w_off[j + 1]`; the global rows (the last columns of every
    /// `M_k`) follow `w_off[n]`.
    w_off: Vec<usize>,
    /// Sample j's variables are `loc_off[j]..loc_off[j + 1]` of the local part of `v`.
    loc_off: Vec<usize>,
    /// Start of `M_k`'s global columns (n_{k+1} columns of m_k rows).
    glob_start: Vec<usize>,
    c: Vec<f64>,
    /// Penalty group of each row: `M_k` → k, layer k's blocks → K + k, copies → 2K.
    group: Vec<u8>,
    t_start: Vec<usize>,
    /// Term index: `< ng` a weight, otherwise `ng +` a slot of the row's sample.
    t_idx: Vec<u32>,
    t_val: Vec<f64>,
}

/// The rows of some samples (or of the weights alone), built separately and then appended.
#[derive(Default)]
struct RowsPart {
    w_off: Vec<usize>,
    c: Vec<f64>,
    group: Vec<u8>,
    /// End of each row's terms (relative to this part).
    t_end: Vec<usize>,
    t_idx: Vec<u32>,
    t_val: Vec<f64>,
}

impl RowsPart {
    /// Appends the row `e` (terms merged by variable, zeros dropped; a sample's variables as
    /// `ng + slot`, with `base` the sample's first variable).
    fn push(
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
    fn sample(
        &mut self,
        p: &ScrProblem,
        lay: &Layout,
        par: &super::Params,
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
fn block_pair([a, b, c]: [Affine; 3]) -> [Affine; 2] {
    let mut lower = a;
    lower.constant -= 1.0;
    [lower, Affine::combine(&b, &c, 1.0)]
}

/// The prox of `τ‖·‖₂` on a pair: shrinks it towards zero by `τ`.
fn shrink_pair(z: [f64; 2], tau: f64) -> [f64; 2] {
    let norm = z[0].hypot(z[1]);
    let keep = if norm > tau { 1.0 - tau / norm } else { 0.0 };
    [keep * z[0], keep * z[1]]
}

impl Rows {
    fn build(p: &ScrProblem, lay: &Layout, par: &super::Params, threads: usize) -> Result<Self> {
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

    fn n_w(&self) -> usize {
        self.c.len()
    }

    fn n_groups(&self) -> usize {
        2 * self.k_layers + 1
    }

    /// The penalty group of row `o`.
    fn group_of(&self, o: usize) -> usize {
        self.group[o] as usize
    }

    fn terms(&self, o: usize) -> (&[u32], &[f64]) {
        let r = self.t_start[o]..self.t_start[o + 1];
        (&self.t_idx[r.clone()], &self.t_val[r])
    }

    /// `(A v)_o` without the constant.
    fn dot(&self, o: usize, vg: &[f64], vl: &[f64]) -> f64 {
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

    fn chunks(&self) -> Vec<Range<usize>> {
        (0..self.n)
            .step_by(CHUNK)
            .map(|s| s..(s + CHUNK).min(self.n))
            .collect()
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

/// Runs `f` on every item, on up to `threads` scoped threads; the results come back in item order.
fn par_map<T: Send, R: Send>(items: Vec<T>, threads: usize, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    if threads <= 1 || items.len() <= 1 {
        return items.into_iter().map(f).collect();
    }
    let per = items.len().div_ceil(threads);
    let mut groups: Vec<Vec<T>> = Vec::new();
    let mut it = items.into_iter().peekable();
    while it.peek().is_some() {
        groups.push(it.by_ref().take(per).collect());
    }
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = groups
            .into_iter()
            .map(|g| s.spawn(move || g.into_iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Splits `s` (which starts at index `bounds[0]` of its array) at the given absolute boundaries.
fn split_at_bounds<'a, T>(mut s: &'a mut [T], bounds: &[usize]) -> Vec<&'a mut [T]> {
    let mut out = Vec::with_capacity(bounds.len().saturating_sub(1));
    let mut pos = bounds[0];
    for &b in &bounds[1..] {
        let (head, tail) = std::mem::take(&mut s).split_at_mut(b - pos);
        out.push(head);
        s = tail;
        pos = b;
    }
    out
}

/// Above this many entries per sample, `E_j = D_j⁻¹ B_jᵀ` is not stored and the passes go through
/// the rows instead (8 KB per sample; the 3-3-2 network needs 80 entries, 4-8-8-1 about 3 000).
const DENSE_LIMIT: usize = 1024;

/// The factored normal matrix `AᵀRA`: per-sample local blocks and the Schur complement in the
/// weights.
#[derive(Default)]
struct Normal {
    /// The inverses `D_j⁻¹` of the local blocks, concatenated (n_j² each, row-major).
    dinv: Vec<f64>,
    d_off: Vec<usize>,
    /// `E_j = D_j⁻¹ B_jᵀ` (n_j × ng, row-major) per sample, when small enough (else empty).
    e: Vec<f64>,
    e_off: Vec<usize>,
    /// Cholesky factor of S = K_gg − Σ_j B_j D_j⁻¹ B_jᵀ (ng × ng).
    s: Vec<f64>,
}

impl Normal {
    /// Factors `AᵀRA` with `R` the per-group penalties `rho`; `dense` stores the `E_j`.
    fn factor(rows: &Rows, rho: &[f64], threads: usize, dense: bool) -> Result<Self> {
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
                    chol_solve(&d, nj, &mut col);
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
                    chol_solve(&d, nj, &mut col);
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
    fn local_solve(&self, j: usize, r: &[f64], y: &mut [f64]) {
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
    fn e(&self, j: usize) -> Option<&[f64]> {
        (!self.e.is_empty()).then(|| &self.e[self.e_off[j]..self.e_off[j + 1]])
    }
}

/// `P = U diag((σ − τ)_+/σ) Uᵀ` from the Gram matrix `Q Qᵀ = U diag(σ²) Uᵀ` of an `m × q` matrix
/// `Q`, so that `P Q` is the singular-value soft thresholding of `Q`.
fn svt_projector(gram: &Matrix, tau: f64) -> Result<Matrix> {
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
fn small_matvec(pm: &Matrix, x: &[f64], out: &mut [f64]) {
    for (a, t) in out[..x.len()].iter_mut().enumerate() {
        *t = x.iter().enumerate().map(|(b, xb)| pm.get(a, b) * xb).sum();
    }
}

/// `col ← P col` for a small dense `P`.
fn apply_small(pm: &Matrix, col: &mut [f64], tmp: &mut [f64]) {
    small_matvec(pm, col, tmp);
    col.copy_from_slice(&tmp[..col.len()]);
}

/// One product column after pass 2: `w[r]` holds `z`; sets `w[r] ← P z` and `u[r] ← z − P z`.
fn threshold_column(pm: &Matrix, r: Range<usize>, w: &mut [f64], u: &mut [f64], tmp: &mut [f64]) {
    let m = r.len();
    small_matvec(pm, &w[r.clone()], tmp);
    for (i, &pz) in r.zip(tmp[..m].iter()) {
        u[i] = w[i] - pz;
        w[i] = pz;
    }
}

/// Adds the outer product `c cᵀ` to the (full, column-major) `m × m` array `gram`.
fn add_outer(gram: &mut [f64], c: &[f64]) {
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

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// `AᵀR x` split by the group of the rows it comes from: per group, the weight part and the
/// squared norm of the local part; and the squared norm of the whole local part.
#[derive(Clone)]
struct GroupedAtR {
    ng: usize,
    /// group-major: group g's weight part is `weights[g·ng..(g+1)·ng]`
    weights: Vec<f64>,
    local_share: Vec<f64>,
    local_total: f64,
}

impl GroupedAtR {
    fn new(n_groups: usize, ng: usize) -> Self {
        Self {
            ng,
            weights: vec![0.0; n_groups * ng],
            local_share: vec![0.0; n_groups],
            local_total: 0.0,
        }
    }

    fn add(&mut self, other: &GroupedAtR) {
        for (a, b) in self.weights.iter_mut().zip(&other.weights) {
            *a += b;
        }
        for (a, b) in self.local_share.iter_mut().zip(&other.local_share) {
            *a += b;
        }
        self.local_total += other.local_total;
    }

    /// `‖AᵀR x‖`.
    fn norm(&self) -> f64 {
        let mut sum = vec![0.0; self.ng];
        for part in self.weights.chunks(self.ng.max(1)) {
            for (a, b) in sum.iter_mut().zip(part) {
                *a += b;
            }
        }
        (norm(&sum).powi(2) + self.local_total).sqrt()
    }

    /// `‖A_gᵀR_g x_g‖`: group g's own share.
    fn share(&self, g: usize) -> f64 {
        let part = &self.weights[g * self.ng..(g + 1) * self.ng];
        (norm(part).powi(2) + self.local_share[g]).sqrt()
    }
}

/// Per-group sums gathered on a convergence check.
#[derive(Clone)]
struct Check {
    /// Per group: ‖Av+c − w‖², ‖Av+c‖², ‖w‖².
    groups: Vec<[f64; 3]>,
    /// `AᵀR(w − w_prev)` (the dual residual) and `AᵀRu`.
    dual: GroupedAtR,
    aty: GroupedAtR,
}

impl Check {
    fn new(n_groups: usize, ng: usize) -> Self {
        Self {
            groups: vec![[0.0; 3]; n_groups],
            dual: GroupedAtR::new(n_groups, ng),
            aty: GroupedAtR::new(n_groups, ng),
        }
    }

    fn add(&mut self, other: &Check) {
        for (a, b) in self.groups.iter_mut().zip(&other.groups) {
            for i in 0..3 {
                a[i] += b[i];
            }
        }
        self.dual.add(&other.dual);
        self.aty.add(&other.aty);
    }
}

/// The state of one ADMM solve: rows, penalties, factorisation.
struct Solver<'a> {
    rows: &'a Rows,
    rho: Vec<f64>,
    /// Threshold of each group's prox: λ_k/ρ for `M_k`, μ_k/ρ for layer k's blocks.
    tau: Vec<f64>,
    normal: Normal,
    alpha: f64,
    threads: usize,
}

impl Solver<'_> {
    /// Pass 1 for the samples `js`: `y_j = D_j⁻¹ r_j` into `vl` (r = AᵀR(w − u − c)), and the
    /// weights' right-hand side minus `Σ_j B_j y_j`.
    fn pass_rhs(&self, js: Range<usize>, w: &[f64], u: &[f64], vl: &mut [f64]) -> Vec<f64> {
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
    fn v_update(
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
        chol_solve(&self.normal.s, rows.ng, vg);
    }

    /// Second half of the v-update for sample j: `v_j = y_j − D_j⁻¹ B_jᵀ v_g` (in place).
    fn finish_local(&self, j: usize, vg: &[f64], v: &mut [f64], q: &mut Vec<f64>) {
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
    fn pass_local(
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
    fn pass_product(&self, js: Range<usize>, projectors: &[Matrix], w: &mut [f64], u: &mut [f64]) {
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
    fn at_r(&self, j: usize, x: impl Fn(usize) -> f64, g: &mut [f64], local: &mut Vec<f64>) {
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
    fn at_r_grouped(
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
    fn check(&self, w: &[f64], u: &[f64], av: &[f64], wp: &[f64]) -> Check {
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

impl SubproblemSolver for AdmmBackend {
    fn name(&self) -> &str {
        "admm"
    }

    fn begin_run(&mut self, budget: &Budget) {
        self.budget = Some(budget.clone());
        self.warm = None;
        self.hint_tol = None;
        self.last_violation = None;
    }

    fn set_violation_hint(&mut self, violation: Option<f64>) {
        // Loose solves only while SCR makes progress: a step that stalled (e.g. the zero start at
        // its symmetric point) makes the next solve tighter, down to the floor, which is what lets
        // a stalled run move on.
        let progress = match (violation, self.last_violation) {
            (Some(v), Some(prev)) => v < prev,
            (Some(_), None) => true,
            _ => false,
        };
        self.last_violation = violation;
        self.hint_tol = match violation {
            // the first step of a run: nothing to measure progress by yet
            None => Some(ADAPTIVE_MAX),
            Some(v) if v.is_finite() && progress => {
                Some((ADAPTIVE_FACTOR * v).min(ADAPTIVE_LATER_MAX))
            }
            Some(_) => self.hint_tol.map(|t| t / STALL_TIGHTEN),
        };
    }

    fn solve(&mut self, sub: &Subproblem<'_>) -> Result<SubSolution> {
        let p = sub.problem;
        let (eps_abs, eps_rel) = match (self.adaptive, self.hint_tol) {
            (true, Some(t)) => (t.max(self.eps_abs), t.max(self.eps_rel)),
            _ => (self.eps_abs, self.eps_rel),
        };
        let lay = Layout::new(p);
        let rows = Rows::build(p, &lay, sub.params, self.threads.max(1))?;
        let (n, ng, n_w, kl) = (rows.n, rows.ng, rows.n_w(), rows.k_layers);
        let ngr = rows.n_groups();
        let nl = rows.loc_off[n];
        let threads = self.threads.max(1);
        let max_local = (0..n).map(|j| rows.loc_off[j + 1] - rows.loc_off[j]).max();
        let dense = max_local.unwrap_or(0) * ng <= DENSE_LIMIT;
        // One ρ per group (each M_k, each layer's blocks, the copies), balanced on its own residuals.
        let kind = |g: usize| (g / kl).min(2);
        let mut rho0: Vec<f64> = (0..ngr).map(|g| self.rho[kind(g)]).collect();
        let prod_scale = product_scale(n);
        for (g, r) in rho0.iter_mut().enumerate() {
            if kind(g) == 0 {
                *r *= prod_scale;
            }
        }
        let (mut w, mut u, rho) = match self.warm.take() {
            Some(wm) if wm.w.len() == n_w && wm.rho.len() == ngr => (wm.w, wm.u, wm.rho),
            _ => (rows.c.clone(), vec![0.0; n_w], rho0.clone()),
        };
        let weights: Vec<f64> = sub.lambda.iter().chain(sub.mu).copied().collect();
        let tau_of = |rho: &[f64]| -> Vec<f64> {
            (0..ngr)
                .map(|g| if g < 2 * kl { weights[g] / rho[g] } else { 0.0 })
                .collect()
        };
        let mut solver = Solver {
            rows: &rows,
            tau: tau_of(&rho),
            normal: Normal::factor(&rows, &rho, threads, dense)?,
            rho,
            alpha: self.alpha,
            threads,
        };
        let mut dims = vec![0usize; ngr];
        for o in 0..n_w {
            dims[rows.group_of(o)] += 1;
        }
        let chunks = rows.chunks();
        let mut w_bounds: Vec<usize> = chunks.iter().map(|r| rows.w_off[r.start]).collect();
        w_bounds.push(rows.w_off[n]);
        let mut l_bounds: Vec<usize> = chunks.iter().map(|r| rows.loc_off[r.start]).collect();
        l_bounds.push(nl);
        let (mut vg, mut vl) = (vec![0.0; ng], vec![0.0; nl]);
        // Av + c and the previous w, written on the iterations that test convergence
        let (mut av, mut wp) = (vec![0.0; n_w], vec![0.0; n_w]);
        let (mut r_prim, mut r_dual) = (f64::INFINITY, f64::INFINITY);
        let mut converged = false;
        let mut stopped = None;
        let mut iters = 0;
        let check_every = 10;
        let wn = rows.w_off[n];
        for k in 1..=self.max_iter {
            iters = k;
            let record = k % check_every == 0 || k == self.max_iter;
            // v-update: AᵀRA v = AᵀR(w − u − c), samples eliminated (finished in pass_local)
            solver.v_update(&chunks, &l_bounds, &w, &u, &mut vg, &mut vl);
            // Av + c, relaxation, local proxes; Gram matrices of the product terms
            let mut grams: Vec<Vec<f64>> = rows
                .shape
                .m_rows
                .iter()
                .map(|&m| vec![0.0; m * m])
                .collect();
            {
                let s = &solver;
                let vgr = &vg;
                let (wh, wt) = w.split_at_mut(wn);
                let (uh, ut) = u.split_at_mut(wn);
                let (avh, avt) = av.split_at_mut(wn);
                let (wph, wpt) = wp.split_at_mut(wn);
                let items: Vec<_> = chunks
                    .iter()
                    .cloned()
                    .zip(split_at_bounds(&mut vl[..], &l_bounds))
                    .zip(split_at_bounds(wh, &w_bounds))
                    .zip(split_at_bounds(uh, &w_bounds))
                    .zip(split_at_bounds(avh, &w_bounds))
                    .zip(split_at_bounds(wph, &w_bounds))
                    .collect();
                let parts = par_map(items, threads, |(((((js, vlc), wc), uc), avc), wpc)| {
                    s.pass_local(js, vgr, vlc, wc, uc, avc, wpc, record)
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
                            wt[i] = s.alpha * a + (1.0 - s.alpha) * wt[i] + ut[i];
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
                    svt_projector(&Matrix::from_col_major(m, m, g)?, solver.tau[layer])
                })
                .collect::<Result<Vec<_>>>()?;
            {
                let s = &solver;
                let pr = &projectors;
                let (wh, wt) = w.split_at_mut(wn);
                let (uh, ut) = u.split_at_mut(wn);
                let items: Vec<_> = chunks
                    .iter()
                    .cloned()
                    .zip(split_at_bounds(wh, &w_bounds))
                    .zip(split_at_bounds(uh, &w_bounds))
                    .collect();
                par_map(items, threads, |((js, wc), uc)| {
                    s.pass_product(js, pr, wc, uc)
                });
                let mut tmp = vec![0.0; rows.shape.m_rows.iter().copied().max().unwrap_or(0)];
                for (layer, &m) in rows.shape.m_rows.iter().enumerate() {
                    let start = rows.glob_start[layer] - wn;
                    for col in 0..p.hidden_width(layer) {
                        let r = start + col * m..start + (col + 1) * m;
                        threshold_column(&pr[layer], r, wt, ut, &mut tmp);
                    }
                }
            }
            if !record {
                continue;
            }
            let c = solver.check(&w, &u, &av, &wp);
            r_prim = c.groups.iter().map(|g| g[0]).sum::<f64>().sqrt();
            r_dual = c.dual.norm();
            let aty = c.aty.norm();
            let av_norm = c.groups.iter().map(|g| g[1]).sum::<f64>().sqrt();
            let w_norm = c.groups.iter().map(|g| g[2]).sum::<f64>().sqrt();
            let eps_p = eps_abs * (n_w as f64).sqrt() + eps_rel * av_norm.max(w_norm);
            let eps_d = eps_abs * ((ng + nl) as f64).sqrt() + eps_rel * aty;
            if self.verbose {
                let rho: Vec<String> = solver.rho.iter().map(|r| format!("{r:.2e}")).collect();
                eprintln!(
                    "  admm {k:>6}  primal {r_prim:.3e} (tol {eps_p:.1e})  dual {r_dual:.3e} \
                     (tol {eps_d:.1e})  rho [{}]",
                    rho.join(", ")
                );
            }
            if !r_prim.is_finite() || !r_dual.is_finite() {
                break;
            }
            if r_prim <= eps_p && r_dual <= eps_d {
                converged = true;
                break;
            }
            stopped = self.budget.as_ref().and_then(Budget::exhausted);
            if stopped.is_some() {
                break;
            }
            // residual balancing, group by group, within RHO_RANGE of the start: group g's
            // primal residual against its share of the dual residual, ‖A_gᵀR_g(w_g − w_prev,g)‖
            if k % ADAPT_EVERY != 0 {
                continue;
            }
            let mut changed = false;
            for g in 0..ngr {
                let [prim2, av2, w2] = c.groups[g];
                let rho_g = solver.rho[g];
                let dim = (dims[g] as f64).sqrt();
                // group g's residuals against its own tolerances, both measured in v's space
                let ep = eps_abs * dim + eps_rel * av2.sqrt().max(w2.sqrt());
                let ed = eps_abs * dim + eps_rel * c.aty.share(g);
                let ratio = (prim2.sqrt() / ep) / (c.dual.share(g) / ed).max(1e-300);
                if (1.0 / BALANCE_BAND..=BALANCE_BAND).contains(&ratio) {
                    continue;
                }
                let scale = ratio.sqrt().clamp(0.2, 5.0);
                // never trade a residual that is done for one that is not: the groups' shares of
                // AᵀRu largely cancel in the sum, so a group can look dual-converged on its own
                // tolerance while the whole dual residual is not
                if (scale > 1.0 && r_prim <= eps_p) || (scale < 1.0 && r_dual <= eps_d) {
                    continue;
                }
                let (lo, hi) = (rho0[g] / RHO_RANGE, rho0[g] * RHO_RANGE);
                let scale = (rho_g * scale).clamp(lo, hi) / rho_g;
                if scale == 1.0 {
                    continue;
                }
                solver.rho[g] *= scale;
                for (o, uo) in u.iter_mut().enumerate() {
                    if rows.group_of(o) == g {
                        *uo /= scale;
                    }
                }
                changed = true;
            }
            if changed {
                // free the old factors first: they are most of the memory
                drop(std::mem::take(&mut solver.normal));
                solver.normal = Normal::factor(&rows, &solver.rho, threads, dense)?;
                solver.tau = tau_of(&solver.rho);
            }
        }
        let v: Vec<f64> = vg.iter().chain(&vl).copied().collect();
        let iterate = lay.unpack(p, &v);
        let finite = v.iter().all(|x| x.is_finite());
        let status = if !finite {
            SolveStatus::Failed("ADMM diverged (non-finite iterate)".into())
        } else if let Some(why) = stopped {
            SolveStatus::Stopped(why)
        } else if converged && eps_abs <= self.eps_abs && eps_rel <= self.eps_rel {
            SolveStatus::Solved
        } else {
            // the iteration cap, or converged to inexact SCR's looser tolerance
            SolveStatus::AlmostSolved
        };
        let objective = if finite {
            objective_at(&iterate, p, sub.params, sub.lambda, sub.mu)?
        } else {
            f64::NAN
        };
        if finite {
            self.warm = Some(Warm {
                w,
                u,
                rho: solver.rho,
            });
        }
        Ok(SubSolution {
            iterate,
            objective,
            status,
            solver_iterations: iters as u32,
            residuals: Some((r_prim, r_dual)),
            tolerance: Some(eps_abs.max(eps_rel)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::planted_teacher;
    use crate::net::{Activation, Architecture};
    use crate::scr::Params;

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

    /// On `h, s ≥ 0` the pair's norm equals the block's nuclear norm (an SVD), and below it
    /// elsewhere; `shrink_pair` is the prox of `τ‖·‖₂` (its optimality condition); the Gram route
    /// of `svt_wide` matches an SVD.
    #[test]
    fn block_pair_norm_is_the_nuclear_norm_on_the_orthant() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let nuclear = |m: &Matrix| {
            let svd = faer::Mat::from_fn(2, 2, |i, j| m.get(i, j))
                .thin_svd()
                .unwrap();
            let s = svd.S();
            s[0] + s[1]
        };
        for k in 0..2000 {
            let (x, y) = (rng.random_range(-3.0..3.0), rng.random_range(-3.0..3.0));
            let (mut h, mut s) = (rng.random_range(0.0..2.0), rng.random_range(0.0..2.0));
            match k % 4 {
                0 => h = 0.0,
                1 => s = 0.0,
                2 => (h, s) = (-h, s),
                _ => {}
            }
            let [a, b, c] = [x * y + h * y + x * s, h + x, s + y];
            let m = Matrix::from_rows(&[vec![a, b], vec![c, 1.0]]).unwrap();
            let block = [
                Affine::constant(a),
                Affine::constant(b),
                Affine::constant(c),
            ];
            let [p0, p1] = block_pair(block).map(|e| e.constant);
            let (norm, want) = (p0.hypot(p1), nuclear(&m));
            if h >= 0.0 && s >= 0.0 {
                assert!(
                    (norm - want).abs() <= 1e-12 * want,
                    "h={h} s={s}: {norm} vs {want}"
                );
            } else {
                assert!(norm <= want + 1e-12 * want, "h={h} s={s}: {norm} > {want}");
            }
            // prox optimality: z − out ∈ τ ∂‖out‖
            let tau = [0.1, 1.0, 10.0][k % 3];
            let z = [p0, p1];
            let out = shrink_pair(z, tau);
            let on = out[0].hypot(out[1]);
            let g = [z[0] - out[0], z[1] - out[1]];
            if on > 0.0 {
                for i in 0..2 {
                    assert!((g[i] - tau * out[i] / on).abs() < 1e-12 * (1.0 + tau));
                }
            } else {
                assert!(g[0].hypot(g[1]) <= tau * (1.0 + 1e-12));
            }
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

    fn instance(spec: &str, output: Activation, n: usize) -> (ScrProblem, Params) {
        let arch = Architecture::parse(spec, output).unwrap();
        let t = planted_teacher(&arch, n, 2).unwrap();
        let p = ScrProblem::new(&t.data.x, &t.data.y, &arch).unwrap();
        let par = Params::random(&p, 4);
        (p, par)
    }

    /// The compact rows equal the formulation's affine expressions at a random point, and the
    /// structured v-update solves the weighted normal equations `AᵀRA v = AᵀR(w − c)` like a dense
    /// solve (one and two hidden layers, both outputs, one and three threads).
    #[test]
    fn rows_and_structured_solve_match_dense() {
        for (spec, output, threads, dense) in [
            ("3-4-2", Activation::Relu, 1, true),
            ("3-4-2", Activation::Linear, 1, false),
            ("2-3-3-1", Activation::Relu, 3, true),
            ("2-3-3-1", Activation::Relu, 2, false),
            ("2-3-2-2", Activation::Linear, 1, false),
        ] {
            let (p, par) = instance(spec, output, 9);
            let lay = Layout::new(&p);
            let rows = Rows::build(&p, &lay, &par, threads).unwrap();
            let (ng, nl, n_w) = (rows.ng, rows.loc_off[rows.n], rows.n_w());
            let x_true: Vec<f64> = (0..ng + nl)
                .map(|i| 1.0 + (i as f64 * 0.37).sin())
                .collect();
            let (xg, xl) = x_true.split_at(ng);
            // every row: its compact form equals the affine expression it came from
            let mut exprs: Vec<Affine> = Vec::new();
            for j in 0..p.n_samples() {
                for k in 0..p.n_hidden_layers() {
                    exprs.extend(lay.product_column(&p, &par, k, j));
                }
                for k in 0..p.n_hidden_layers() {
                    for i in 0..p.hidden_width(k) {
                        exprs.extend(block_pair(lay.complementarity_block(&p, &par, k, i, j)));
                    }
                }
                for k in 0..p.n_hidden_layers() {
                    for i in 0..p.hidden_width(k) {
                        exprs.push(Affine::var(lay.h(k, i, j), 1.0));
                        exprs.push(lay.slack_expr(&p, k, i, j));
                    }
                }
                exprs.extend(lay.output_vars_of(j).map(|v| Affine::var(v, 1.0)));
            }
            for k in 0..p.n_hidden_layers() {
                for l in 0..p.hidden_width(k) {
                    exprs.extend(lay.product_column(&p, &par, k, p.n_samples() + l));
                }
            }
            assert_eq!(exprs.len(), n_w);
            let mut aw = vec![0.0; n_w]; // A x_true + c
            for j in 0..=rows.n {
                let span = if j < rows.n {
                    rows.w_off[j]..rows.w_off[j + 1]
                } else {
                    rows.w_off[rows.n]..n_w
                };
                let lv = if j < rows.n {
                    &xl[rows.loc_off[j]..rows.loc_off[j + 1]]
                } else {
                    &[][..]
                };
                for o in span {
                    aw[o] = rows.c[o] + rows.dot(o, xg, lv);
                    let e = exprs[o].eval(&x_true);
                    assert!(
                        (aw[o] - e).abs() < 1e-12,
                        "{spec}: row {o}: {} vs {e}",
                        aw[o]
                    );
                }
            }
            // the structured solve recovers x_true from w = A x_true + c, u = 0
            let rho: Vec<f64> = (0..rows.n_groups()).map(|g| 0.5 + g as f64).collect();
            let solver = Solver {
                rows: &rows,
                tau: vec![0.0; rows.n_groups()],
                normal: Normal::factor(&rows, &rho, threads, dense).unwrap(),
                rho,
                alpha: 1.0,
                threads,
            };
            let chunks = rows.chunks();
            let mut l_bounds: Vec<usize> = chunks.iter().map(|r| rows.loc_off[r.start]).collect();
            l_bounds.push(nl);
            let (mut vg, mut vl) = (vec![0.0; ng], vec![0.0; nl]);
            solver.v_update(&chunks, &l_bounds, &aw, &vec![0.0; n_w], &mut vg, &mut vl);
            let mut q = Vec::new();
            for j in 0..rows.n {
                let v = &mut vl[rows.loc_off[j]..rows.loc_off[j + 1]];
                solver.finish_local(j, &vg, v, &mut q);
            }
            let err = vg
                .iter()
                .chain(&vl)
                .zip(&x_true)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(
                err < 1e-6,
                "{spec} {output}: structured solve error {err:e}"
            );
        }
    }

    /// Chunks: the answer does not depend on the number of threads (fixed chunking).
    #[test]
    fn thread_count_does_not_change_the_answer() {
        let (p, par) = instance("2-3-1", Activation::Relu, 2 * CHUNK + 17);
        let (lambda, mu) = (vec![1.0], vec![1.0]);
        let sub = Subproblem {
            problem: &p,
            params: &par,
            lambda: &lambda,
            mu: &mu,
        };
        let run = |threads| {
            let mut b = AdmmBackend {
                threads,
                max_iter: 30,
                ..Default::default()
            };
            b.solve(&sub).unwrap()
        };
        let (a, b) = (run(1), run(2));
        assert_eq!(a.iterate, b.iterate);
        assert_eq!(a.solver_iterations, b.solver_iterations);
    }
}
