//! The gated model restricted to a working set, in Gram form, by Newton's method on its
//! support (docs/convex.md §5). With one group per pattern and no cone constraints, the
//! restricted program is a group lasso in the Gram matrix's coordinates:
//!
//! ```text
//! min F(d) = ½dᵀGd − cᵀd + ‖y‖²/(2N) + β Σ_b ‖d_b‖      (one block d_b per pattern)
//! ```
//!
//! On the support `S = {b : d_b ≠ 0}` the penalty is smooth, with Hessian
//! `β (I − d̂_b d̂_bᵀ)/‖d_b‖` per block, so Newton's method on `S` converges quadratically;
//! blocks off the support join by exact block minimisation, and blocks whose step passes their
//! origin leave (the step is retaken from zero without them). Each step is one dense Cholesky factorisation of side `|S| d̃`, where Clarabel's
//! interior point on the same program takes 20–30 factorisations of a larger KKT system and
//! cannot start from the previous round's point. Measured on the bench's N = 10⁴, d = 20,
//! 200-pattern gated case (all 200 groups in the optimum, side 4 200): full Newton steps from a
//! ridge start reached a relative gap of 1e-13 in 4 steps. Block coordinate descent alone is no
//! substitute there: 200 epochs left the gap at 0.85 (the masked columns of neighbouring
//! patterns are strongly correlated).
//!
//! The certificate is the dual point of the residual, scaled into the dual constraints
//! `‖A_bᵀθ‖ ≤ β`, written with `G` and `c` only: with `ρ² = ‖Ad − y‖²/N = ‖y‖²/N − 2cᵀd + dᵀGd`
//! and `s = min(1, β / max_b ‖(Gd − c)_b‖)`, the dual value is `−s²ρ²/2 + s(‖y‖²/N − cᵀd)`.
//! It is the full program's certificate on the set's groups, so a gap here is comparable with
//! the working-set solver's.

use super::gram::Gram;
use crate::linalg::cholesky;
use crate::linalg::{dot, norm};
use crate::train::{Budget, Stop};
use faer::{Mat, Side};

/// Newton steps at most per solve; measured, 3–6 from a warm start.
const MAX_STEPS: usize = 20;

/// Halvings of the step before the line search gives up.
const MAX_HALVINGS: usize = 40;

/// The Levenberg–Marquardt damping's range, relative to the Newton system's mean diagonal.
const MIN_DAMPING: f64 = 1e-12;
const MAX_DAMPING: f64 = 1.0;

/// Cut steps in a row after which the solve is left to the caller's fallback: the support's
/// columns are then nearly dependent (nearly equal patterns share their weight in many ways, so
/// the optimum is degenerate) and the steps crawl. Measured with every pattern of a 2-D teacher
/// enumerated (N = 100, up to 3 144 columns): the steps were cut round after round and 50 of
/// them took 12.7 s without closing the gap; on the bench's sampled cases (N = 10⁴, d = 20,
/// 200 patterns; N = 1 000, d = 2 and 10) no round gave up.
const MAX_CUT_STEPS: usize = 5;

/// Armijo's sufficient-decrease fraction.
const ARMIJO: f64 = 1e-4;

/// How a solve ended.
#[derive(Debug, PartialEq)]
pub enum Ended {
    /// The relative gap reached the tolerance.
    Converged,
    /// No step decreased the objective, or the steps ran out, before the tolerance: the
    /// program needs a more robust solver (the caller's fallback).
    Stalled,
    /// The budget ran out or the run was interrupted.
    Stopped(Stop),
}

/// The point reached (block by block in the Gram matrix's order), its relative gap, and how
/// the solve ended.
pub struct Solve {
    pub d: Vec<f64>,
    pub rel_gap: f64,
    pub ended: Ended,
}

/// The Newton steps of a solve: at most `max_steps`, each first asking the budget; the relative
/// gap reached; and the Levenberg–Marquardt damping (relative to the system's mean diagonal),
/// which starts at the least, grows 100× after a step the line search cut and shrinks 10× after
/// a full step, so that well-conditioned supports get pure Newton steps. Where the support has
/// more columns than samples the first steps are cut to 1e-2–1e-3 of their length until the
/// damping reaches 1e-4–1e-2: growing 10× per cut, the logistic loss's quadratic models on a d =
/// 40 teacher (N = 500, 60 gates, gated) gave up after five cut steps twice and went to Clarabel
/// (8.0 s for the run); 100× took them there in four or five steps (4.7 s). The enumerated 2-D
/// teacher (N = 100, 9 901 patterns, gated, working sets) took 148.8 s and 147.2 s. `max_cut` cut steps in a
/// row give up ([`MAX_CUT_STEPS`] for the direct solve).
pub(crate) struct NewtonSteps<'a> {
    budget: &'a Budget,
    left: usize,
    max_cut: usize,
    pub damping: f64,
    cut_in_a_row: usize,
    pub rel_gap: f64,
}

impl<'a> NewtonSteps<'a> {
    pub fn new(max_steps: usize, max_cut: usize, budget: &'a Budget) -> Self {
        Self {
            budget,
            left: max_steps,
            max_cut,
            damping: MIN_DAMPING,
            cut_in_a_row: 0,
            rel_gap: f64::INFINITY,
        }
    }

    /// Before a step: how the solve ends if it cannot take one (the budget ran out, or the
    /// steps).
    pub fn next(&mut self) -> Option<Ended> {
        if self.left == 0 {
            return Some(Ended::Stalled);
        }
        self.left -= 1;
        self.budget.exhausted().map(Ended::Stopped)
    }

    /// After the gap was measured: how the solve ends here, if it does (converged at the
    /// tolerance `tol`, or stalled with its steps cut too often in a row).
    pub fn ended(&self, tol: f64) -> Option<Ended> {
        if self.rel_gap <= tol {
            Some(Ended::Converged)
        } else if self.cut_in_a_row >= self.max_cut {
            Some(Ended::Stalled)
        } else {
            None
        }
    }

    /// After a line search took the fraction `a` of the Newton step: a cut step means the model
    /// was trusted too far.
    pub fn after_step(&mut self, a: f64) {
        if a < 1.0 {
            self.damping = (self.damping * 100.0).min(MAX_DAMPING);
            self.cut_in_a_row += 1;
        } else {
            self.damping = (self.damping * 0.1).max(MIN_DAMPING);
            self.cut_in_a_row = 0;
        }
    }

    /// After a step that decreased the objective without a line search's cut.
    pub fn after_jump(&mut self) {
        self.cut_in_a_row = 0;
    }
}

/// The blocks (of `dim` entries) of `d` that are not zero.
pub(crate) fn support(d: &[f64], dim: usize) -> Vec<usize> {
    (0..d.len() / dim)
        .filter(|&b| norm(&d[b * dim..(b + 1) * dim]) > 0.0)
        .collect()
}

/// Solves the group lasso of `gram` (blocks of `dim`, one per pattern) with penalty `beta` from
/// `warm` to relative gap `tol`.
pub fn solve(gram: &Gram, dim: usize, beta: f64, warm: &[f64], tol: f64, budget: &Budget) -> Solve {
    let side = gram.c.len();
    debug_assert_eq!(warm.len(), side);
    let blocks = side / dim;
    let mut d = warm.to_vec();
    // q = G d, kept up to date with every change of d
    let mut q = vec![0.0; side];
    for b in 0..blocks {
        add_block_column(gram, dim, b, &d[b * dim..(b + 1) * dim], &mut q);
    }
    let eigen: Vec<BlockEigen> = (0..blocks).map(|b| BlockEigen::of(gram, dim, b)).collect();
    let mut steps = NewtonSteps::new(MAX_STEPS, MAX_CUT_STEPS, budget);
    let ended = loop {
        if let Some(ended) = steps.next() {
            break ended;
        }
        // blocks off the support whose dual constraint fails join by exact minimisation
        for b in 0..blocks {
            if norm(&d[b * dim..(b + 1) * dim]) == 0.0
                && block_gradient_norm(gram, &q, b, dim) > beta
            {
                minimise_block(gram, &eigen[b], dim, b, beta, &mut d, &mut q);
            }
        }
        steps.rel_gap = relative_gap(gram, dim, beta, &d, &q);
        if let Some(ended) = steps.ended(tol) {
            break ended;
        }
        let support = support(&d, dim);
        let Some(dir) = Direction::newton(gram, dim, beta, support, &d, &q, &mut steps.damping)
        else {
            break Ended::Stalled;
        };
        // blocks whose step passes their origin (dᵀ(d + Δ) ≤ 0) head for the kink, which
        // the Newton model, smooth through zero, overshoots: first try the step without
        // them, from zero. Cutting the whole step short instead made the steps halve round
        // after round (the seeded 12-pattern group lasso of the tests: 5 cut steps, gap 0.15).
        let leaving = dir.line.leaving(&d);
        if !leaving.is_empty()
            && without(
                gram,
                dim,
                beta,
                &dir,
                &leaving,
                &mut d,
                &mut q,
                &mut steps.damping,
            )
        {
            steps.after_jump();
            continue;
        }
        let Some(a) = dir.line.search(&d, 0.0) else {
            break Ended::Stalled;
        };
        dir.apply(a, &mut d, &mut q);
        steps.after_step(a);
    };
    Solve {
        d,
        rel_gap: steps.rel_gap,
        ended,
    }
}

/// Takes the `leaving` blocks of `dir`'s support to zero and a Newton step on the rest from
/// there, if together they decrease F (with Armijo's margin on the second step); returns whether
/// they were taken.
#[allow(clippy::too_many_arguments)]
fn without(
    gram: &Gram,
    dim: usize,
    beta: f64,
    dir: &Direction,
    leaving: &[usize],
    d: &mut [f64],
    q: &mut [f64],
    damping: &mut f64,
) -> bool {
    let mut d2 = d.to_vec();
    let mut q2 = q.to_vec();
    // F(d − e) − F(d) = −eᵀ(Gd − c) + ½eᵀGe − β Σ‖e_b‖ for e = the leaving blocks
    let mut jump = 0.0;
    for &b in leaving {
        let e: Vec<f64> = d[b * dim..(b + 1) * dim].to_vec();
        let ge_before: Vec<f64> = q2[b * dim..(b + 1) * dim].to_vec();
        let minus: Vec<f64> = e.iter().map(|v| -v).collect();
        add_block_column(gram, dim, b, &minus, &mut q2);
        d2[b * dim..(b + 1) * dim].iter_mut().for_each(|v| *v = 0.0);
        // with the blocks removed one by one, −eᵀ(q_now − c) + ½eᵀG_bb e sums to the whole jump
        let grad: f64 = (0..dim)
            .map(|c| e[c] * (ge_before[c] - gram.c[b * dim + c]))
            .sum();
        let own: f64 = (0..dim)
            .map(|i| {
                e[i] * (0..dim)
                    .map(|j| gram.g[(b * dim + i, b * dim + j)] * e[j])
                    .sum::<f64>()
            })
            .sum();
        jump += -grad + 0.5 * own - beta * norm(&e);
    }
    let rest = dir.line.staying(leaving);
    let taken = if rest.is_empty() {
        jump < 0.0
    } else {
        match Direction::newton(gram, dim, beta, rest, &d2, &q2, damping) {
            Some(dir2) => match dir2.line.search(&d2, jump) {
                Some(a) => {
                    dir2.apply(a, &mut d2, &mut q2);
                    true
                }
                None => false,
            },
            None => false,
        }
    };
    if taken {
        d.copy_from_slice(&d2);
        q.copy_from_slice(&q2);
    }
    taken
}

/// A step `Δ` on a support and what the line search along it needs: the slope of F along Δ and
/// the curvature `ΔᵀGΔ` (shared with [`super::gated_cg`], which has no `G`).
pub struct Line {
    pub support: Vec<usize>,
    pub dim: usize,
    pub beta: f64,
    /// Δ, support block by support block
    pub step: Vec<f64>,
    /// `(Gd − c)ᵀΔ` on the support (the smooth part's slope)
    pub smooth_slope: f64,
    /// the smooth slope plus the penalty's (`β Σ d̂_bᵀΔ_b`, `β‖Δ_b‖` on blocks at zero)
    pub slope: f64,
    pub curvature: f64,
}

impl Line {
    /// The support's blocks whose whole step passes their origin: `d_bᵀ(d_b + Δ_b) ≤ 0`.
    pub fn leaving(&self, d: &[f64]) -> Vec<usize> {
        let dim = self.dim;
        self.support
            .iter()
            .enumerate()
            .filter(|&(s, &b)| {
                let db = &d[b * dim..(b + 1) * dim];
                dot(db, db) + dot(db, &self.step[s * dim..(s + 1) * dim]) <= 0.0
            })
            .map(|(_, &b)| b)
            .collect()
    }

    /// The support without the `leaving` blocks.
    pub fn staying(&self, leaving: &[usize]) -> Vec<usize> {
        let support = self.support.iter().copied();
        support.filter(|b| !leaving.contains(b)).collect()
    }

    /// `F(d + aΔ) − F(d)`, written so that nothing large cancels: the penalty's change per block
    /// is `(‖d_b + aΔ_b‖² − ‖d_b‖²)/(‖d_b + aΔ_b‖ + ‖d_b‖)`.
    pub fn change(&self, d: &[f64], a: f64) -> f64 {
        let dim = self.dim;
        let penalty: f64 = self
            .support
            .iter()
            .enumerate()
            .map(|(s, &b)| {
                let (db, sb) = (
                    &d[b * dim..(b + 1) * dim],
                    &self.step[s * dim..(s + 1) * dim],
                );
                let before = norm(db);
                let after = db
                    .iter()
                    .zip(sb)
                    .map(|(x, y)| (x + a * y).powi(2))
                    .sum::<f64>()
                    .sqrt();
                if after + before == 0.0 {
                    return 0.0;
                }
                (2.0 * a * dot(db, sb) + a * a * dot(sb, sb)) / (after + before)
            })
            .sum();
        a * self.smooth_slope + 0.5 * a * a * self.curvature + self.beta * penalty
    }

    /// The longest step `a = 2⁻ᵏ` with `offset + change(a) ≤ ARMIJO · a · slope`.
    pub fn search(&self, d: &[f64], offset: f64) -> Option<f64> {
        let mut a = 1.0;
        for _ in 0..MAX_HALVINGS {
            if offset + self.change(d, a) <= ARMIJO * a * self.slope {
                return Some(a);
            }
            a *= 0.5;
        }
        None
    }

    /// `d += aΔ` on the support.
    pub fn apply(&self, a: f64, d: &mut [f64]) {
        let dim = self.dim;
        for (s, &b) in self.support.iter().enumerate() {
            d[b * dim..(b + 1) * dim]
                .iter_mut()
                .zip(&self.step[s * dim..(s + 1) * dim])
                .for_each(|(x, y)| *x += a * y);
        }
    }
}

/// A Newton direction on a support with `r = GΔ` (every block), to keep `q = Gd` current.
struct Direction {
    line: Line,
    r: Vec<f64>,
}

impl Direction {
    fn newton(
        gram: &Gram,
        dim: usize,
        beta: f64,
        support: Vec<usize>,
        d: &[f64],
        q: &[f64],
        damping: &mut f64,
    ) -> Option<Self> {
        if support.is_empty() {
            return None;
        }
        let step = newton_system(gram, dim, beta, &support, d, q, damping)?;
        let mut r = vec![0.0; gram.c.len()];
        let (mut smooth_slope, mut penalty_slope, mut curvature) = (0.0, 0.0, 0.0);
        for (s, &b) in support.iter().enumerate() {
            add_block_column(gram, dim, b, &step[s * dim..(s + 1) * dim], &mut r);
        }
        for (s, &b) in support.iter().enumerate() {
            let (db, sb) = (&d[b * dim..(b + 1) * dim], &step[s * dim..(s + 1) * dim]);
            smooth_slope += (0..dim)
                .map(|c| (q[b * dim + c] - gram.c[b * dim + c]) * sb[c])
                .sum::<f64>();
            penalty_slope += beta * dot(db, sb) / norm(db);
            curvature += dot(sb, &r[b * dim..(b + 1) * dim]);
        }
        let slope = smooth_slope + penalty_slope;
        (slope < 0.0 && slope.is_finite()).then_some(Self {
            line: Line {
                support,
                dim,
                beta,
                step,
                smooth_slope,
                slope,
                curvature,
            },
            r,
        })
    }

    fn apply(&self, a: f64, d: &mut [f64], q: &mut [f64]) {
        self.line.apply(a, d);
        q.iter_mut().zip(&self.r).for_each(|(x, y)| *x += a * y);
    }
}

/// Solves the Newton system on the support: `(H + λI) Δ = −∇F` with `H = G_SS + β
/// blockdiag((I − d̂d̂ᵀ)/‖d_b‖)` and `λ = damping` times the mean diagonal. `H` is singular along
/// directions that `G` does not see and the penalty sees only linearly (a block's radius), where
/// the undamped step is unbounded; the damping is raised while the factorisation fails.
fn newton_system(
    gram: &Gram,
    dim: usize,
    beta: f64,
    support: &[usize],
    d: &[f64],
    q: &[f64],
    damping: &mut f64,
) -> Option<Vec<f64>> {
    let m = support.len() * dim;
    let mut h = Mat::<f64>::from_fn(m, m, |i, j| {
        gram.g[(
            support[i / dim] * dim + i % dim,
            support[j / dim] * dim + j % dim,
        )]
    });
    let mut rhs = vec![0.0; m];
    for (s, &b) in support.iter().enumerate() {
        let db = &d[b * dim..(b + 1) * dim];
        let nb = norm(db);
        for i in 0..dim {
            rhs[s * dim + i] = -(q[b * dim + i] - gram.c[b * dim + i] + beta * db[i] / nb);
            for j in 0..dim {
                let identity = if i == j { 1.0 } else { 0.0 };
                h[(s * dim + i, s * dim + j)] += beta * (identity - db[i] * db[j] / (nb * nb)) / nb;
            }
        }
    }
    let threads = crate::linalg::threads::available();
    let diagonal: Vec<f64> = (0..m).map(|i| h[(i, i)]).collect();
    let mean_diagonal = diagonal.iter().sum::<f64>() / m as f64;
    if !mean_diagonal.is_finite() || mean_diagonal <= 0.0 {
        return None;
    }
    loop {
        for (i, &hi) in diagonal.iter().enumerate() {
            h[(i, i)] = hi + *damping * mean_diagonal;
        }
        let mut factor = h.clone();
        if cholesky::factor_in_place(factor.as_mut(), threads) {
            let step = cholesky::solve(factor.as_ref(), &rhs);
            return step.iter().all(|v| v.is_finite()).then_some(step);
        }
        if *damping >= MAX_DAMPING {
            return None;
        }
        *damping = (*damping * 100.0).min(MAX_DAMPING);
    }
}

/// `out += G[:, block b] x` (x of length `dim`).
fn add_block_column(gram: &Gram, dim: usize, b: usize, x: &[f64], out: &mut [f64]) {
    for (c, &xc) in x.iter().enumerate() {
        if xc == 0.0 {
            continue;
        }
        let col = gram.g.col(b * dim + c);
        out.iter_mut()
            .zip(col.iter())
            .for_each(|(o, g)| *o += xc * g);
    }
}

/// `‖(Gd − c)_b‖`.
fn block_gradient_norm(gram: &Gram, q: &[f64], b: usize, dim: usize) -> f64 {
    (0..dim)
        .map(|c| (q[b * dim + c] - gram.c[b * dim + c]).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// The relative duality gap at `d` (with `q = Gd`), as in the module's documentation:
///
/// ```text
/// P − D = ½dᵀq − cᵀd + ½yy + β Σ‖d_b‖ + ½s²(yy − 2cᵀd + dᵀq) − s(yy − cᵀd)
///       = ½(1 + s²) dᵀ(q − c) + ½(1 − s)² (yy − cᵀd) + β Σ‖d_b‖,
/// ```
///
/// the second form without the large terms `yy` and `cᵀd` that cancel when the fit is good.
fn relative_gap(gram: &Gram, dim: usize, beta: f64, d: &[f64], q: &[f64]) -> f64 {
    let blocks = d.len() / dim;
    let worst = (0..blocks)
        .map(|b| block_gradient_norm(gram, q, b, dim))
        .fold(0.0, f64::max);
    let d_grad: f64 = d
        .iter()
        .zip(q.iter().zip(&gram.c))
        .map(|(x, (a, b))| x * (a - b))
        .sum();
    let penalty = beta
        * (0..blocks)
            .map(|b| norm(&d[b * dim..(b + 1) * dim]))
            .sum::<f64>();
    let cd = dot(&gram.c, d);
    GapTerms {
        d_grad,
        yy_minus_cd: gram.yy - cd,
        penalty,
        worst_gradient: worst,
    }
    .relative(beta)
}

/// What the duality gap of the squared loss's group lasso needs, each computable without
/// cancellation whether from `G` (here) or from the data ([`super::gated_cg`]): `dᵀ(Gd − c)`
/// (`= pᵀ(p − y)/N` with the prediction `p`), `‖y‖²/N − cᵀd` (`= yᵀ(y − p)/N`), `β Σ‖d_b‖` and
/// `max_b ‖(Gd − c)_b‖`.
pub struct GapTerms {
    pub d_grad: f64,
    pub yy_minus_cd: f64,
    pub penalty: f64,
    pub worst_gradient: f64,
}

impl GapTerms {
    /// The relative gap `(P − D)/P` of [`relative_gap`]'s formula.
    pub fn relative(&self, beta: f64) -> f64 {
        let s = if self.worst_gradient > beta {
            beta / self.worst_gradient
        } else {
            1.0
        };
        // P = ½dᵀGd − cᵀd + ½yy + β Σ‖d_b‖ = ½dᵀ(Gd − c) + ½(yy − cᵀd) + β Σ‖d_b‖
        let primal = 0.5 * self.d_grad + 0.5 * self.yy_minus_cd + self.penalty;
        let gap = 0.5 * (1.0 + s * s) * self.d_grad
            + 0.5 * (1.0 - s).powi(2) * self.yy_minus_cd
            + self.penalty;
        if primal <= 0.0 {
            return 0.0;
        }
        gap.max(0.0) / primal
    }
}

/// The eigendecomposition of a diagonal block `G_bb = V Λ Vᵀ`, for exact block minimisation.
pub struct BlockEigen {
    values: Vec<f64>,
    vectors: Mat<f64>,
}

impl BlockEigen {
    fn of(gram: &Gram, dim: usize, b: usize) -> Self {
        Self::of_block(Mat::<f64>::from_fn(dim, dim, |i, j| {
            gram.g[(b * dim + i, b * dim + j)]
        }))
    }

    pub fn of_block(block: Mat<f64>) -> Self {
        match block.self_adjoint_eigen(Side::Lower) {
            Ok(e) => Self {
                values: (0..block.nrows()).map(|i| e.S()[i].max(0.0)).collect(),
                vectors: e.U().to_owned(),
            },
            // a failed decomposition leaves the block at zero (see `block_minimiser`)
            Err(_) => Self {
                values: Vec::new(),
                vectors: Mat::zeros(0, 0),
            },
        }
    }
}

/// Sets block `b` of `d` to its exact minimiser with the other blocks fixed, updating `q`:
/// [`block_minimiser`] of `v = c_b − (Gd)_b + G_bb d_b`.
fn minimise_block(
    gram: &Gram,
    eigen: &BlockEigen,
    dim: usize,
    b: usize,
    beta: f64,
    d: &mut [f64],
    q: &mut [f64],
) {
    let old: Vec<f64> = d[b * dim..(b + 1) * dim].to_vec();
    let mut v: Vec<f64> = (0..dim)
        .map(|c| gram.c[b * dim + c] - q[b * dim + c])
        .collect();
    for (i, vi) in v.iter_mut().enumerate() {
        *vi += (0..dim)
            .map(|j| gram.g[(b * dim + i, b * dim + j)] * old[j])
            .sum::<f64>();
    }
    let new = block_minimiser(eigen, &v, beta);
    let change: Vec<f64> = new.iter().zip(&old).map(|(a, b)| a - b).collect();
    add_block_column(gram, dim, b, &change, q);
    d[b * dim..(b + 1) * dim].copy_from_slice(&new);
}

/// The minimiser of `½xᵀG_bb x − vᵀx + β‖x‖` (`G_bb` given by its eigendecomposition): zero
/// when `‖v‖ ≤ β`, else `(G_bb + μI)⁻¹ v` where `μ > 0` solves `μ ‖(Λ + μ)⁻¹ Vᵀv‖ = β`
/// (increasing in μ, to ‖v‖ > β), found by bisection.
pub fn block_minimiser(eigen: &BlockEigen, v: &[f64], beta: f64) -> Vec<f64> {
    let dim = v.len();
    let mut new = vec![0.0; dim];
    if norm(v) > beta && !eigen.values.is_empty() {
        let rotated: Vec<f64> = (0..dim)
            .map(|k| (0..dim).map(|i| eigen.vectors[(i, k)] * v[i]).sum())
            .collect();
        let h = |mu: f64| -> f64 {
            rotated
                .iter()
                .zip(&eigen.values)
                .map(|(r, l)| (mu * r / (l + mu)).powi(2))
                .sum::<f64>()
                .sqrt()
        };
        let (mut lo, mut hi) = (0.0, 1.0);
        while h(hi) < beta && hi < 1e300 {
            lo = hi;
            hi *= 2.0;
        }
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if mid <= lo || mid >= hi {
                break;
            }
            if h(mid) < beta {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let mu = 0.5 * (lo + hi);
        for (i, x) in new.iter_mut().enumerate() {
            *x = (0..dim)
                .map(|k| eigen.vectors[(i, k)] * rotated[k] / (eigen.values[k] + mu))
                .sum();
        }
    }
    new
}

/// A seeded group lasso whose optimum has blocks at zero and blocks not (N = 400, d = 3, 12
/// sampled patterns; use β = 5e-3): the data, the targets and the patterns.
#[cfg(test)]
pub(crate) fn seeded_group_lasso() -> (
    crate::convex::Lifted,
    Vec<f64>,
    crate::convex::patterns::Patterns,
) {
    use rand::{Rng, SeedableRng};
    let (d, n) = (3, 400);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let mut next = || rng.random::<f64>() - 0.5;
    let x = crate::linalg::Matrix::from_fn(d, n, |_, _| next());
    let y: Vec<f64> = (0..n)
        .map(|i| (x.get(0, i) + 0.5 * x.get(1, i)).max(0.0) - x.get(2, i) + 0.1 * next())
        .collect();
    let data = crate::convex::Lifted::new(&x);
    let pats = crate::convex::patterns::sample(&data, 12, 5).unwrap();
    (data, y, pats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convex::{Loss, Program};
    use crate::train::Limits;

    /// On a seeded group lasso with some blocks at zero and some not, the solve converges and its
    /// point satisfies the optimality conditions, checked by the test's own arithmetic:
    /// `(Gd − c)_b + β d_b/‖d_b‖ = 0` on the support and `‖(Gd − c)_b‖ ≤ β` off it. Its gap
    /// equals the one computed from the data (`A`, `y`) rather than from `G`, `c` and `‖y‖²/N`.
    #[test]
    fn the_solution_satisfies_the_optimality_conditions() {
        let (data, y, pats) = seeded_group_lasso();
        let n = data.n();
        let beta = 5e-3;
        let prog = Program::new(&data, &y, Loss::Squared, &pats, false, beta);
        let budget = Budget::start(&Limits::none());
        let mut gram = Gram::empty();
        let order: Vec<usize> = (0..pats.len()).collect();
        assert!(gram.extend(&prog, &order, &budget));
        let dim = prog.dim();
        let side = order.len() * dim;
        let solved = solve(&gram, dim, beta, &vec![0.0; side], 1e-12, &budget);
        assert_eq!(solved.ended, Ended::Converged, "gap {}", solved.rel_gap);
        let dd = &solved.d;
        let q: Vec<f64> = (0..side)
            .map(|i| (0..side).map(|j| gram.g[(i, j)] * dd[j]).sum())
            .collect();
        let (mut zeros, mut nonzeros) = (0, 0);
        for b in 0..order.len() {
            let db = &dd[b * dim..(b + 1) * dim];
            let grad: Vec<f64> = (0..dim)
                .map(|c| q[b * dim + c] - gram.c[b * dim + c])
                .collect();
            let nb = norm(db);
            if nb == 0.0 {
                zeros += 1;
                assert!(norm(&grad) <= beta * (1.0 + 1e-9), "block {b}");
            } else {
                nonzeros += 1;
                let residual: Vec<f64> = (0..dim).map(|c| grad[c] + beta * db[c] / nb).collect();
                assert!(
                    norm(&residual) <= 1e-6 * beta,
                    "block {b}: {}",
                    norm(&residual)
                );
            }
        }
        assert!(
            zeros > 0 && nonzeros > 0,
            "{zeros} zero and {nonzeros} non-zero blocks"
        );
        // the gap from the data: prediction A d, residual, scaled dual point
        let pred: Vec<f64> = (0..n)
            .map(|i| {
                (0..order.len())
                    .filter(|&b| pats.masks[b].on(i))
                    .map(|b| dot(data.row(i), &dd[b * dim..(b + 1) * dim]))
                    .sum()
            })
            .collect();
        let resid: Vec<f64> = (0..n).map(|i| y[i] - pred[i]).collect();
        let nf = n as f64;
        let worst = (0..order.len())
            .map(|b| {
                let v: Vec<f64> = (0..dim)
                    .map(|c| {
                        (0..n)
                            .filter(|&i| pats.masks[b].on(i))
                            .map(|i| data.row(i)[c] * resid[i])
                            .sum::<f64>()
                            / nf
                    })
                    .collect();
                norm(&v)
            })
            .fold(0.0, f64::max);
        let s = if worst > beta { beta / worst } else { 1.0 };
        let penalty: f64 = (0..order.len())
            .map(|b| norm(&dd[b * dim..(b + 1) * dim]))
            .sum();
        let primal = dot(&resid, &resid) / (2.0 * nf) + beta * penalty;
        let theta: Vec<f64> = resid.iter().map(|r| s * r / nf).collect();
        let dual = -0.5 * nf * dot(&theta, &theta) + dot(&y, &theta);
        let want = (primal - dual).max(0.0) / primal;
        let got = relative_gap(&gram, dim, beta, dd, &q);
        assert!(
            (got - want).abs() <= 1e-10,
            "gap {got} from G, {want} from the data"
        );
        // and away from the optimum, where the dual point is scaled (s < 1)
        let half: Vec<f64> = dd.iter().map(|v| 0.5 * v).collect();
        let q_half: Vec<f64> = q.iter().map(|v| 0.5 * v).collect();
        assert!(relative_gap(&gram, dim, beta, &half, &q_half) > 1e-3);
    }
}
