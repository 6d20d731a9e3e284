//! Proximal Newton steps for the logistic loss (docs/convex.md §6). At the gated prediction `p`
//! the loss is replaced by its second-order model
//!
//! ```text
//! ℓ(p_i + δ) ≈ ℓ(p_i) + ℓ'(p_i) δ + ½ ℓ''(p_i) δ² = ½ w_i (p_i + δ − z_i)² + const,
//! w_i = ℓ''(p_i),  z_i = p_i − ℓ'(p_i) / w_i,
//! ```
//!
//! which is the squared-loss program with weights `w` and targets `z`
//! ([`Program::quadratic_model`]): the conic solvers solve it with second-order and
//! nonnegative cones only. A backtracking search on the true objective along the segment to
//! the model's solution follows; the feasible set is convex, so the segment stays in it, and
//! the step is the whole segment near the optimum, where the steps converge quadratically.
//!
//! Why not the exponential cone: Clarabel, given `log(1 + e^{−yp}) ≤ τ` as two exponential cones
//! per sample, stalled at relative gaps of 1e-5 to 2e-4 on the enumerated ReLU programs of 2-D
//! labels (N = 40 and 60; equilibration, step fraction, regularisation and the direct solver
//! changed nothing), where it solves the squared loss's program to 1e-9.

use super::program::Program;
use crate::error::Result;
use crate::train::Stop;

/// Curvatures below this are raised to it: the logistic loss's `ℓ''` underflows for margins
/// beyond ~700, and `z = p − ℓ'/w` needs `w > 0`. More curvature than the loss has only
/// shortens the step, which the line search corrects.
const MIN_CURVATURE: f64 = 1e-10;

/// Halvings of the step before the search gives up (a step of 2⁻⁴⁰ of the segment moves nothing
/// a certificate can see).
const MAX_HALVINGS: usize = 40;

/// A solver of a quadratic model: its solution and how its solver ended.
pub type ModelSolver<'s> = dyn FnMut(&Program) -> Result<(Vec<f64>, Stop)> + 's;

/// One Newton step: the objective before and after, the fraction of the segment taken (0 when
/// no point of it decreased the objective), and how the model's solve ended.
pub struct Step {
    pub before: f64,
    pub after: f64,
    pub length: f64,
    pub stop: Stop,
}

/// The program's objective at `u`: its loss at the gated prediction plus the group penalty.
pub fn objective(prog: &Program, u: &[f64]) -> f64 {
    let mut grad = vec![0.0; u.len()];
    prog.eval(u, None, &mut grad, None).loss + prog.penalty(u)
}

/// Newton steps per solve at most: they converge quadratically near the optimum (measured: the
/// interior point took 5–6 on the enumerated 2-D label sets of the tests, N = 40).
pub const MAX_STEPS: usize = 50;

/// Where a step starts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A point of the program: the line search keeps the objective from rising.
    Feasible,
    /// A point that may violate constraints the program has just gained (a working set's new
    /// cone rows): its objective is no yardstick, and the model's solution is taken whole.
    Infeasible,
}

/// One proximal Newton step on `prog` from `u` (updated in place): the quadratic model at `u`
/// solved by `solve_model`, then the line search. A model solve stopped from outside (budget, interrupt, failure) leaves `u` as it was.
pub fn step(
    prog: &Program,
    u: &mut [f64],
    from: Origin,
    solve_model: &mut ModelSolver,
) -> Result<Step> {
    let mut grad = vec![0.0; u.len()];
    let e = prog.eval(u, None, &mut grad, None);
    let before = e.loss + prog.penalty(u);
    let (mut w, mut z) = (Vec::with_capacity(prog.n()), Vec::with_capacity(prog.n()));
    for (i, &p) in e.prediction.iter().enumerate() {
        let y = prog.y[i];
        // a sample of weight ω has the model ½ ω ℓ'' (p + δ − z)²: the same z, ω times the weight
        let c = prog.loss.curvature(p, y).max(MIN_CURVATURE);
        w.push(prog.weights.map_or(1.0, |w| w[i]) * c);
        z.push(p - prog.loss.derivative(p, y) / c);
    }
    let model = prog.quadratic_model(&z, &w);
    let (target, stop) = solve_model(&model)?;
    let unchanged = Step {
        before,
        after: before,
        length: 0.0,
        stop,
    };
    if stop != Stop::Optimal && stop != Stop::IterationLimit {
        return Ok(unchanged);
    }
    let mut length = 1.0;
    let mut trial = vec![0.0; u.len()];
    for _ in 0..=MAX_HALVINGS {
        for ((t, &a), &b) in trial.iter_mut().zip(u.iter()).zip(&target) {
            *t = a + length * (b - a);
        }
        let after = objective(prog, &trial);
        if after <= before || from == Origin::Infeasible {
            u.copy_from_slice(&trial);
            return Ok(Step {
                before,
                after,
                length,
                stop,
            });
        }
        length *= 0.5;
    }
    Ok(unchanged)
}
