//! The working-set solver (docs/convex.md §5): the optimum has few non-zero groups and, in the
//! ReLU model, few cone constraints that hold with equality, so it solves a sequence of small
//! restricted programs exactly and lets the certificate on the full program say what to add.
//!
//! Each round:
//!
//! 1. certificate on every group and sample at the current point (one pass over the data, two
//!    GEMMs per block, [`Program::eval`]), with the restricted program's multipliers;
//! 2. stop when the relative gap is below the tolerance;
//! 3. groups whose dual constraint `‖∇_j‖ ≤ β` fails join the working set (the most violated
//!    first), and for the ReLU model the violated cone rows of its groups join their group's
//!    rows;
//! 4. the restricted program (the working set's groups, its rows only) is solved: for the
//!    squared loss in Gram form ([`Gram`]), of size (|W| d̃)² whatever N, by Newton's method on
//!    its support for the gated model ([`gated_newton`]) and by Clarabel for the ReLU model (or
//!    when Newton stalls); the ReLU model's goes to Clarabel with the loss as sample rows
//!    instead once the set has more columns than twice the samples ([`Fit`]); for the logistic
//!    loss by Newton steps ([`newton`]) whose quadratic models are weighted squared losses,
//!    solved the same way; for the hinge by Clarabel in sample form ([`ipm::sample_form`]),
//!    with its rows for every sample.
//!
//! A restricted program relaxes the full one on its groups' rows (fewer constraints) and
//! restricts it on groups (fewer variables), so neither its value nor its point is trusted: only
//! the certificate of step 1, computed on the full program, is reported. Sets only grow, so the
//! rounds end.

use super::certificate::{Bound, Kept, Progress, Solved};
use super::clarabel_run::{self, ConvexRows, Rows};
use super::gated_cg;
use super::gated_newton;
use super::gram::Gram;
use super::ipm::{self, ConeRows};
use super::loss::Loss;
use super::newton;
use super::program::{group_norms, Program};
use crate::error::Result;
use crate::train::{Budget, Stop};
use clarabel::algebra::CscMatrix;
use clarabel::solver::SupportedConeT;
use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};
use std::time::Instant;

/// When the working-set solver stops.
#[derive(Clone, Debug)]
pub struct ActiveSetSettings {
    /// Relative duality gap at which the run stops.
    pub tol: f64,
    /// Rounds (restricted solves) at most.
    pub max_rounds: usize,
}

/// Groups in the first working set, and the least number added in a round (at most as many as
/// the set already holds are added, so it at most doubles).
const WS_START: usize = 32;

/// Clarabel's tolerance on a restricted program: a hundredth of the gap asked for, at most
/// `CLARABEL_TOL`, tightened 100× (down to `CLARABEL_TOL_MIN`) whenever a round found nothing to
/// add but the certificate had not closed (or the point left the cones by more than 1e-9): the
/// restricted objective is `½uᵀGu − cᵀu`, without the constant `‖y‖²/(2N)`, so its relative gap
/// is looser than the program's when the fit is good. Measured on the bench's cases with the gap
/// asked at 1e-6: 1e-8 ended at gaps 4e-8–3e-7 in 23 s and 64 s where 1e-10 took 28–32 s and
/// 67–72 s (N = 10⁴ gated, and the d = 10 ReLU case).
const CLARABEL_TOL: f64 = 1e-8;
const CLARABEL_TOL_MIN: f64 = 1e-14;
const CLARABEL_MAX_ITER: u32 = 200;

/// A cone row joins its group when its relative violation (as [`super::program::Eval`] measures
/// it) exceeds this: a tenth of what counts as feasible, so that added rows are the only ones
/// that can keep a point from being feasible.
const ROW_VIOLATION: f64 = super::certificate::FEASIBLE / 10.0;

/// A group gains at most this many times d̃ cone rows per round, its most violated ones. Every
/// violated row at once made the restricted programs large (50 000 of the 94 000 rows on a 2-D
/// teacher, N = 1 000, 47 patterns, 5.8 s); measured on that case and on d = 10, 100 patterns
/// (the ReLU cases of bench/README.md, one run each), 1·d̃ took 0.4 s and 67 s, 2·d̃ 1.2 s and
/// 82 s, 4·d̃ 1.3 s and 93 s.
const ROWS_PER_ROUND: usize = 1;

/// Columns (|W| d̃) beyond which the working set does not grow in Gram form: G then takes
/// 290 MB and one interior-point iteration factors a dense matrix of this side. The gated model
/// with the squared loss goes on without `G` ([`gated_cg`]).
const MAX_COLUMNS: usize = 6000;

/// The work of forming `G` (N · (|W| d̃)² multiply-adds) beyond which the gated model with the
/// squared loss solves its restricted programs without it ([`gated_cg`]). Measured on the
/// bench's gated cases (2 cores, one run each, Gram form → without): breast_cancer, 50
/// patterns (1.4e9 at the last round, more columns than samples, where CG needs many
/// iterations) 1.0 s → 4.6 s; N = 5 000, d = 50, 100 patterns (1.3e11) 19.1 s → 2.8 s;
/// N = 10⁴, d = 20, 200 patterns (1.8e11) 13.5 s → 2.2 s. The threshold sits between them.
const GRAM_WORK: f64 = 1e10;

/// The ReLU model's restricted programs go to Clarabel with the loss as sample rows ([`Fit`])
/// once the set's columns (|S| d̃) exceed this many times the samples. Measured (2 cores, one
/// run each, Clarabel on one thread, Gram → sample rows) against N / columns: breast_cancer
/// with 50 gates (0.37) 33.2 → 17.6 s, 40 gates (0.46) 19.6 → 13.6 s, 30 gates (0.61) 11.0 →
/// 11.4 s; diabetes, 50 gates (0.80) 4.6 → 5.4 s; N = 1 000, d = 10, 100 gates (0.91) 22.8 →
/// 35.8 s; N = 1 000, d = 2, 50 gates (6.7) 0.2 → 1.2 s.
const COLUMNS_PER_SAMPLE: usize = 2;

/// Without `G`, a restricted program is solved to this fraction of the full program's last
/// gap (not below the final tolerance): while groups are still joining, its exact optimum is
/// not the answer, and the last CG solves of a Newton run, to a relative residual of 1e-4,
/// are its most expensive ones.
const ROUND_GAP_FRACTION: f64 = 1e-3;

/// The logistic loss's restricted program, while its set still grows, is solved by Newton
/// steps to this fraction of the full program's last gap (not below `tol`): the early rounds'
/// gaps are near 1, and their exact optima are revised by the rows and groups the next round
/// adds. Measured on five sampled-gate classifiers (standardised; moons N = 200 with 50 gates,
/// 3 blobs in 5-D with 30, wine with 20, iris with 40, breast cancer with 10; one run each, 2
/// cores), total seconds: to `tol` every round 30.9, 1e-2 29.1, 1e-3 21.1, 1e-4 25.9; the
/// objectives agree to 1e-8 relative and every run certifies.
const NEWTON_GAP_FRACTION: f64 = 1e-3;

/// Without `G`, a restricted program's own tolerance, in units of Clarabel's (`tol`, a
/// hundredth of the gap asked for): half the gap asked for. Its gap is a relative gap of the
/// whole loss, constant included, which is the full program's once no group outside the set
/// is violated, so the tenth of it that Clarabel's semantics needed is not. Measured on
/// N = 10⁵, d = 20, 1 000 patterns (one run each, 2 cores), with the round that first holds
/// every group no longer counted as a stall: the last round 23.3 → 18.9 s, the final gap
/// 4.3e-8 → 1.6e-7.
const ROUND_TOL_PER_CLARABEL_TOL: f64 = 50.0;

/// Solves `prog` by working sets under `budget`; `on_iteration` sees every round's certificate
/// and may stop the run.
pub fn solve(
    prog: &Program,
    settings: &ActiveSetSettings,
    warm: Option<&[f64]>,
    budget: &Budget,
    on_iteration: &mut dyn FnMut(&Progress) -> Option<Stop>,
) -> Result<Solved> {
    let clock = Instant::now();
    let (nv, dim, n_groups) = (prog.n_vars(), prog.dim(), prog.n_groups());
    // the working set's groups, in the order they joined
    let mut groups: Vec<usize> = Vec::new();
    // the squared loss's Gram matrix, grown with the set
    let mut gram = Gram::empty();
    let mut rows = RowSets::default();
    let mut in_set = vec![false; n_groups];
    // the working set's patterns, in the order they joined, and each one's position there (and
    // in the Gram matrix)
    let mut patterns: Vec<usize> = Vec::new();
    let mut position: Vec<Option<usize>> = vec![None; prog.patterns.len()];
    // a warm start (the previous β of a path): its support joins in the first round
    let mut u = warm.map_or_else(|| vec![0.0; nv], <[f64]>::to_vec);
    let mut warm_support: Vec<usize> = group_norms(&u, dim)
        .iter()
        .enumerate()
        .filter(|(_, &v)| v > 0.0)
        .map(|(j, _)| j)
        .collect();
    let mut grad = vec![0.0; nv];
    let mut kept = Kept::default();
    let mut tol = (settings.tol * 1e-2).clamp(CLARABEL_TOL_MIN, CLARABEL_TOL);
    // the hinge's certificate: the restricted solve's dual point (see `ipm::solve`)
    let mut solver_residual: Option<Vec<f64>> = None;
    let mut round = 0;
    // how the last restricted solve ended when it did not finish
    let mut stopped = None;
    // the gated model with the squared loss can leave the Gram form for good
    let gram_free_possible =
        prog.loss == Loss::Squared && !prog.constrained && prog.weights.is_none();
    let mut gram_free = false;
    // whether the last round (without G) was solved to a fraction of the gap, not to `tol`
    let mut loose_round = false;
    let stop = loop {
        // 1. the certificate on the full program
        let (bound, violation) = certify(
            prog,
            &u,
            &groups,
            &rows,
            solver_residual.as_deref(),
            &mut grad,
            &mut kept,
        );
        if let Some(s) = stopped {
            break s;
        }
        let seconds = clock.elapsed().as_secs_f64();
        let told = on_iteration(&Progress::certified(
            round, &bound, violation, &u, dim, seconds,
        ))
        .or_else(|| budget.exhausted());
        // 2. done?
        let full_gap = bound.rel_gap.abs();
        if kept.best.is_some() && full_gap <= settings.tol {
            break Stop::Converged;
        }
        if let Some(s) = told {
            break s;
        }
        if round >= settings.max_rounds {
            break Stop::IterationLimit;
        }
        // 3. what the certificate says is missing. Groups join while their cone rows are still
        // being found: waiting for a feasible point before adding groups took 37 rounds instead
        // of 12 (128 s instead of 67 s) on the ReLU model with d = 10 and 100 patterns.
        let scores = group_norms(&grad, dim);
        let mut outside: Vec<usize> = (0..n_groups)
            .filter(|&j| !in_set[j] && scores[j] > prog.beta)
            .collect();
        outside.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        // the cap is G's: none without it (the gated model's CG solves; the ReLU model once
        // every size above the cap is solved with sample rows, [`in_samples`]). With the cap on
        // the ReLU model, breast_cancer with 500 gates (N = 569, d̃ = 31) filled it at 384
        // groups and stopped "stalled" at a gap of 0.82 with groups outside violating their
        // dual constraint 8.6×.
        let cap = if gram_free_possible
            || (prog.constrained && COLUMNS_PER_SAMPLE * prog.n() < MAX_COLUMNS)
        {
            n_groups
        } else {
            MAX_COLUMNS / dim
        };
        // (without G too: every violated group at once from the 32-group optimum, N = 10⁵,
        // 1 000 patterns, took 327 s where doubling took 173 s: the doubling sets are a
        // continuation, each warm start close enough for Newton)
        let room = WS_START
            .max(groups.len())
            .min(cap.saturating_sub(patterns.len()));
        outside.truncate(room);
        // the warm start's support first (once), then the most violated groups
        if !warm_support.is_empty() {
            let mut warm = std::mem::take(&mut warm_support);
            let mut in_warm = vec![false; n_groups];
            warm.iter().for_each(|&j| in_warm[j] = true);
            warm.extend(outside.into_iter().filter(|&j| !in_warm[j]));
            outside = warm;
        }
        let added_rows = if prog.constrained {
            rows.add_violated(prog, &groups, &u)
        } else {
            0
        };
        // (without G a round solved only to a fraction of the last gap is not a stall: the
        // next one asks for a fraction of the smaller gap)
        if outside.is_empty() && added_rows == 0 && !loose_round {
            // the restricted optimum was not accurate enough for the certificate
            if tol <= CLARABEL_TOL_MIN {
                break Stop::Stalled;
            }
            tol = (tol * 1e-2).max(CLARABEL_TOL_MIN);
        }
        let mut new_patterns = Vec::new();
        for &j in &outside {
            in_set[j] = true;
            let p = prog.groups[j].pattern;
            if position[p].is_none() {
                position[p] = Some(patterns.len() + new_patterns.len());
                new_patterns.push(p);
            }
            groups.push(j);
        }
        rows.grow(groups.len());
        // 4. the restricted program
        patterns.extend_from_slice(&new_patterns);
        let columns = (patterns.len() * dim) as f64;
        gram_free = gram_free
            || (gram_free_possible
                && (prog.n() as f64 * columns * columns > GRAM_WORK
                    || columns > MAX_COLUMNS as f64));
        let (solution, stop) = match prog.loss {
            Loss::Squared if gram_free => {
                round += 1;
                let warm = set_part(&u, &groups, dim);
                let round_tol =
                    (ROUND_TOL_PER_CLARABEL_TOL * tol).max(ROUND_GAP_FRACTION * full_gap);
                loose_round = round_tol > ROUND_TOL_PER_CLARABEL_TOL * tol;
                let solved = gated_cg::solve(&prog.subset(&groups), &warm, round_tol, budget);
                match solved.ended {
                    gated_newton::Ended::Converged => (solved.d, Stop::Optimal),
                    gated_newton::Ended::Stopped(s) => (solved.d, s),
                    // CG's Newton steps can stall where the set has far more columns than
                    // samples (d = 60, N = 1 000: 3 904 columns in the second round, the run
                    // ended "stalled" at a gap of 0.63): Clarabel on the sample rows solves it
                    gated_newton::Ended::Stalled => {
                        let fit = Fit::Samples(&patterns);
                        restricted(prog, &groups, fit, &position, &mut rows, tol, budget)?
                    }
                }
            }
            Loss::Squared => {
                // the set's columns only grow: once in sample rows, it never needs G again
                let Some(fit) = fit_for(prog, &patterns, &new_patterns, &mut gram, budget) else {
                    break budget.exhausted().unwrap_or(Stop::Interrupted);
                };
                round += 1;
                let warm = set_part(&u, &groups, dim);
                restricted_quadratic(prog, &groups, fit, &position, &mut rows, &warm, tol, budget)?
            }
            Loss::Logistic => {
                round += 1;
                let set = Set {
                    groups: &groups,
                    patterns: &patterns,
                    position: &position,
                };
                // a set that just grew is solved to a fraction of the full gap only: the next
                // round's groups and rows change its optimum anyway
                let grew = !outside.is_empty() || added_rows > 0;
                let round_tol = if grew {
                    tol.max(NEWTON_GAP_FRACTION * full_gap)
                } else {
                    tol
                };
                loose_round = round_tol > tol;
                restricted_by_newton(prog, &set, &mut rows, &u, round_tol, budget)?
            }
            Loss::Hinge => {
                round += 1;
                let (solution, stop, r) =
                    restricted_samples(prog, &groups, &mut rows, tol, budget)?;
                solver_residual = Some(r);
                (solution, stop)
            }
        };
        u.iter_mut().for_each(|v| *v = 0.0);
        for (w, &j) in groups.iter().enumerate() {
            u[j * dim..(j + 1) * dim].copy_from_slice(&solution[w * dim..(w + 1) * dim]);
        }
        if stop != Stop::Optimal && stop != Stop::IterationLimit {
            // stopped from outside, or Clarabel failed: certify the point reached, then stop
            stopped = Some(stop);
        }
    };
    Ok(kept.solved(round, stop))
}

/// The certificate at `u` on the full program, with the working set's multipliers (zero on every
/// row not in a set) and, when given, the dual point `residual` instead of the loss's gradient,
/// recorded in `kept`; returns the best bound so far and the point's largest cone violation.
fn certify(
    prog: &Program,
    u: &[f64],
    groups: &[usize],
    rows: &RowSets,
    residual: Option<&[f64]>,
    grad: &mut [f64],
    kept: &mut Kept,
) -> (Bound, f64) {
    let mut e = prog.eval(u, None, grad, None);
    if let Some(r) = residual {
        e.residual = r.to_vec();
        prog.adjoint(r, None, grad);
    }
    rows.subtract_multipliers(prog, groups, grad);
    (kept.record(prog, u, &e, grad), e.violation)
}

/// The cone rows of each working-set group (ReLU model, ascending sample indices) and their
/// multipliers from the last restricted solve, position by position as in the working set.
#[derive(Default)]
struct RowSets {
    rows: Vec<Vec<usize>>,
    multipliers: Vec<Vec<f64>>,
}

impl RowSets {
    fn grow(&mut self, groups: usize) {
        self.rows.resize(groups, Vec::new());
        self.multipliers.resize(groups, Vec::new());
    }

    fn count(&self) -> usize {
        self.rows.iter().map(Vec::len).sum()
    }

    /// `∇_j −= X̃ᵀ(2D_j − I) μ_j` for the working set's groups: the certificate's gradient with
    /// the multipliers (zero on every row not in a set).
    fn subtract_multipliers(&self, prog: &Program, groups: &[usize], grad: &mut [f64]) {
        let dim = prog.dim();
        for (w, &j) in groups.iter().enumerate() {
            let mask = &prog.patterns.masks[prog.groups[j].pattern];
            let gj = &mut grad[j * dim..(j + 1) * dim];
            for (&i, &m) in self.rows[w].iter().zip(&self.multipliers[w]) {
                let s = if mask.on(i) { m } else { -m };
                gj.iter_mut()
                    .zip(prog.data.row(i))
                    .for_each(|(g, x)| *g -= s * x);
            }
        }
    }

    /// Adds to each group's rows those whose cone constraint `(2D_j − I) X̃ u_j ≥ 0` is violated
    /// by more than [`ROW_VIOLATION`] at `u`; returns how many were added.
    fn add_violated(&mut self, prog: &Program, groups: &[usize], u: &[f64]) -> usize {
        let (n, dim, k) = (prog.n(), prog.dim(), groups.len());
        if k == 0 {
            return 0;
        }
        let top = group_norms(u, dim).into_iter().fold(0.0, f64::max);
        if top == 0.0 {
            return 0;
        }
        let uw: Vec<f64> = groups
            .iter()
            .flat_map(|&j| u[j * dim..(j + 1) * dim].iter().copied())
            .collect();
        let mut added = 0;
        let mut z = vec![0.0; super::program::BLOCK * k];
        let mut fresh: Vec<Vec<(f64, usize)>> = vec![Vec::new(); k];
        for start in (0..n).step_by(super::program::BLOCK) {
            let len = super::program::BLOCK.min(n - start);
            matmul(
                MatMut::from_column_major_slice_mut(&mut z[..len * k], len, k),
                Accum::Replace,
                MatRef::from_column_major_slice(prog.data.rows(start..start + len), dim, len)
                    .transpose(),
                MatRef::from_column_major_slice(&uw, dim, k),
                1.0,
                Par::Seq,
            );
            for (w, &j) in groups.iter().enumerate() {
                let mask = &prog.patterns.masks[prog.groups[j].pattern];
                for kk in 0..len {
                    let i = start + kk;
                    let zk = z[w * len + kk];
                    let s = if mask.on(i) { zk } else { -zk };
                    let v = -s / (prog.data.row_norm(i) * top);
                    if v > ROW_VIOLATION {
                        fresh[w].push((v, i));
                    }
                }
            }
        }
        // merge each group's new rows (ascending) into its rows (ascending), new ones at μ = 0
        for (w, mut f) in fresh.into_iter().enumerate() {
            if f.is_empty() {
                continue;
            }
            // the most violated first, then back to ascending sample order
            f.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            f.truncate(ROWS_PER_ROUND * dim);
            let mut f: Vec<usize> = f.into_iter().map(|(_, i)| i).collect();
            f.sort_unstable();
            let old_rows = std::mem::take(&mut self.rows[w]);
            let old_mu = std::mem::take(&mut self.multipliers[w]);
            let (mut a, mut b) = (0, 0);
            while a < old_rows.len() || b < f.len() {
                let take_old = b == f.len() || (a < old_rows.len() && old_rows[a] <= f[b]);
                if take_old {
                    if b < f.len() && old_rows[a] == f[b] {
                        b += 1;
                    }
                    self.rows[w].push(old_rows[a]);
                    self.multipliers[w].push(old_mu[a]);
                    a += 1;
                } else {
                    self.rows[w].push(f[b]);
                    self.multipliers[w].push(0.0);
                    added += 1;
                    b += 1;
                }
            }
        }
        added
    }
}

/// A working set: its groups (indices into the program's), its patterns in the order of the Gram
/// matrix, and each pattern's position there.
struct Set<'s> {
    groups: &'s [usize],
    patterns: &'s [usize],
    position: &'s [Option<usize>],
}

/// Solves the restricted program of the logistic loss by Newton steps ([`super::newton`]) from
/// the set's part of `u`, each quadratic model solved as the squared loss's is (its weighted
/// Gram matrix, when it has one, built afresh: the weights change every step) until a step
/// decreases the objective by at most `tol` relative. Writes the last model's row multipliers
/// into `rows`.
fn restricted_by_newton(
    prog: &Program,
    set: &Set,
    rows: &mut RowSets,
    u: &[f64],
    tol: f64,
    budget: &Budget,
) -> Result<(Vec<f64>, Stop)> {
    let dim = prog.dim();
    let sub = prog.subset(set.groups);
    let mut us = set_part(u, set.groups, dim);
    let all: Vec<usize> = (0..set.groups.len()).collect();
    for k in 0..newton::MAX_STEPS {
        // the set's new rows may cut the point off: the first step lands in them
        let from = if k == 0 {
            newton::Origin::Infeasible
        } else {
            newton::Origin::Feasible
        };
        let warm = us.clone();
        let taken = newton::step(&sub, &mut us, from, &mut |model| {
            let mut gram = Gram::empty();
            let Some(fit) = fit_for(model, set.patterns, set.patterns, &mut gram, budget) else {
                return Ok((Vec::new(), budget.exhausted().unwrap_or(Stop::Interrupted)));
            };
            restricted_quadratic(model, &all, fit, set.position, rows, &warm, tol, budget)
        })?;
        if taken.stop != Stop::Optimal && taken.stop != Stop::IterationLimit {
            return Ok((us, taken.stop));
        }
        if k > 0 && (taken.length == 0.0 || taken.before - taken.after <= tol * taken.before.abs())
        {
            break;
        }
    }
    Ok((us, Stop::Optimal))
}

/// Solves the restricted program of the working set's `groups` and `rows`' cone rows with Clarabel
/// to `tol` in sample form (the hinge loss, whose loss has rows per sample). Writes
/// the rows' multipliers into `rows` and returns `u` (group by group), how Clarabel ended, and
/// the dual point of its prediction rows (the scaled residual, in the loss's domain).
fn restricted_samples(
    prog: &Program,
    groups: &[usize],
    rows: &mut RowSets,
    tol: f64,
    budget: &Budget,
) -> Result<(Vec<f64>, Stop, Vec<f64>)> {
    let sub = prog.subset(groups);
    let form = ipm::sample_form(&sub, ConeRows::Chosen(&rows.rows));
    let run = clarabel_run::solve(form.program, tol, CLARABEL_MAX_ITER, budget, &mut |_| None)?;
    let z = &run.solution.z;
    let mut at = form.cone_rows;
    for m in rows.multipliers.iter_mut() {
        for v in m.iter_mut() {
            *v = z[at].max(0.0);
            at += 1;
        }
    }
    let residual = ipm::solver_residual(prog, &z[..prog.n()]);
    Ok((run.solution.x[..form.n_vars].to_vec(), run.stop, residual))
}

/// The working set's part of `u`, group by group in the set's order.
fn set_part(u: &[f64], groups: &[usize], dim: usize) -> Vec<f64> {
    groups
        .iter()
        .flat_map(|&j| u[j * dim..(j + 1) * dim].iter().copied())
        .collect()
}

/// How a restricted program's loss (the squared loss, or a quadratic model's weighted one)
/// enters its solver.
#[derive(Clone, Copy)]
enum Fit<'a> {
    /// `½dᵀGd − cᵀd` over the set's pattern columns `d`: `G` is dense, (|S| d̃)²/2 non-zeros
    /// in Clarabel's `P`, and whatever N.
    Gram(&'a Gram),
    /// `½ eᵀWe/N` with the rows `e = A d − y`: `A`'s about N |S| d̃ / 2 non-zeros instead,
    /// which Clarabel factors faster once the columns outnumber the samples (the set's patterns,
    /// in its order).
    Samples(&'a [usize]),
}

/// Whether the ReLU model's restricted program over `patterns` patterns goes to Clarabel with
/// sample rows ([`COLUMNS_PER_SAMPLE`]); the gated model's is solved by Newton's method on `G`.
fn in_samples(prog: &Program, patterns: usize) -> bool {
    prog.constrained && patterns * prog.dim() > COLUMNS_PER_SAMPLE * prog.n()
}

/// The [`Fit`] of the restricted program over the set's `patterns`: sample rows when
/// [`in_samples`], else `gram` grown by `new` (those of `patterns` not in it yet); `None` when
/// the budget ran out while growing it.
fn fit_for<'a>(
    prog: &Program,
    patterns: &'a [usize],
    new: &[usize],
    gram: &'a mut Gram,
    budget: &Budget,
) -> Option<Fit<'a>> {
    if in_samples(prog, patterns.len()) {
        return Some(Fit::Samples(patterns));
    }
    gram.extend(prog, new, budget).then_some(Fit::Gram(gram))
}

/// Solves the restricted program from `warm` (the set's part of the current point): the gated
/// model by Newton's method on its support ([`gated_newton`], to a tenth of the gap that
/// Clarabel's `tol` stands for, since its gap includes the loss's constant), and by Clarabel
/// ([`restricted`]) when that stalls or for the ReLU model.
///
/// Measured on the bench's gated cases (2 cores, one run each): N = 10⁴, d = 20, 200 patterns,
/// the four restricted solves took 0.4, 1.2, 4.9 and 13.8 s by Clarabel and 0.03, 0.3, 1.8 and
/// 5.5 s by Newton (the whole run 24 s → 11 s); N = 1 000, d = 10, 100 patterns, 1.2 s → 0.6 s.
/// With every pattern of a 2-D teacher enumerated (N = 40 and 100, far more columns than
/// samples) Newton stalls on every round and Clarabel solves them, at a cost within the runs'
/// noise (1.6 s and 47–48 s either way).
#[allow(clippy::too_many_arguments)]
fn restricted_quadratic(
    prog: &Program,
    groups: &[usize],
    fit: Fit,
    position: &[Option<usize>],
    rows: &mut RowSets,
    warm: &[f64],
    tol: f64,
    budget: &Budget,
) -> Result<(Vec<f64>, Stop)> {
    if let (false, Fit::Gram(gram)) = (prog.constrained, fit) {
        let dim = prog.dim();
        // the gated model has one group per pattern: the Gram matrix's blocks are the groups
        let at = |j: usize| {
            position[prog.groups[j].pattern]
                .expect("every working-set pattern is in the Gram matrix")
        };
        let mut d = vec![0.0; gram.c.len()];
        for (w, &j) in groups.iter().enumerate() {
            d[at(j) * dim..(at(j) + 1) * dim].copy_from_slice(&warm[w * dim..(w + 1) * dim]);
        }
        let solved = gated_newton::solve(gram, dim, prog.beta, &d, 10.0 * tol, budget);
        let stop = match solved.ended {
            gated_newton::Ended::Converged => Some(Stop::Optimal),
            gated_newton::Ended::Stopped(s) => Some(s),
            gated_newton::Ended::Stalled => None,
        };
        if let Some(stop) = stop {
            let u = groups
                .iter()
                .flat_map(|&j| solved.d[at(j) * dim..(at(j) + 1) * dim].iter().copied())
                .collect();
            return Ok((u, stop));
        }
    }
    restricted(prog, groups, fit, position, rows, tol, budget)
}

/// Solves the restricted program of the working set's `groups` and `rows`' cone rows with
/// Clarabel to `tol`: variables `d` (one per pattern of the set, d̃ each), `u` (one per group),
/// `t` (one per group) and, with sample rows, `e` (one per sample),
///
/// ```text
/// min ½dᵀGd − cᵀd + β Σ_w t_w             (Fit::Gram)
/// min ½ eᵀWe/N + β Σ_w t_w,  e = A d − y   (Fit::Samples)
///     s.t. d_p = Σ_{w of pattern p} s_w u_w,  (t_w, u_w) ∈ SOC,
///          (2D_w − I)_ii x̃_iᵀ u_w ≥ 0 for the rows i of group w.
/// ```
///
/// The loss sees patterns only; the links `d = Σ s u` are sparse rows. Writes the cone rows'
/// multipliers into `rows` and returns `u` (group by group) and how Clarabel ended.
fn restricted(
    prog: &Program,
    groups: &[usize],
    fit: Fit,
    position: &[Option<usize>],
    rows: &mut RowSets,
    tol: f64,
    budget: &Budget,
) -> Result<(Vec<f64>, Stop)> {
    let (n, dim, k) = (prog.n(), prog.dim(), groups.len());
    let patterns = match fit {
        Fit::Gram(gram) => &gram.patterns[..],
        Fit::Samples(patterns) => patterns,
    };
    let side = patterns.len() * dim;
    let (u0, t0) = (side, side + k * dim);
    let e0 = t0 + k;
    let (nvar, fit_rows) = match fit {
        Fit::Gram(_) => (e0, 0),
        Fit::Samples(_) => (e0 + n, n),
    };
    let mut q = vec![0.0; nvar];
    q[t0..e0].iter_mut().for_each(|v| *v = prog.beta);
    let p = match fit {
        // the upper triangle of G, column by column; nothing on u and t
        Fit::Gram(gram) => {
            q[..side].iter_mut().zip(&gram.c).for_each(|(v, c)| *v = -c);
            let mut colptr = Vec::with_capacity(nvar + 1);
            let mut rowval = Vec::with_capacity(side * (side + 1) / 2);
            let mut nzval = Vec::with_capacity(side * (side + 1) / 2);
            colptr.push(0);
            for col in 0..side {
                for r in 0..=col {
                    rowval.push(r);
                    nzval.push(gram.g[(r, col)]);
                }
                colptr.push(rowval.len());
            }
            for _ in side..nvar {
                colptr.push(rowval.len());
            }
            CscMatrix::new(nvar, nvar, colptr, rowval, nzval)
        }
        // W/N on e
        Fit::Samples(_) => {
            let at: Vec<usize> = (e0..nvar).collect();
            let curvature = (0..n)
                .map(|i| prog.weights.map_or(1.0, |w| w[i]) / n as f64)
                .collect();
            CscMatrix::new_from_triplets(nvar, nvar, at.clone(), at, curvature)
        }
    };
    let mut constraints = Rows::default();
    // d_p − Σ s_w u_w = 0
    for r in 0..side {
        constraints.entry(r, r, 1.0);
    }
    for (w, &j) in groups.iter().enumerate() {
        let grp = prog.groups[j];
        let at = position[grp.pattern].expect("every working-set pattern is in the set's order");
        for c in 0..dim {
            constraints.entry(at * dim + c, u0 + w * dim + c, -grp.sign);
        }
    }
    constraints.b.extend(std::iter::repeat_n(0.0, side));
    // e_i − Σ_p D_p x̃_iᵀ d_p = −y_i
    if let Fit::Samples(_) = fit {
        for i in 0..n {
            let r = side + i;
            let x = prog.data.row(i);
            for (at, &pattern) in patterns.iter().enumerate() {
                if prog.patterns.masks[pattern].on(i) {
                    for (c, &xc) in x.iter().enumerate() {
                        constraints.entry(r, at * dim + c, -xc);
                    }
                }
            }
            constraints.entry(r, e0 + i, 1.0);
        }
        constraints.b.extend(prog.y.iter().map(|v| -v));
    }
    constraints
        .cones
        .push(SupportedConeT::ZeroConeT(side + fit_rows));
    let n_rows = rows.count();
    for (w, &j) in groups.iter().enumerate() {
        let mask = &prog.patterns.masks[prog.groups[j].pattern];
        for &i in &rows.rows[w] {
            constraints.cone_row(prog, mask, i, u0 + w * dim);
        }
    }
    if n_rows > 0 {
        constraints
            .cones
            .push(SupportedConeT::NonnegativeConeT(n_rows));
    }
    constraints.epigraphs(k, t0, u0, dim);
    let run = clarabel_run::solve(
        constraints.program(p, q),
        tol,
        CLARABEL_MAX_ITER,
        budget,
        &mut |_| None,
    )?;
    let mut at = side + fit_rows;
    for m in rows.multipliers.iter_mut() {
        for v in m.iter_mut() {
            *v = run.solution.z[at].max(0.0);
            at += 1;
        }
    }
    Ok((run.solution.x[u0..t0].to_vec(), run.stop))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convex::gated_newton::seeded_group_lasso;
    use crate::train::Limits;

    /// The two ways the loss enters Clarabel, `G` and the sample rows, give the same restricted
    /// optimum on the seeded ReLU program with some groups and every fifth sample's cone rows:
    /// the same point to 1e-6 and objective (computed from the data) to 1e-9 relative, and each
    /// with its cone rows' multipliers satisfies the optimality conditions (stationarity
    /// `∇_w − X̃ᵀ(2D_w − I)μ_w + β u_w/‖u_w‖ = 0`, or `‖·‖ ≤ β` at zero, to 1e-5 β). The
    /// multipliers themselves are not compared: several rows can bind along one direction.
    #[test]
    fn the_gram_and_the_sample_rows_give_the_same_restricted_optimum() {
        let (data, y, pats) = seeded_group_lasso();
        let beta = 5e-3;
        let prog = Program::new(&data, &y, Loss::Squared, &pats, true, beta);
        let budget = Budget::start(&Limits::none());
        // a set with both signs of some patterns and one sign of others, patterns out of order
        let groups: Vec<usize> = vec![3, 15, 0, 7, 12, 19, 8];
        let mut patterns: Vec<usize> = Vec::new();
        let mut position = vec![None; pats.len()];
        for &j in &groups {
            let p = prog.groups[j].pattern;
            if position[p].is_none() {
                position[p] = Some(patterns.len());
                patterns.push(p);
            }
        }
        let mut gram = Gram::empty();
        assert!(gram.extend(&prog, &patterns, &budget));
        let sub = prog.subset(&groups);
        let dim = prog.dim();
        let mut binding = 0;
        let mut solve = |fit: Fit| {
            let mut rows = RowSets::default();
            rows.grow(groups.len());
            for (w, r) in rows.rows.iter_mut().enumerate() {
                *r = (w..prog.n()).step_by(5).collect();
                rows.multipliers[w] = vec![0.0; r.len()];
            }
            let (u, stop) =
                restricted(&prog, &groups, fit, &position, &mut rows, 1e-10, &budget).unwrap();
            assert_eq!(stop, Stop::Optimal);
            let mut grad = vec![0.0; u.len()];
            let e = sub.eval(&u, None, &mut grad, None);
            let all: Vec<usize> = (0..groups.len()).collect();
            rows.subtract_multipliers(&sub, &all, &mut grad);
            for w in 0..groups.len() {
                let (uw, gw) = (&u[w * dim..(w + 1) * dim], &grad[w * dim..(w + 1) * dim]);
                let norm = crate::linalg::norm(uw);
                let residual = if norm > 1e-8 {
                    let r: Vec<f64> = gw
                        .iter()
                        .zip(uw)
                        .map(|(g, v)| g + beta * v / norm)
                        .collect();
                    crate::linalg::norm(&r)
                } else {
                    (crate::linalg::norm(gw) - beta).max(0.0)
                };
                assert!(residual <= 1e-5 * beta, "group {w}: residual {residual}");
            }
            binding += rows
                .multipliers
                .concat()
                .iter()
                .filter(|&&m| m > 1e-9)
                .count();
            (e.loss + sub.penalty(&u), u)
        };
        let (fa, a) = solve(Fit::Gram(&gram));
        let (fb, b) = solve(Fit::Samples(&patterns));
        assert!((fa - fb).abs() <= 1e-9 * fa, "objectives {fa} and {fb}");
        let top = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (x, z) in a.iter().zip(&b) {
            assert!((x - z).abs() <= 1e-6 * top, "{x} against {z}");
        }
        assert!(binding > 0, "no cone row binds: the rows test nothing");
    }
}
