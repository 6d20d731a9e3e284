//! The convex model's conic programs: their constraint rows ([`Rows`]) and their solve under the
//! run's budget ([`solve`], through [`crate::conic`]). Both conic solvers of the convex model
//! ([`super::ipm`], [`super::active_set`]) run through here.

use super::certificate::Progress;
use super::patterns::Mask;
use super::program::Program;
use crate::conic;
use crate::error::{Error, Result};
use crate::train::{Budget, Stop};
use clarabel::solver::{DefaultSolution, SupportedConeT};

pub use crate::conic::{Conic, Rows};

/// The convex model's own constraint rows.
pub trait ConvexRows {
    /// The ReLU cone row `(2D − I)_ii x̃_iᵀ u ≥ 0` of the pattern `mask` and sample `i`, for the
    /// group whose variables start at `col`, as `−s x̃_iᵀ u + slack = 0` with `slack ≥ 0` (the
    /// caller adds the nonnegative cone once all such rows are in).
    fn cone_row(&mut self, prog: &Program, mask: &Mask, i: usize, col: usize);

    /// `t_w ≥ ‖u_w‖` for `count` groups, `t_w` at `t0 + w` and `u_w` at `u0 + w d̃`: one
    /// second-order cone of dimension d̃ + 1 each.
    fn epigraphs(&mut self, count: usize, t0: usize, u0: usize, dim: usize);
}

impl ConvexRows for Rows {
    fn cone_row(&mut self, prog: &Program, mask: &Mask, i: usize, col: usize) {
        let s = if mask.on(i) { 1.0 } else { -1.0 };
        let r = self.b.len();
        for (c, &x) in prog.data.row(i).iter().enumerate() {
            self.entry(r, col + c, -s * x);
        }
        self.b.push(0.0);
    }

    fn epigraphs(&mut self, count: usize, t0: usize, u0: usize, dim: usize) {
        for w in 0..count {
            let r = self.b.len();
            self.entry(r, t0 + w, -1.0);
            for c in 0..dim {
                self.entry(r + 1 + c, u0 + w * dim + c, -1.0);
            }
            self.b.extend(std::iter::repeat_n(0.0, dim + 1));
            self.cones.push(SupportedConeT::SecondOrderConeT(dim + 1));
        }
    }
}

/// What a run gives: Clarabel's solution and how it ended in the interface's terms (`Optimal`
/// when Clarabel solved it, the budget's or observer's reason when they stopped it).
pub struct Run {
    pub solution: DefaultSolution<f64>,
    pub stop: Stop,
}

/// Solves `program` to tolerance `tol` in at most `max_iter` iterations; `on_iteration` sees
/// every iteration (Clarabel's own objective, dual objective, relative gap and primal residual)
/// and may stop it, as may `budget`.
pub fn solve(
    program: Conic,
    tol: f64,
    max_iter: u32,
    budget: &Budget,
    on_iteration: &mut dyn FnMut(&Progress) -> Option<Stop>,
) -> Result<Run> {
    let solved = conic::solve(program, tol, max_iter, &mut |it| {
        let p = Progress {
            iteration: it.iteration,
            objective: it.objective,
            dual: it.dual,
            rel_gap: it.rel_gap,
            violation: it.violation,
            active_groups: 0,
            seconds: it.seconds,
        };
        on_iteration(&p).or_else(|| budget.exhausted())
    })?;
    let stop = solved.stop();
    let solution = solved.solution;
    if solution.x.iter().any(|v| !v.is_finite()) {
        return Err(Error::Solver(format!(
            "Clarabel returned non-finite values (status {:?})",
            solution.status
        )));
    }
    Ok(Run { solution, stop })
}
