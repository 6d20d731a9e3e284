//! Interior-point reference solver (docs/convex.md §5): the program as one conic problem for
//! Clarabel (pure Rust, default build) in sample form ([`sample_form`]). The certificate is
//! recomputed from Clarabel's primal point and constraint multipliers by the same formula as the
//! other solvers', so every solver's gap means the same thing.

use super::certificate::{bound_at, Kept, Progress, Solved};
use super::clarabel_run::{self, Conic, ConvexRows, Rows};
use super::loss::Loss;
use super::newton;
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

/// The loss's own variables and rows per sample: the hinge's `ξ ≥ 0, ξ ≥ 1 − y p` (one
/// variable, two rows). The logistic loss is solved by Newton steps ([`super::newton`]) whose
/// programs have the squared loss's form.
fn loss_size(loss: Loss) -> (usize, usize) {
    match loss {
        Loss::Squared | Loss::Logistic => (0, 0),
        Loss::Hinge => (1, 2),
    }
}

/// The constraint rows of `prog` as a conic program.
pub fn rows(prog: &Program) -> usize {
    let (n, dim, g) = (prog.n(), prog.dim(), prog.n_groups());
    n + loss_size(prog.loss).1 * n + if prog.constrained { g * n } else { 0 } + g * (dim + 1)
}

/// The non-zeros of `prog`'s constraint matrix: d̃ per sample a group's pattern has on (the
/// prediction rows), d̃ per sample and group (the cone rows, ReLU model), the loss's rows and
/// the epigraphs.
pub fn nonzeros(prog: &Program) -> usize {
    let (n, dim, g) = (prog.n(), prog.dim(), prog.n_groups());
    let on: usize = prog
        .groups
        .iter()
        .map(|grp| prog.patterns.masks[grp.pattern].count())
        .sum();
    n + on * dim
        + loss_size(prog.loss).1 * n
        + if prog.constrained { g * n * dim } else { 0 }
        + g * (dim + 1)
}

/// Which cone rows a sample-form program holds: every sample of every group (the full
/// program), or given samples per group (a working set's, [`super::active_set`]).
pub enum ConeRows<'r> {
    All,
    Chosen(&'r [Vec<usize>]),
}

/// Where a sample-form program keeps what the certificate needs.
pub struct SampleForm {
    pub program: Conic,
    /// `U` is `x[..n_vars]`.
    pub n_vars: usize,
    /// The cone rows start here, in the order of [`ConeRows`] (group by group).
    pub cone_rows: usize,
}

/// `prog` as one conic program over its samples: variables `U`, epigraphs `t_j ≥ ‖u_j‖` (one
/// second-order cone of dimension d̃ + 1 per group), the prediction's residual `e = p − y`
/// (squared loss; `e = p` for the hinge) as equality rows `e − Σ s_j D_j X̃ u_j = −y`, the loss
/// of `e` (the quadratic `Σ w_i e_i²/(2N)`, or the hinge's rows), and the cone constraints
/// `cones` as nonnegative rows. The multipliers of the equality rows are `−r`, the scaled
/// residual of the dual certificate.
pub fn sample_form(prog: &Program, cones: ConeRows) -> SampleForm {
    assert!(
        prog.loss != Loss::Logistic,
        "the logistic loss is solved by Newton steps on its quadratic model"
    );
    let (n, dim, g) = (prog.n(), prog.dim(), prog.n_groups());
    let nv = prog.n_vars();
    let (per_sample, _) = loss_size(prog.loss);
    // variables: U (nv), t (g), e (n), the loss's (per_sample · n)
    let (t0, e0) = (nv, nv + g);
    let aux0 = e0 + n;
    let nvar = aux0 + per_sample * n;
    let nf = n as f64;
    let mut q = vec![0.0; nvar];
    q[t0..e0].iter_mut().for_each(|v| *v = prog.beta);
    let pm = if prog.loss == Loss::Squared {
        let pdiag: Vec<usize> = (e0..aux0).collect();
        let curvature = (0..n)
            .map(|i| prog.weights.map_or(1.0, |w| w[i]) / nf)
            .collect();
        CscMatrix::new_from_triplets(nvar, nvar, pdiag.clone(), pdiag, curvature)
    } else {
        // the hinge's (weighted) average of ξ
        q[aux0..]
            .iter_mut()
            .enumerate()
            .for_each(|(i, v)| *v = prog.weights.map_or(1.0, |w| w[i]) / nf);
        CscMatrix::zeros((nvar, nvar))
    };
    let mut rows = Rows::default();
    // e − Σ s_j D X̃ u_j = −y (squared) or 0
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
        rows.b.push(if prog.loss == Loss::Squared {
            -prog.y[i]
        } else {
            0.0
        });
    }
    rows.cones.push(SupportedConeT::ZeroConeT(n));
    loss_rows(&mut rows, prog.loss, prog.y, e0, aux0);
    // (2D − I) X̃ u_j ≥ 0
    let cone_rows = rows.b.len();
    if prog.constrained {
        for (j, grp) in prog.groups.iter().enumerate() {
            let mask = &prog.patterns.masks[grp.pattern];
            match cones {
                ConeRows::All => (0..n).for_each(|i| rows.cone_row(prog, mask, i, j * dim)),
                ConeRows::Chosen(chosen) => chosen[j]
                    .iter()
                    .for_each(|&i| rows.cone_row(prog, mask, i, j * dim)),
            }
        }
        let count = rows.b.len() - cone_rows;
        if count > 0 {
            rows.cones.push(SupportedConeT::NonnegativeConeT(count));
        }
    }
    // (t_j, u_j) ∈ SOC
    rows.epigraphs(g, t0, 0, dim);
    SampleForm {
        program: rows.program(pm, q),
        n_vars: nv,
        cone_rows,
    }
}

/// The hinge's rows on the predictions `e` (at `e0`), with `ξ_i` at `aux0 + i`: `ξ_i ≥ 0` and
/// `ξ_i + y_i e_i − 1 ≥ 0`, as `b − A x` in the nonnegative cone.
fn loss_rows(rows: &mut Rows, loss: Loss, y: &[f64], e0: usize, aux0: usize) {
    if loss != Loss::Hinge {
        return;
    }
    let n = y.len();
    for i in 0..n {
        let r = rows.b.len();
        rows.entry(r, aux0 + i, -1.0);
        rows.b.push(0.0);
    }
    for (i, &yi) in y.iter().enumerate() {
        let r = rows.b.len();
        rows.entry(r, aux0 + i, -1.0);
        rows.entry(r, e0 + i, -yi);
        rows.b.push(-1.0);
    }
    rows.cones.push(SupportedConeT::NonnegativeConeT(2 * n));
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
    let (n, g) = (prog.n(), prog.n_groups());
    let nv = prog.n_vars();
    let n_rows = rows(prog);
    if n_rows > MAX_ROWS {
        return Err(Error::InvalidArgument(format!(
            "the interior-point program would have {n_rows} constraint rows (N = {n}, {g} groups), \
             more than {MAX_ROWS}: use `convex.solver` active-set"
        )));
    }
    if prog.loss == Loss::Logistic {
        return solve_by_newton(prog, settings, budget, on_iteration);
    }
    let sol = solve_conic(prog, settings.tol, settings.max_iter, budget, on_iteration)?;
    let mut grad = vec![0.0; nv];
    let aug = prog.constrained.then_some(Augmented {
        mu: &sol.mu,
        rho: 0.0,
    });
    let mut e = prog.eval(&sol.u, aug.as_ref(), &mut grad, None);
    if prog.loss == Loss::Hinge {
        // the hinge has no derivative on the margin, where the optimum keeps its support
        // vectors: the certificate takes the solver's dual point
        e.residual = sol.residual.clone();
        prog.adjoint(&e.residual, aug.as_ref().map(|a| a.mu), &mut grad);
    }
    let bound = bound_at(prog, &sol.u, &e, &grad);
    // the dual point to price with: Clarabel's own (its multipliers of the prediction rows) where
    // it certifies more than the primal point's residual, which is only about √gap from the
    // dual optimum
    let solvers =
        super::certificate::dual_of_residual(prog, &sol.residual, aug.as_ref().map(|a| a.mu));
    let dual_residual = if solvers > bound.dual {
        sol.residual
    } else {
        e.residual
    };
    Ok(Solved {
        feasible: super::certificate::admissible(prog, e.violation),
        u: sol.u,
        bound,
        violation: e.violation,
        iterations: sol.iterations,
        stop: sol.stop,
        dual_residual: Some(dual_residual),
    })
}

/// The logistic loss by Newton steps, each quadratic model solved by Clarabel in sample form, the
/// certificate recomputed at every step (the loss's gradient there, the model's multipliers);
/// `on_iteration` sees each step's certificate. Ends when the gap is below Clarabel's tolerance
/// or a step no longer decreases the objective (the point is the model's own minimiser to the
/// accuracy of its solve).
fn solve_by_newton(
    prog: &Program,
    settings: &IpmSettings,
    budget: &Budget,
    on_iteration: &mut dyn FnMut(&Progress) -> Option<Stop>,
) -> Result<Solved> {
    let clock = std::time::Instant::now();
    let nv = prog.n_vars();
    let mut u = vec![0.0; nv];
    // the last model's multipliers: its cone rows' and its prediction rows' (a dual point of
    // the logistic program too, after `into_domain`)
    let mut mu = Vec::new();
    let mut model_residual: Option<Vec<f64>> = None;
    let mut grad = vec![0.0; nv];
    let mut kept = Kept::default();
    let mut iterations = 0;
    let mut step = 0;
    // the certificate at `u` from the loss's gradient there and from the model's dual point,
    // each with the model's cone multipliers: the gradient alone stopped at gaps of 3e-6 on an
    // enumerated ReLU program whose model's own dual point certifies 1e-9
    let mut certify = |u: &[f64], mu: &[f64], model_residual: Option<&[f64]>, kept: &mut Kept| {
        let aug = (!mu.is_empty()).then_some(Augmented { mu, rho: 0.0 });
        let mut e = prog.eval(u, aug.as_ref(), &mut grad, None);
        let mut bound = kept.record(prog, u, &e, &grad);
        if let Some(r) = model_residual {
            let mut r = r.to_vec();
            prog.loss.into_domain(&mut r, prog.y, prog.weights);
            prog.adjoint(&r, aug.as_ref().map(|a| a.mu), &mut grad);
            e.residual = r;
            bound = kept.record(prog, u, &e, &grad);
        }
        (bound, e.violation)
    };
    let stop = loop {
        let (bound, violation) = certify(&u, &mu, model_residual.as_deref(), &mut kept);
        let seconds = clock.elapsed().as_secs_f64();
        let told = on_iteration(&Progress::certified(
            step,
            &bound,
            violation,
            &u,
            prog.dim(),
            seconds,
        ))
        .or_else(|| budget.exhausted());
        if kept.best.is_some() && bound.rel_gap.abs() <= settings.tol {
            break Stop::Converged;
        }
        if let Some(s) = told {
            break s;
        }
        if step >= newton::MAX_STEPS {
            break Stop::IterationLimit;
        }
        step += 1;
        let taken = newton::step(prog, &mut u, newton::Origin::Feasible, &mut |model| {
            let sol = solve_conic(model, settings.tol, settings.max_iter, budget, &mut |_| {
                None
            })?;
            iterations += sol.iterations;
            mu = sol.mu;
            model_residual = Some(sol.residual);
            Ok((sol.u, sol.stop))
        })?;
        if taken.stop != Stop::Optimal && taken.stop != Stop::IterationLimit {
            break taken.stop;
        }
        if taken.length == 0.0 || taken.before - taken.after <= settings.tol * taken.before.abs() {
            certify(&u, &mu, model_residual.as_deref(), &mut kept);
            break Stop::Optimal;
        }
    };
    Ok(kept.solved(iterations, stop))
}

/// What one Clarabel solve of a sample-form program gives.
struct ConicSolution {
    u: Vec<f64>,
    /// The cone rows' multipliers in the program's block layout (empty for the gated model).
    mu: Vec<f64>,
    /// The prediction rows' dual point ([`solver_residual`]).
    residual: Vec<f64>,
    iterations: usize,
    stop: Stop,
}

/// `prog` in sample form with every cone row, solved by Clarabel to `tol`.
fn solve_conic(
    prog: &Program,
    tol: f64,
    max_iter: u32,
    budget: &Budget,
    on_iteration: &mut dyn FnMut(&Progress) -> Option<Stop>,
) -> Result<ConicSolution> {
    let (n, g) = (prog.n(), prog.n_groups());
    let form = sample_form(prog, ConeRows::All);
    let run = clarabel_run::solve(form.program, tol, max_iter, budget, on_iteration)?;
    let sol = run.solution;
    let mut mu = Vec::new();
    if prog.constrained {
        mu = vec![0.0; prog.multiplier_len()];
        for start in (0..n).step_by(BLOCK) {
            let len = BLOCK.min(n - start);
            for j in 0..g {
                for k in 0..len {
                    mu[start * g + j * len + k] =
                        sol.z[form.cone_rows + j * n + start + k].max(0.0);
                }
            }
        }
    }
    Ok(ConicSolution {
        u: sol.x[..form.n_vars].to_vec(),
        mu,
        residual: solver_residual(prog, &sol.z[..n]),
        iterations: sol.iterations as usize,
        stop: run.stop,
    })
}

/// The scaled residual `r = −z` of the prediction rows' multipliers `z`, moved into the loss's
/// domain.
pub fn solver_residual(prog: &Program, z: &[f64]) -> Vec<f64> {
    let mut r: Vec<f64> = z.iter().map(|v| -v).collect();
    prog.loss.into_domain(&mut r, prog.y, prog.weights);
    r
}
