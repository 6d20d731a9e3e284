//! The dual bound of docs/convex.md §4 from any primal point: `z = t·(y − p)/N` and the
//! multipliers scaled by the same `t`, with `t` the best step that keeps every group's dual
//! constraint `‖X̃ᵀ(s_j D_j z + (2D_j − I) μ_j)‖ ≤ β`. The quantity inside the norm is minus the
//! gradient of the (augmented) loss, so one evaluation gives both.

use super::program::{group_norms, Eval, Program};
use crate::train::Stop;
use serde::Serialize;

/// A primal value, a dual value below every primal value of the program, and their gap.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Bound {
    pub primal: f64,
    pub dual: f64,
    /// `(primal − dual) / primal` (absolute when primal is 0). Negative only when the primal
    /// value is not one of the program's (a ReLU network whose units left the sampled patterns).
    pub rel_gap: f64,
}

impl Bound {
    pub fn new(primal: f64, dual: f64) -> Self {
        let gap = primal - dual;
        Self {
            primal,
            dual,
            rel_gap: if primal > 0.0 { gap / primal } else { gap },
        }
    }
}

/// What either solver returns: its point, the certificate at it, and how the run ended.
pub struct Solved {
    pub u: Vec<f64>,
    pub bound: Bound,
    /// The point is one of the program's (see [`admissible`]); otherwise its objective is no
    /// bound on the program's optimum.
    pub feasible: bool,
    /// Largest relative cone violation (ReLU model).
    pub violation: f64,
    pub iterations: usize,
    pub stop: Stop,
    /// The scaled residual behind `bound.dual` (recorded through [`Kept::record`]): scaled, a
    /// dual point of the program. A near-optimal primal point's own residual is only about
    /// `√gap` from the dual optimum, so pricing over other patterns needs this one.
    pub dual_residual: Option<Vec<f64>>,
}

/// A ReLU-model point counts as feasible when its largest relative cone violation is at most
/// this (the interior point ends near 1e-11; the bar is 1e-9).
pub const FEASIBLE: f64 = 1e-9;

/// Whether the network read off a point of `prog` is a point of `prog` itself, so that its
/// objective bounds the program's optimum from above: always for the gated model and for every
/// pattern enumerated (any ReLU unit then has its pattern in the program); with sampled patterns
/// only when the point satisfies the cone constraints.
pub fn admissible(prog: &Program, violation: f64) -> bool {
    !prog.constrained || prog.patterns.complete || violation <= FEASIBLE
}

/// The dual value certified by the scaled residual `r` (in the loss's domain, see
/// [`crate::convex::Loss::into_domain`]) of `prog`, with `grad` the certificate's gradient at it.
pub fn dual_value(prog: &Program, r: &[f64], grad: &[f64]) -> f64 {
    let worst = group_norms(grad, prog.dim())
        .into_iter()
        .fold(0.0, f64::max);
    prog.loss
        .dual_along(r, prog.y, r.len(), prog.weights, worst, prog.beta)
}

/// The certified bound at a point `u` of `prog`, evaluated as `e` with the certificate's
/// gradient `grad` at `e.residual`: the primal value (the ReLU network's objective for the ReLU
/// model) and the dual value.
pub fn bound_at(prog: &Program, u: &[f64], e: &Eval, grad: &[f64]) -> Bound {
    let loss = if prog.constrained {
        e.network_loss
    } else {
        e.loss
    };
    let primal = loss + prog.penalty(u);
    Bound::new(primal, dual_value(prog, &e.residual, grad))
}

/// The dual value certified by a scaled residual `r` (any vector: an extrapolated one, or a
/// solver's multipliers; it is first moved into the loss's domain) and multipliers `mu` (ReLU
/// model; any nonnegative values are valid).
pub fn dual_of_residual(prog: &Program, r: &[f64], mu: Option<&[f64]>) -> f64 {
    let mut r = r.to_vec();
    prog.loss.into_domain(&mut r, prog.y, prog.weights);
    let mut grad = vec![0.0; prog.n_vars()];
    prog.adjoint(&r, mu, &mut grad);
    dual_value(prog, &r, &grad)
}

/// One iteration's figures, as every solver reports them to the run's observer (the interior
/// point with Clarabel's own objective, dual objective, gap and residual; the others certified).
#[derive(Clone, Debug, Serialize)]
pub struct Progress {
    pub iteration: usize,
    /// The certified primal value (the ReLU network's objective for the ReLU model).
    pub objective: f64,
    pub dual: f64,
    pub rel_gap: f64,
    /// Largest relative cone violation (ReLU model).
    pub violation: f64,
    pub active_groups: usize,
    pub seconds: f64,
}

impl Progress {
    /// The figures of a certified iteration: its bound, its point `u`'s largest cone violation
    /// and non-zero groups (of dimension `dim`).
    pub fn certified(
        iteration: usize,
        bound: &Bound,
        violation: f64,
        u: &[f64],
        dim: usize,
        seconds: f64,
    ) -> Self {
        Self {
            iteration,
            objective: bound.primal,
            dual: bound.dual,
            rel_gap: bound.rel_gap,
            violation,
            active_groups: super::program::nonzero_groups(u, dim),
            seconds,
        }
    }
}

impl Progress {
    /// The same figures with the iteration counted from `base` and the time from `seconds` (a
    /// later solve of a path).
    pub fn shifted(&self, base: usize, seconds: f64) -> Self {
        Self {
            iteration: self.iteration + base,
            seconds: self.seconds + seconds,
            ..self.clone()
        }
    }
}

impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "obj {:.6e}  gap {:.1e}  groups {}",
            self.objective, self.rel_gap, self.active_groups
        )
    }
}

/// A point with its primal value and largest relative cone violation.
type Point = (f64, Vec<f64>, f64);

/// What a solver keeps across its certificates: the best admissible point (see
/// [`admissible`]), the last point, and the best dual value.
pub struct Kept {
    pub best: Option<Point>,
    pub last: Option<Point>,
    pub dual: f64,
    /// The residual of the best dual value recorded (not of values set from outside).
    pub dual_residual: Option<Vec<f64>>,
}

impl Default for Kept {
    fn default() -> Self {
        Self {
            best: None,
            last: None,
            dual: f64::NEG_INFINITY,
            dual_residual: None,
        }
    }
}

impl Kept {
    /// Records the certificate at `u`, evaluated as `e` with the certificate's gradient `grad`
    /// (multipliers included), and returns the best bound so far.
    pub fn record(&mut self, prog: &Program, u: &[f64], e: &Eval, grad: &[f64]) -> Bound {
        let here = bound_at(prog, u, e, grad);
        let primal = here.primal;
        if here.dual > self.dual {
            self.dual = here.dual;
            self.dual_residual = Some(e.residual.clone());
        }
        if admissible(prog, e.violation) && self.best.as_ref().is_none_or(|b| primal < b.0) {
            self.best = Some((primal, u.to_vec(), e.violation));
        }
        self.last = Some((primal, u.to_vec(), e.violation));
        Bound::new(self.best.as_ref().map_or(primal, |b| b.0), self.dual)
    }

    /// The result: the best admissible point, else the last one.
    pub fn solved(self, iterations: usize, stop: Stop) -> Solved {
        let feasible = self.best.is_some();
        let (primal, u, violation) = self.best.or(self.last).expect("at least one certificate");
        Solved {
            u,
            bound: Bound::new(primal, self.dual),
            feasible,
            violation,
            iterations,
            stop,
            dual_residual: self.dual_residual,
        }
    }
}
