//! The subproblem-solver trait: one SCR step's convex program (8), solved by some backend.

use super::formulation::{Iterate, ScrProblem};
use super::{AdmmBackend, Params};
use crate::error::Result;
use crate::train::{Budget, Stop};
use serde::{Deserialize, Serialize};

/// One instance of (8) / (8_L): the data, the parameters of this SCR iteration and the weights
/// (one λ and one μ per hidden layer).
#[derive(Clone, Copy, Debug)]
pub struct Subproblem<'a> {
    pub problem: &'a ScrProblem,
    pub params: &'a Params,
    /// Weight λ_k of the product term ‖M_k‖_* of each hidden layer.
    pub lambda: &'a [f64],
    /// Weight μ_k of the complementarity terms of each hidden layer.
    pub mu: &'a [f64],
}

/// How a backend's solve ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SolveStatus {
    /// Solved to the backend's full tolerance.
    Solved,
    /// Solved to a reduced tolerance: usable, reported as such.
    AlmostSolved,
    /// No usable solution; the string says why.
    Failed(String),
    /// Cut short by the run's budget (time limit or interrupt): the point is where the solver
    /// was, not a solution.
    Stopped(Stop),
}

impl SolveStatus {
    pub fn is_usable(&self) -> bool {
        !matches!(self, SolveStatus::Failed(_))
    }

    /// Short label for tables and the JSON report.
    pub fn label(&self) -> String {
        match self {
            SolveStatus::Solved => "solved".into(),
            SolveStatus::AlmostSolved => "almost_solved".into(),
            SolveStatus::Failed(why) => format!("failed: {why}"),
            SolveStatus::Stopped(why) => why.name().into(),
        }
    }
}

/// A backend's answer.
#[derive(Clone, Debug)]
pub struct SubSolution {
    pub iterate: Iterate,
    /// Objective of (8) as the backend computed it.
    pub objective: f64,
    pub status: SolveStatus,
    /// The backend's own iteration count (interior-point iterations, ADMM iterations, …).
    pub solver_iterations: u32,
    /// Final primal and dual residuals, as the backend measures them.
    pub residuals: Option<(f64, f64)>,
    /// The tolerance this solve aimed at, when the backend chooses one per solve (ADMM's inexact
    /// SCR; `None` for the interior point, which always uses its settings).
    pub tolerance: Option<f64>,
}

/// Solves subproblem (8). Backends: [`super::AdmmBackend`] (first-order, pure Rust) and
/// [`super::ClarabelBackend`] (interior point, feature `sdp`).
pub trait SubproblemSolver {
    /// Name for reports (`"clarabel"`, …).
    fn name(&self) -> &str;
    /// Solves one instance; errors only when no answer at all could be produced.
    fn solve(&mut self, sub: &Subproblem<'_>) -> Result<SubSolution>;
    /// Called by [`super::run`] before its first subproblem: forget what another run left behind
    /// (warm starts), so that runs do not depend on each other, and poll `budget` in long solves
    /// (a solve cut short returns [`SolveStatus::Stopped`]).
    fn begin_run(&mut self, budget: &Budget);
    /// Called by [`super::run`] before each subproblem with the sum of the violations (product and
    /// complementarity) of the previous SCR iterate, `None` before the first. A backend may solve
    /// less accurately while the violations are large (inexact SCR); the default ignores it.
    fn set_violation_hint(&mut self, _violation: Option<f64>) {}
}

/// Settings of the interior-point backend (Clarabel with its PSD cone, cargo feature `sdp`).
#[derive(Clone, Debug)]
pub struct ClarabelBackend {
    /// Interior-point iteration cap.
    pub max_iter: u32,
    /// Absolute and relative gap and feasibility tolerance.
    pub tol: f64,
    /// Print Clarabel's own log.
    pub verbose: bool,
    /// The running SCR's time limit and interrupt, polled once per interior-point iteration.
    #[cfg_attr(not(feature = "sdp"), allow(dead_code))]
    pub(crate) budget: Option<Budget>,
}

impl Default for ClarabelBackend {
    fn default() -> Self {
        Self {
            max_iter: 200,
            tol: 1e-9,
            verbose: false,
            budget: None,
        }
    }
}

/// A subproblem solver and its settings, as a trainer holds it: each run gets a fresh copy.
#[derive(Clone, Debug)]
pub enum Backend {
    /// First-order ADMM, pure Rust (the default).
    Admm(AdmmBackend),
    /// Interior point with Clarabel (cargo feature `sdp`).
    Ipm(ClarabelBackend),
}

impl Default for Backend {
    fn default() -> Self {
        Backend::Admm(AdmmBackend::default())
    }
}

impl Backend {
    /// `"admm"` or `"clarabel"`.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Admm(_) => "admm",
            Backend::Ipm(_) => "clarabel",
        }
    }

    /// A fresh solver, or a plain message that this build lacks it.
    pub fn make(&self) -> Result<Box<dyn SubproblemSolver + Send>> {
        match self {
            Backend::Admm(b) => Ok(Box::new(b.clone())),
            #[cfg(feature = "sdp")]
            Backend::Ipm(b) => Ok(Box::new(b.clone())),
            #[cfg(not(feature = "sdp"))]
            Backend::Ipm(_) => Err(crate::error::Error::Unavailable {
                feature: "sdp",
                what: "the interior-point SCR backend (`scr.backend` = ipm; it links Debian's \
                       libopenblas-dev; `scr.backend` = admm needs nothing)"
                    .into(),
            }),
        }
    }
}
