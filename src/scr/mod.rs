//! Sequential convex relaxation (SCR) of ReLU-network training (docs/scr.md).
//!
//! Any number of hidden ReLU layers, linear or ReLU output. Each SCR iteration solves the convex
//! program (8) — (8_L) for several hidden layers
//! (nuclear-norm heuristics of the rank reformulations of the bilinear constraints, with the
//! affine constraints hard) through a [`SubproblemSolver`], then sets every bilinear constraint's
//! parameters to minus the optimum: `(X, Y) := (−A*, −B*)`.
//!
//! ```
//! use cvxnn::{data::planted_teacher, net::{Activation, Architecture}};
//! use cvxnn::scr::{self, AdmmBackend, ScrProblem, ScrSettings};
//! use cvxnn::train::{quiet, Quiet, Start};
//! let arch = Architecture::parse("3-3-2", Activation::Relu).unwrap();
//! let t = planted_teacher(&arch, 30, 1).unwrap();
//! let problem = ScrProblem::new(&t.data.x, &t.data.y, &arch).unwrap();
//! let settings = ScrSettings { max_iter: 2, ..Default::default() };
//! let run = scr::run(&problem, &Start::Zero, &settings,
//!                    &mut AdmmBackend::default(), &mut quiet(&mut Quiet)).unwrap();
//! assert_eq!(run.history.len(), 2);
//! assert!(run.summary.output_error.is_finite());
//! ```

mod admm;
mod backend;
#[cfg(feature = "sdp")]
mod clarabel_backend;
pub mod formulation;

pub use admm::{svt_wide, AdmmBackend};
pub use backend::{
    Backend, ClarabelBackend, SolveStatus, SubSolution, Subproblem, SubproblemSolver,
};
pub use formulation::{Iterate, Layout, ScrProblem};

use crate::error::{Error, Result};
use crate::linalg::Matrix;
use crate::net::Mlp;
use crate::train::{random_network, InitScheme, Monitor, Start, Stop};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// The parameters of one hidden layer k: `X_k, Y_k` for its product constraint
/// `W_{k+1} H_k = C_k`, and `x_k, y_k` (stored as matrices of the shape of `H_k`, the diagonals of
/// `X_d, Y_d`) for its complementarity `H_k ∘ S_k = 0`.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerParams {
    /// `X_k` (n_{k+2} × n_{k+1}), paired with `W_{k+1}`.
    pub xw: Matrix,
    /// `Y_k` (n_{k+1} × N), paired with `H_k` in the product term.
    pub yh: Matrix,
    /// `x_k` (n_{k+1} × N), paired with `H_k` in the complementarity terms.
    pub xh: Matrix,
    /// `y_k` (n_{k+1} × N), paired with `S_k`.
    pub ys: Matrix,
}

/// The parameters of (8) / (8_L): one [`LayerParams`] per hidden layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    pub layers: Vec<LayerParams>,
}

impl Params {
    /// All zero (the seed's "zero" start).
    pub fn zeros(p: &ScrProblem) -> Self {
        let n = p.n_samples();
        let layers = (0..p.n_hidden_layers())
            .map(|k| {
                let (n_h, n_o) = (p.hidden_width(k), p.widths[k + 2]);
                LayerParams {
                    xw: Matrix::zeros(n_o, n_h),
                    yh: Matrix::zeros(n_h, n),
                    xh: Matrix::zeros(n_h, n),
                    ys: Matrix::zeros(n_h, n),
                }
            })
            .collect();
        Self { layers }
    }

    /// Independent N(0, 1) entries (the seed's "random" start), layer by layer.
    pub fn random(p: &ScrProblem, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut g =
            |r: usize, c: usize| Matrix::from_fn(r, c, |_, _| rng.sample::<f64, _>(StandardNormal));
        let n = p.n_samples();
        let layers = (0..p.n_hidden_layers())
            .map(|k| {
                let (n_h, n_o) = (p.hidden_width(k), p.widths[k + 2]);
                LayerParams {
                    xw: g(n_o, n_h),
                    yh: g(n_h, n),
                    xh: g(n_h, n),
                    ys: g(n_h, n),
                }
            })
            .collect();
        Self { layers }
    }
}

/// The parameters of the first SCR subproblem for `start`: zero, Gaussian (the seed's "random"
/// start), or minus the lifted point of a network (a perturbed teacher, a saved model, a He or
/// Glorot draw).
pub fn start_params(start: &Start, p: &ScrProblem) -> Result<Params> {
    match start {
        Start::Zero => Ok(Params::zeros(p)),
        Start::Random {
            scheme: InitScheme::Gaussian,
            seed,
        } => Ok(Params::random(p, *seed)),
        Start::Random { scheme, seed } => {
            let net = random_network(&p.architecture(), *scheme, *seed);
            Iterate::from_model(&net, p)?.next_params(p)
        }
        Start::Model { model, .. } => Iterate::from_model(model, p)?.next_params(p),
    }
}

/// How SCR reads `start`, in one line for reports.
pub fn start_detail(start: &Start) -> String {
    match start {
        Start::Zero
        | Start::Random {
            scheme: InitScheme::Gaussian,
            ..
        } => start.detail(),
        _ => format!(
            "minus the lifted point (W, H, H, S) of the network: {}",
            start.detail()
        ),
    }
}

/// Settings of the SCR outer loop.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScrSettings {
    /// λ_k, weight of the product term ‖M_k‖_* of each hidden layer: one value for all layers, or
    /// one per hidden layer.
    pub lambda: Vec<f64>,
    /// μ_k, weight of each complementarity term ‖m‖_* of hidden layer k (one value or one per layer).
    pub mu: Vec<f64>,
    /// Iteration cap.
    pub max_iter: usize,
    /// Stop when both violations (Frobenius norms) are at most this.
    pub tol: f64,
    /// Also stop when the relative output error of the weights' forward pass is at most this.
    pub output_tol: Option<f64>,
    /// Extrapolation β ≥ 0: the next parameters are minus `x_k + β (x_k − x_{k−1})` instead of
    /// minus `x_k` (0 is the method as published; a feasible fixed point stays fixed for any β).
    #[serde(default)]
    pub extrapolation: f64,
}

impl Default for ScrSettings {
    fn default() -> Self {
        Self {
            lambda: vec![1.0],
            mu: vec![1.0],
            max_iter: 50,
            tol: 1e-6,
            output_tol: None,
            extrapolation: 0.0,
        }
    }
}

impl ScrSettings {
    /// Rejects weights that are not positive and finite, an iteration cap of 0, and negative
    /// tolerances (errors name the request keys, `scr.lambda`, …).
    pub fn validate(&self) -> Result<()> {
        for (key, list) in [("scr.lambda", &self.lambda), ("scr.mu", &self.mu)] {
            if list.is_empty() {
                return Err(Error::setting(key, "needs at least one value"));
            }
            for &v in list {
                if !(v.is_finite() && v > 0.0) {
                    return Err(Error::setting(
                        key,
                        format!("must be positive and finite, got {v}"),
                    ));
                }
            }
        }
        if self.max_iter == 0 {
            return Err(Error::setting("scr.max_iter", "must be at least 1"));
        }
        if !(self.extrapolation.is_finite() && (0.0..=10.0).contains(&self.extrapolation)) {
            return Err(Error::setting(
                "scr.extrapolation",
                format!("must be in [0, 10], got {}", self.extrapolation),
            ));
        }
        for (key, v) in [
            ("scr.tol", Some(self.tol)),
            ("scr.output_tol", self.output_tol),
        ] {
            match v {
                Some(v) if !(v.is_finite() && v >= 0.0) => {
                    return Err(Error::setting(
                        key,
                        format!("must be nonnegative and finite, got {v}"),
                    ))
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// λ_k and μ_k for each of `n_hidden` layers (a single value applies to every layer).
    pub fn layer_weights(&self, n_hidden: usize) -> Result<(Vec<f64>, Vec<f64>)> {
        let expand = |key: &str, list: &[f64]| match list.len() {
            1 => Ok(vec![list[0]; n_hidden]),
            len if len == n_hidden => Ok(list.to_vec()),
            len => Err(Error::setting(
                key,
                format!("has {len} values; give one, or one per hidden layer ({n_hidden})"),
            )),
        };
        Ok((
            expand("scr.lambda", &self.lambda)?,
            expand("scr.mu", &self.mu)?,
        ))
    }
}

/// One SCR iteration, as recorded in the history and the JSON report.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IterationRecord {
    pub iteration: usize,
    /// `(Σ_k ‖W_{k+1} H_k − C_k‖_F²)^{1/2}` at the subproblem's optimum (one hidden layer:
    /// `‖W_2 H − (Z_2 − B_2)‖_F`).
    pub product_violation: f64,
    /// `(Σ_k ‖H_k ∘ S_k‖_F²)^{1/2}` at the subproblem's optimum.
    pub complementarity_violation: f64,
    /// `‖Y − f(X)‖_F / ‖Y‖_F` of the weights' forward pass.
    pub output_error: f64,
    /// Objective of (8) as the backend reports it.
    pub objective: f64,
    /// `solved`, `almost_solved` or `failed: …`.
    pub status: String,
    /// The backend's own iterations.
    pub solver_iterations: u32,
    /// The backend's final primal residual (`null` if it reports none).
    pub primal_residual: Option<f64>,
    /// The backend's final dual residual.
    pub dual_residual: Option<f64>,
    /// The tolerance the subproblem was solved to (ADMM: absolute and relative, per √dimension;
    /// looser while inexact SCR allows, see docs/admm.md); `null` for the interior point.
    #[serde(default)]
    pub tolerance: Option<f64>,
    /// Wall-clock seconds of this iteration (subproblem and bookkeeping).
    pub seconds: f64,
}

impl IterationRecord {
    /// Iteration `iteration`, whose subproblem answer `sol` took the time since `t0`, with its
    /// `(product, complementarity)` violations, output error and objective (NaN when the
    /// subproblem failed).
    fn new(
        iteration: usize,
        (product_violation, complementarity_violation): (f64, f64),
        (output_error, objective): (f64, f64),
        sol: &SubSolution,
        t0: Instant,
    ) -> Self {
        Self {
            iteration,
            product_violation,
            complementarity_violation,
            output_error,
            objective,
            status: sol.status.label(),
            solver_iterations: sol.solver_iterations,
            primal_residual: sol.residuals.map(|r| r.0),
            dual_residual: sol.residuals.map(|r| r.1),
            tolerance: sol.tolerance,
            seconds: t0.elapsed().as_secs_f64(),
        }
    }
}

/// Final figures of a run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunSummary {
    pub output_error: f64,
    /// Mean squared error of the final weights.
    pub mse: f64,
    pub product_violation: f64,
    pub complementarity_violation: f64,
    pub iterations: usize,
    pub stop_reason: Stop,
    pub seconds: f64,
}

/// A finished SCR run: history, summary and the trained network.
#[derive(Clone, Debug)]
pub struct ScrRun {
    /// The subproblem solver's name.
    pub backend: String,
    pub history: Vec<IterationRecord>,
    pub summary: RunSummary,
    pub model: Mlp,
}

/// Runs SCR from `start` until the violations reach `tol`, the output error `output_tol`,
/// `max_iter`, or the monitor says stop (time limit, interrupt, observer). The monitor sees every
/// iteration; the backend polls its budget inside long subproblems.
pub fn run(
    problem: &ScrProblem,
    start: &Start,
    settings: &ScrSettings,
    backend: &mut dyn SubproblemSolver,
    monitor: &mut Monitor,
) -> Result<ScrRun> {
    settings.validate()?;
    let (lambda, mu) = settings.layer_weights(problem.n_hidden_layers())?;
    let clock = Instant::now();
    let mut params = start_params(start, problem)?;
    let mut history: Vec<IterationRecord> = Vec::new();
    let mut last: Option<(Iterate, Mlp)> = None;
    let mut stop = Stop::IterationLimit;
    backend.begin_run(monitor.budget());
    for iteration in 1..=settings.max_iter {
        let t0 = Instant::now();
        backend.set_violation_hint(
            history
                .last()
                .map(|r| r.product_violation + r.complementarity_violation),
        );
        let sol = backend.solve(&Subproblem {
            problem,
            params: &params,
            lambda: &lambda,
            mu: &mu,
        })?;
        let cut_short = match sol.status {
            SolveStatus::Failed(_) if last.is_none() => {
                return Err(Error::Solver(format!(
                    "{} could not solve the first SCR subproblem ({})",
                    backend.name(),
                    sol.status.label()
                )));
            }
            SolveStatus::Failed(_) => {
                let nan = (f64::NAN, f64::NAN);
                history.push(IterationRecord::new(iteration, nan, nan, &sol, t0));
                stop = Stop::SolverFailed;
                break;
            }
            // a subproblem cut short is dropped, unless it is all the run has
            SolveStatus::Stopped(why) if last.is_some() => {
                stop = why;
                break;
            }
            SolveStatus::Stopped(why) => Some(why),
            _ => None,
        };
        let model = sol.iterate.model(problem)?;
        let violations = (
            sol.iterate.product_violation()?,
            sol.iterate.complementarity_violation(problem)?,
        );
        let output_error = model.relative_error(&problem.x, &problem.y)?;
        let rec = IterationRecord::new(
            iteration,
            violations,
            (output_error, sol.objective),
            &sol,
            t0,
        );
        let it = sol.iterate;
        params = match (&last, settings.extrapolation) {
            (Some((prev, _)), beta) if beta > 0.0 => {
                it.extrapolated(prev, beta)?.next_params(problem)?
            }
            _ => it.next_params(problem)?,
        };
        let told = monitor.iteration(
            "scr",
            iteration,
            Some(settings.max_iter),
            rec.output_error,
            &rec,
        );
        let converged =
            rec.product_violation <= settings.tol && rec.complementarity_violation <= settings.tol;
        let output_ok = settings.output_tol.is_some_and(|t| rec.output_error <= t);
        history.push(rec);
        last = Some((it, model));
        if converged {
            stop = Stop::Converged;
            break;
        }
        if output_ok {
            stop = Stop::OutputTolerance;
            break;
        }
        if let Some(why) = cut_short.or(told) {
            stop = why;
            break;
        }
    }
    let (it, model) = last.expect("the first iteration either succeeded or returned an error");
    let summary = RunSummary {
        output_error: model.relative_error(&problem.x, &problem.y)?,
        mse: model.mse(&problem.x, &problem.y)?,
        product_violation: it.product_violation()?,
        complementarity_violation: it.complementarity_violation(problem)?,
        iterations: history.len(),
        stop_reason: stop,
        seconds: clock.elapsed().as_secs_f64(),
    };
    Ok(ScrRun {
        backend: backend.name().to_string(),
        history,
        summary,
        model,
    })
}

impl std::fmt::Display for IterationRecord {
    /// `prod 1.2e-7  comp 3.4e-3`: the violations, for progress lines.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "prod {:.1e}  comp {:.1e}",
            self.product_violation, self.complementarity_violation
        )
    }
}
