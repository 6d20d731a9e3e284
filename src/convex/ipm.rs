//! Interior-point reference solver (docs/convex.md §5): the program as one conic problem for
//! Clarabel (pure Rust, default build): variables `U`, epigraphs `t_j ≥ ‖u_j‖` (one second-order
//! cone of dimension d̃ + 1 per group), residuals `e = p − y` (equality rows), the loss as the
//! quadratic `‖e‖²/(2N)`, and the cone constraints as nonnegative rows. The certificate is
//! recomputed from Clarabel's primal point and constraint multipliers by the same formula as the
//! first-order solver's, so both solvers' gaps mean the same thing.

use super::certificate::Progress;
use super::certificate::{bound_at, Solved};
use super::clarabel_run::{self, Rows};
use super::program::{Augmented, Program, BLOCK};
use crate::error::{Error, Result};
use crate::train::{Budget, Stop};
use clarabel::algebra::CscMatrix;
use clarabel::solver::SupportedConeT;
use serde::Serialize;

/// Clarabel's tolerances and cap.
#[derive(Clone, Debug, Serialize)]
pub struct IpmSettings {
    pub tol: f64,
    pub max_iter: u32,
}

impl Default for IpmSettings {
    fn default() -> Self {
        Self {
            tol: 1e-9,
            max_iter: 200,
        }
    }
}

/// Constraint rows beyond which the interior point is refused outright, whatever `--solver`
/// says: a guard, not a measured limit (the largest program measured, 2·10⁵ rows with 3.3
/// million non-zeros, took 39 s; time follows the non-zeros, see `AUTO_IPM_NONZEROS`).
pub const MAX_ROWS: usize = 2_000_000;

/// The constraint rows of `prog` as a conic program.
pub fn rows(prog: &Program) -> usize {
    let (n, dim, g) = (prog.n(), prog.dim(), prog.n_groups());
    n + if prog.constrained { g * n } else { 0 } + g * (dim + 1)
}

/// The non-zeros of `prog`'s constraint matrix: d̃ per sample a group's pattern has on (the
/// residual rows), d̃ per sample and group (the cone rows, ReLU model), and the epigraphs.
pub fn nonzeros(prog: &Program) -> usize {
    let (n, dim, g) = (prog.n(), prog.dim(), prog.n_groups());
    let on: usize = prog
        .groups
        .iter()
        .map(|grp| prog.patterns.masks[grp.pattern].count())
        .sum();
    n + on * dim + if prog.constrained { g * n * dim } else { 0 } + g * (dim + 1)
}

/// Solves `prog` with Clarabel under `budget`; `on_iteration` sees every interior-point
/// iteration (Clarabel's objective, dual objective, relative gap and primal residual) and may
/// stop it.
pub fn solve(
    prog: &Program,
    settings: &IpmSettings,
    budget: &Budget,
    on_iteration: &mut dyn FnMut(&Progress) -> Option<Stop>,
) -> Result<Solved> {
    let (n, dim, g) = (prog.n(), prog.dim(), prog.n_groups());
    let nv = prog.n_vars();
    let n_rows = rows(prog);
    if n_rows > MAX_ROWS {
        return Err(Error::InvalidArgument(format!(
            "the interior-point program would have {n_rows} constraint rows (N = {n}, {g} groups), \
             more than {MAX_ROWS}: use --solver active-set"
        )));
    }
    // variables: U (nv), t (g), e (n)
    let (t0, e0) = (nv, nv + g);
    let nvar = nv + g + n;
    let mut q = vec![0.0; nvar];
    q[t0..e0].iter_mut().for_each(|v| *v = prog.beta);
    let pdiag: Vec<usize> = (e0..nvar).collect();
    let pm =
        CscMatrix::new_from_triplets(nvar, nvar, pdiag.clone(), pdiag, vec![1.0 / n as f64; n]);
    let mut rows = Rows::default();
    // e − Σ s_j D X̃ u_j = −y
    for i in 0..n {
        let x = prog.data.row(i);
        for (j, grp) in prog.groups.iter().enumerate() {
            if prog.patterns.masks[grp.pattern].on(i) {
                for (c, &xc) in x.iter().enumerate() {
                    rows.entry(i, j * dim + c, -grp.sign * xc);
                }
            }
        }
        rows.entry(i, e0 + i, 1.0);
        rows.b.push(-prog.y[i]);
    }
    rows.cones.push(SupportedConeT::ZeroConeT(n));
    // (2D − I) X̃ u_j ≥ 0, row (j, i) at n + j n + i
    let cone_rows = rows.b.len();
    if prog.constrained {
        for (j, grp) in prog.groups.iter().enumerate() {
            let mask = &prog.patterns.masks[grp.pattern];
            for i in 0..n {
                rows.cone_row(prog, mask, i, j * dim);
            }
        }
        rows.cones.push(SupportedConeT::NonnegativeConeT(g * n));
    }
    // (t_j, u_j) ∈ SOC
    rows.epigraphs(g, t0, 0, dim);
    let program = rows.program(pm, q);
    let run = clarabel_run::solve(
        program,
        settings.tol,
        settings.max_iter,
        budget,
        on_iteration,
    )?;
    let (sol, stop) = (run.solution, run.stop);
    let u = sol.x[..nv].to_vec();
    // the multipliers of the cone rows, in the program's block layout
    let mut mu = vec![
        0.0;
        if prog.constrained {
            prog.multiplier_len()
        } else {
            0
        }
    ];
    if prog.constrained {
        for start in (0..n).step_by(BLOCK) {
            let len = BLOCK.min(n - start);
            for j in 0..g {
                for k in 0..len {
                    mu[start * g + j * len + k] = sol.z[cone_rows + j * n + start + k].max(0.0);
                }
            }
        }
    }
    let mut grad = vec![0.0; nv];
    let aug = prog.constrained.then_some(Augmented { mu: &mu, rho: 0.0 });
    let e = prog.eval(&u, aug.as_ref(), &mut grad, None);
    let bound = bound_at(prog, &u, &e, &grad);
    Ok(Solved {
        feasible: super::certificate::admissible(prog, e.violation),
        u,
        bound,
        violation: e.violation,
        iterations: sol.iterations as usize,
        stop,
    })
}
