//! First-order solver (docs/convex.md §5): restarted FISTA with backtracking on the loss plus the
//! group penalty, whose proximal step is block soft-thresholding; for the ReLU model the cone
//! constraints enter through an augmented Lagrangian whose multipliers are updated whenever the
//! inner FISTA run has settled. Every iteration computes the certified gap of
//! [`super::certificate::dual_value`] and
//! the run stops when it is below the tolerance.

use super::certificate::{admissible, bound_at, dual_of_residual, Bound, Kept, Progress, Solved};
use super::program::{group_norms, move_multipliers, Augmented, Program};
use crate::linalg::dot;
use crate::train::Stop;
use faer::linalg::solvers::Solve;
use faer::{Mat, Side};
use serde::Serialize;
use std::time::Instant;

/// When the first-order solver stops.
#[derive(Clone, Debug, Serialize)]
pub struct FirstOrderSettings {
    /// Relative duality gap at which the run stops.
    pub tol: f64,
    pub max_iter: usize,
}

impl Default for FirstOrderSettings {
    fn default() -> Self {
        Self {
            tol: 1e-6,
            max_iter: 100_000,
        }
    }
}

/// The augmented-Lagrangian penalty starts at `RHO_START / N` (the loss is an average over N
/// samples, the penalty a sum) and is multiplied by `RHO_GROWTH` whenever an outer iteration did
/// not at least halve the largest constraint violation.
/// Measured on the ReLU model of a 3-D teacher (N = 200, 19 sampled patterns, β = 1e-2) after
/// 20 000 iterations: RHO_START 1 or 10 with INNER_MAX 200 end 1e-4 above the interior point's
/// optimum (gap 1e-2); INNER_MAX 50 ends 10–30 % above for RHO_START 1–100. None reaches 1e-6:
/// the augmented Lagrangian is the weak part of this solver (docs/convex.md §5).
const RHO_START: f64 = 1.0;
const RHO_GROWTH: f64 = 4.0;
/// The penalty stops growing at `RHO_MAX / N`: beyond it the augmented term's curvature swamps
/// the loss's and the steps shrink to nothing (seen: an objective of 1e17 after ρ grew freely).
const RHO_MAX: f64 = 1e6;

/// Backtracking gives up after this many doublings of L (L · 2^60 is beyond any real curvature).
const MAX_DOUBLINGS: usize = 60;

/// The inner FISTA run of the augmented Lagrangian has settled when its proximal-gradient step
/// `L ‖x⁺ − y‖` is below this fraction of β times `INNER_SHRINK^outer` (tighter each outer
/// iteration), or after `INNER_MAX` iterations.
const INNER_START: f64 = 1e-2;
const INNER_SHRINK: f64 = 0.3;
const INNER_MAX: usize = 200;

/// Block soft-thresholding: `u_j ← u_j · max(0, 1 − τ/‖u_j‖)`.
fn prox(u: &mut [f64], dim: usize, tau: f64) {
    for c in u.chunks_exact_mut(dim) {
        let norm = crate::linalg::norm(c);
        let s = if norm > tau { 1.0 - tau / norm } else { 0.0 };
        c.iter_mut().for_each(|v| *v *= s);
    }
}

/// Groups in the first working set; it then holds twice the support (at least this many).
/// Not tuned (not measured against other values).
const WS_START: usize = 32;

/// FISTA iterations on one working set before the certificate on all groups is recomputed.
/// Without a cap the first working set was solved to 1e-7 for 14 000 iterations (2-D teacher,
/// 1 561 patterns) while the groups it lacked stayed out; with 500 the primal reached the
/// interior point's optimum to 2e-10 (N = 1 000, 200 patterns).
const INNER_CAP: usize = 500;

/// Solves `prog` by working sets (docs/convex.md §5): FISTA on the groups of the working set,
/// then the certificate on all groups, whose most violated dual constraints join the next
/// working set. `on_iteration` sees every inner iteration (with a certified gap) and may stop
/// the run (time limit, interrupt).
pub fn solve(
    prog: &Program,
    settings: &FirstOrderSettings,
    warm: Option<&[f64]>,
    on_iteration: &mut dyn FnMut(&Progress) -> Option<Stop>,
) -> Solved {
    let clock = Instant::now();
    let (nv, dim, g, n) = (prog.n_vars(), prog.dim(), prog.n_groups(), prog.n());
    // a warm start's support is the first working set's core
    let mut x = warm.map_or_else(|| vec![0.0; nv], <[f64]>::to_vec);
    let mut mu = vec![
        0.0;
        if prog.constrained {
            prog.multiplier_len()
        } else {
            0
        }
    ];
    let mut al = AugState {
        rho: RHO_START / n as f64,
        outer: 0,
        last_violation: f64::INFINITY,
        since_update: 0,
    };
    let mut grad = vec![0.0; nv];
    let mut kept = Kept::default();
    let mut iteration = 0;
    let mut inner_tol = settings.tol / 4.0;
    let stop = loop {
        let e = prog.eval(&x, augmented(prog, &mu, 0.0).as_ref(), &mut grad, None);
        let bound = kept.record(prog, &x, &e, &grad);
        let norms = group_norms(&x, dim);
        let progress = Progress {
            iteration,
            objective: bound.primal,
            dual: bound.dual,
            rel_gap: bound.rel_gap,
            violation: e.violation,
            active_groups: norms.iter().filter(|&&v| v > 0.0).count(),
            seconds: clock.elapsed().as_secs_f64(),
        };
        let told = on_iteration(&progress);
        if kept.best.is_some() && bound.rel_gap.abs() <= settings.tol {
            break Stop::Converged;
        }
        if let Some(s) = told {
            break s;
        }
        if iteration >= settings.max_iter {
            break Stop::IterationLimit;
        }
        if !bound.primal.is_finite() {
            break Stop::Diverged;
        }
        // the next working set: the support, then the most violated dual constraints
        let scores = group_norms(&grad, dim);
        let mut ws: Vec<usize> = (0..g).filter(|&j| norms[j] > 0.0).collect();
        let target = (2 * ws.len()).max(WS_START).min(g);
        let mut outside: Vec<usize> = (0..g)
            .filter(|&j| norms[j] == 0.0 && scores[j] > prog.beta)
            .collect();
        outside.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        let room = target
            .saturating_sub(ws.len())
            .max(usize::from(!outside.is_empty()));
        if outside.is_empty() {
            // every dual constraint outside holds: the gap is the working set's own
            inner_tol *= 0.1;
        }
        ws.extend(outside.into_iter().take(room));
        ws.sort_unstable();
        let sub = prog.subset(&ws);
        let mut xs: Vec<f64> = ws
            .iter()
            .flat_map(|&j| x[j * dim..(j + 1) * dim].iter().copied())
            .collect();
        let mut mus = vec![
            0.0;
            if prog.constrained {
                sub.multiplier_len()
            } else {
                0
            }
        ];
        if prog.constrained {
            move_multipliers(n, g, &ws, &mut mu, &mut mus, true);
        }
        let budget = (settings.max_iter - iteration).min(INNER_CAP);
        let mut extrapolated = None;
        let (_, told) = inner(
            &sub,
            &mut xs,
            &mut mus,
            &mut al,
            inner_tol,
            budget,
            &mut extrapolated,
            &mut |primal, violation, active| {
                // only a point of the program counts (see `admissible`); else the best so far
                let best = kept.best.as_ref().map_or(f64::INFINITY, |b| b.0);
                let objective = if admissible(&sub, violation) {
                    primal.min(best)
                } else {
                    best
                };
                let p = Progress {
                    iteration: iteration + 1,
                    objective,
                    dual: kept.dual,
                    rel_gap: Bound::new(objective, kept.dual).rel_gap,
                    violation,
                    active_groups: active,
                    seconds: clock.elapsed().as_secs_f64(),
                };
                iteration += 1;
                on_iteration(&p)
            },
        );
        x.iter_mut().for_each(|v| *v = 0.0);
        for (w, &j) in ws.iter().enumerate() {
            x[j * dim..(j + 1) * dim].copy_from_slice(&xs[w * dim..(w + 1) * dim]);
        }
        if prog.constrained {
            move_multipliers(n, g, &ws, &mut mu, &mut mus, false);
        }
        if let Some(r) = extrapolated {
            let mus = prog.constrained.then_some(mu.as_slice());
            kept.dual = kept.dual.max(dual_of_residual(prog, &r, mus));
        }
        if let Some(s) = told {
            // one last certificate at the point reached, then stop
            let e = prog.eval(&x, augmented(prog, &mu, 0.0).as_ref(), &mut grad, None);
            kept.record(prog, &x, &e, &grad);
            break s;
        }
    };
    kept.solved(iteration, stop)
}

/// The augmented Lagrangian's penalty and its bookkeeping, kept across working sets.
struct AugState {
    rho: f64,
    outer: usize,
    last_violation: f64,
    /// FISTA iterations since the multipliers last changed.
    since_update: usize,
}

/// FISTA (with the augmented Lagrangian for the ReLU model) on `prog` from `x` until its own
/// certified gap is below `tol` or `budget` iterations; `report(primal, violation, active)` sees
/// every iteration and may stop it. Returns the iterations used and the stop asked for.
#[allow(clippy::too_many_arguments)]
fn inner(
    prog: &Program,
    x: &mut Vec<f64>,
    mu: &mut Vec<f64>,
    al: &mut AugState,
    tol: f64,
    budget: usize,
    extrapolated: &mut Option<Vec<f64>>,
    report: &mut dyn FnMut(f64, f64, usize) -> Option<Stop>,
) -> (usize, Option<Stop>) {
    let (nv, dim) = (prog.n_vars(), prog.dim());
    let mut mu_next = mu.clone();
    let mut gx = vec![0.0; nv];
    let mut ex = prog.eval(x, augmented(prog, mu, al.rho).as_ref(), &mut gx, None);
    let mut lip = lipschitz_estimate(prog, x, augmented(prog, mu, al.rho).as_ref(), &gx);
    let mut yv = x.clone();
    let mut gy = gx.clone();
    let mut ey = ex.clone();
    let mut momentum: f64 = 1.0;
    let mut objective_x = ex.loss + ex.augmented + prog.penalty(x);
    let mut trial = vec![0.0; nv];
    let mut gt = vec![0.0; nv];
    let mut best_dual = f64::NEG_INFINITY;
    for it in 1..=budget {
        al.since_update += 1;
        // one FISTA step from y with backtracking on L
        let fy = ey.loss + ey.augmented;
        let mut doublings = 0;
        let (ft, et) = loop {
            for ((t, &y), &gv) in trial.iter_mut().zip(&yv).zip(&gy) {
                *t = y - gv / lip;
            }
            prox(&mut trial, dim, prog.beta / lip);
            let et = prog.eval(&trial, augmented(prog, mu, al.rho).as_ref(), &mut gt, None);
            let ft = et.loss + et.augmented;
            let diff: f64 = trial.iter().zip(&yv).map(|(a, b)| (a - b) * (a - b)).sum();
            let lin = dot(&gy, &trial) - dot(&gy, &yv);
            if ft <= fy + lin + 0.5 * lip * diff + 1e-14 * fy.abs() || !ft.is_finite() {
                break (ft, et);
            }
            doublings += 1;
            if doublings > MAX_DOUBLINGS {
                // no step decreases the model: the iterate or the penalty has blown up
                return (it, Some(Stop::Diverged));
            }
            lip *= 2.0;
        };
        let step_norm = lip
            * trial
                .iter()
                .zip(&yv)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
                .sqrt();
        let objective_t = ft + prog.penalty(&trial);
        if objective_t > objective_x {
            // adaptive restart (O'Donoghue & Candès): drop the momentum
            momentum = 1.0;
            yv.copy_from_slice(&trial);
        } else {
            let next = 0.5 * (1.0 + (1.0 + 4.0 * momentum * momentum).sqrt());
            let c = (momentum - 1.0) / next;
            for ((y, &t), &xo) in yv.iter_mut().zip(&trial).zip(x.iter()) {
                *y = t + c * (t - xo);
            }
            momentum = next;
        }
        std::mem::swap(x, &mut trial);
        std::mem::swap(&mut gx, &mut gt);
        ex = et;
        objective_x = objective_t;

        // the working set's own certificate (with the multipliers the gradient used), and the
        // dual point extrapolated from the last residuals
        let here = bound_at(prog, x, &ex, &gx);
        best_dual = best_dual.max(here.dual);
        if it % EXTRAPOLATE_EVERY == 0 {
            // a few plain proximal-gradient steps (a contraction near the optimum, unlike the
            // accelerated ones), whose residuals extrapolate to a sharp dual point
            let mut anderson = Anderson::default();
            let mut probe = x.clone();
            let mut gp = vec![0.0; nv];
            for _ in 0..=ANDERSON_DEPTH {
                let e = prog.eval(&probe, augmented(prog, mu, al.rho).as_ref(), &mut gp, None);
                anderson.push(&e.residual);
                for (p, &gv) in probe.iter_mut().zip(&gp) {
                    *p -= gv / lip;
                }
                prox(&mut probe, dim, prog.beta / lip);
            }
            if let Some(r) = anderson.extrapolate() {
                let mus = prog.constrained.then_some(mu.as_slice());
                let d = dual_of_residual(prog, &r, mus);
                if d > best_dual {
                    best_dual = d;
                    *extrapolated = Some(r);
                }
            }
        }
        let here = Bound::new(here.primal, best_dual);
        let active = super::program::nonzero_groups(x, dim);
        if let Some(s) = report(here.primal, ex.violation, active) {
            return (it, Some(s));
        }
        if (here.rel_gap.abs() <= tol && admissible(prog, ex.violation)) || !here.primal.is_finite()
        {
            return (it, None);
        }
        ey = prog.eval(&yv, augmented(prog, mu, al.rho).as_ref(), &mut gy, None);

        // augmented Lagrangian: update the multipliers once the inner run has settled
        if prog.constrained {
            let target = INNER_START * INNER_SHRINK.powi(al.outer as i32) * prog.beta;
            if step_norm <= target || al.since_update >= INNER_MAX {
                prog.eval(
                    x,
                    augmented(prog, mu, al.rho).as_ref(),
                    &mut gt,
                    Some(&mut mu_next),
                );
                std::mem::swap(mu, &mut mu_next);
                if ex.violation > 0.5 * al.last_violation {
                    al.rho = (al.rho * RHO_GROWTH).min(RHO_MAX / prog.n() as f64);
                }
                al.last_violation = ex.violation;
                al.outer += 1;
                al.since_update = 0;
                momentum = 1.0;
                yv.copy_from_slice(x);
                ex = prog.eval(x, augmented(prog, mu, al.rho).as_ref(), &mut gx, None);
                ey = ex.clone();
                gy.copy_from_slice(&gx);
                objective_x = ex.loss + ex.augmented + prog.penalty(x);
            }
        }
    }
    (budget, None)
}

/// Residual snapshots kept for the extrapolated dual point, and how often it is formed (every
/// 50 FISTA iterations costs 6 more evaluations, 12 %). Celer's depth; on the degenerate 2-D
/// programs of the tests it did not improve the gap measurably, on well-conditioned ones the
/// plain certificate already converges with the primal.
const ANDERSON_DEPTH: usize = 5;
const EXTRAPOLATE_EVERY: usize = 50;

/// Anderson extrapolation of the residuals (the dual extrapolation of celer, Massias et al.
/// 2018): with `U` the differences of the last K + 1 residuals, `c = (UᵀU)⁻¹1 / 1ᵀ(UᵀU)⁻¹1` and
/// `r = Σ c_k r_k` approach the limit of a linearly converging sequence much faster than `r_k`.
#[derive(Default)]
struct Anderson {
    last: std::collections::VecDeque<Vec<f64>>,
}

impl Anderson {
    fn push(&mut self, r: &[f64]) {
        if self.last.len() > ANDERSON_DEPTH {
            let mut old = self.last.pop_front().expect("non-empty");
            old.copy_from_slice(r);
            self.last.push_back(old);
        } else {
            self.last.push_back(r.to_vec());
        }
    }

    fn extrapolate(&self) -> Option<Vec<f64>> {
        if self.last.len() <= ANDERSON_DEPTH {
            return None;
        }
        let k = ANDERSON_DEPTH;
        let diffs: Vec<Vec<f64>> = (0..k)
            .map(|i| {
                self.last[i + 1]
                    .iter()
                    .zip(&self.last[i])
                    .map(|(a, b)| a - b)
                    .collect()
            })
            .collect();
        let mut gram = Mat::from_fn(k, k, |i, j| dot(&diffs[i], &diffs[j]));
        let trace: f64 = (0..k).map(|i| gram[(i, i)]).sum();
        if trace <= 0.0 || !trace.is_finite() {
            return None;
        }
        for i in 0..k {
            gram[(i, i)] += 1e-12 * trace;
        }
        let solved = gram
            .llt(Side::Lower)
            .ok()?
            .solve(Mat::<f64>::from_fn(k, 1, |_, _| 1.0));
        let c: Vec<f64> = (0..k).map(|i| solved[(i, 0)]).collect();
        let total: f64 = c.iter().sum();
        if total.abs() < 1e-300 {
            return None;
        }
        let mut r = vec![0.0; self.last[0].len()];
        for (ci, ri) in c.iter().zip(self.last.iter().skip(1)) {
            r.iter_mut().zip(ri).for_each(|(a, b)| *a += ci / total * b);
        }
        r.iter().all(|v| v.is_finite()).then_some(r)
    }
}

fn augmented<'m>(prog: &Program, mu: &'m [f64], rho: f64) -> Option<Augmented<'m>> {
    prog.constrained.then_some(Augmented { mu, rho })
}

/// A first Lipschitz estimate of the gradient, `‖∇f(x + δ) − ∇f(x)‖ / ‖δ‖` along a fixed
/// direction; backtracking raises it where needed.
fn lipschitz_estimate(prog: &Program, x: &[f64], aug: Option<&Augmented>, gx: &[f64]) -> f64 {
    let nv = x.len();
    // a deterministic spread-out direction
    let delta: Vec<f64> = (0..nv)
        .map(|i| (((i * 7919) % 113) as f64 / 113.0 - 0.5) * 1e-3)
        .collect();
    let moved: Vec<f64> = x.iter().zip(&delta).map(|(a, b)| a + b).collect();
    let mut g = vec![0.0; nv];
    prog.eval(&moved, aug, &mut g, None);
    let num = g
        .iter()
        .zip(gx)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        .sqrt();
    let den = crate::linalg::norm(&delta);
    (num / den).max(1e-12)
}
