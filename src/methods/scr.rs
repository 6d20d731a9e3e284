//! SCR (either subproblem solver) as a [`Trainer`]: its settings group `scr`, its trace.

use super::{Line, Run, Settings, Stage, StageSummary, Trace, Trainer};
use crate::error::{Error, Result};
use crate::net::Network;
use crate::scr::{
    self, AdmmBackend, Backend, ClarabelBackend, IterationRecord, RunSummary, ScrProblem,
    ScrSettings,
};
use crate::train::{Monitor, Problem, Start};
use serde::{Deserialize, Serialize};

/// The settings group `scr`: the outer loop's weights and stopping rules, and the subproblem
/// solver.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScrGroup {
    /// λ_k of each hidden layer's product term: one value for every layer, or one per layer
    /// (a number or a list).
    #[serde(deserialize_with = "one_or_many")]
    pub lambda: Vec<f64>,
    /// μ_k of each hidden layer's complementarity terms.
    #[serde(deserialize_with = "one_or_many")]
    pub mu: Vec<f64>,
    /// SCR iterations at most.
    pub max_iter: usize,
    /// Stop when both violations (Frobenius norms) are at most this.
    pub tol: f64,
    /// Also stop when the relative output error is at most this.
    pub output_tol: Option<f64>,
    /// Extrapolation β: the next parameters from `x_k + β(x_k − x_{k−1})` (0: as published).
    pub extrapolation: f64,
    /// The subproblem solver: `admm` or `ipm` (Clarabel, cargo feature `sdp`).
    pub backend: BackendName,
    /// ADMM's tolerance on the primal and dual residuals (absolute and relative).
    pub admm_tol: f64,
    /// ADMM iterations per subproblem at most.
    pub admm_max_iter: usize,
    /// ADMM worker threads (`None`: every core, up to 8); the answer does not depend on it.
    pub admm_threads: Option<usize>,
    /// Solve every ADMM subproblem to `admm_tol` (default: inexact SCR).
    pub admm_exact: bool,
    /// Print the subproblem solver's progress.
    pub solver_verbose: bool,
}

/// A number, or a list of numbers.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Vec<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(f64),
        Many(Vec<f64>),
    }
    match OneOrMany::deserialize(d) {
        Ok(OneOrMany::One(v)) => Ok(vec![v]),
        Ok(OneOrMany::Many(v)) => Ok(v),
        Err(_) => Err(serde::de::Error::custom(
            "takes a number or a list of numbers (one per hidden layer)",
        )),
    }
}

/// SCR's subproblem solvers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendName {
    /// First-order ADMM, pure Rust.
    Admm,
    /// Interior point with Clarabel (cargo feature `sdp`).
    Ipm,
}

impl BackendName {
    /// Every value with a line of help (for front ends' help).
    pub const CHOICES: &[(&str, &str)] = &[
        ("admm", "First-order ADMM, pure Rust (default)"),
        (
            "ipm",
            "Interior point with Clarabel (needs the `sdp` feature)",
        ),
    ];
}

impl Default for ScrGroup {
    fn default() -> Self {
        let loop_ = ScrSettings::default();
        let admm = AdmmBackend::default();
        Self {
            lambda: loop_.lambda,
            mu: loop_.mu,
            max_iter: loop_.max_iter,
            tol: loop_.tol,
            output_tol: loop_.output_tol,
            extrapolation: loop_.extrapolation,
            backend: BackendName::Admm,
            admm_tol: admm.eps_abs,
            admm_max_iter: admm.max_iter,
            admm_threads: None,
            admm_exact: false,
            solver_verbose: false,
        }
    }
}

impl ScrGroup {
    /// The outer loop's settings.
    pub fn settings(&self) -> ScrSettings {
        ScrSettings {
            lambda: self.lambda.clone(),
            mu: self.mu.clone(),
            max_iter: self.max_iter,
            tol: self.tol,
            output_tol: self.output_tol,
            extrapolation: self.extrapolation,
        }
    }

    /// The subproblem solver these settings choose.
    pub fn backend(&self) -> Result<Backend> {
        match self.backend {
            BackendName::Admm => {
                if !(self.admm_tol.is_finite() && self.admm_tol > 0.0) {
                    return Err(Error::setting(
                        "scr.admm_tol",
                        format!("must be positive and finite, got {}", self.admm_tol),
                    ));
                }
                if self.admm_max_iter == 0 {
                    return Err(Error::setting("scr.admm_max_iter", "must be at least 1"));
                }
                let mut b = AdmmBackend::with_tolerance(self.admm_tol, self.admm_max_iter);
                b.adaptive = !self.admm_exact;
                b.verbose = self.solver_verbose;
                match self.admm_threads {
                    Some(0) => {
                        return Err(Error::setting("scr.admm_threads", "must be at least 1"))
                    }
                    Some(t) => b.threads = t,
                    None => {}
                }
                Ok(Backend::Admm(b))
            }
            BackendName::Ipm => Ok(Backend::Ipm(ClarabelBackend {
                verbose: self.solver_verbose,
                ..Default::default()
            })),
        }
    }
}

/// SCR's stage of a run: the backend, every iteration, the final figures.
#[derive(Clone, Debug, Serialize)]
pub struct ScrTrace {
    pub backend: String,
    pub iterations: Vec<IterationRecord>,
    #[serde(rename = "final")]
    pub summary: RunSummary,
}

impl Trace for ScrTrace {
    fn summary(&self) -> StageSummary {
        let s = &self.summary;
        StageSummary::new(s.iterations, s.stop_reason, s.seconds)
    }

    fn lines(&self, offset: f64) -> Vec<Line> {
        let at = |f: fn(&IterationRecord) -> f64| move |r: &IterationRecord| (r.iteration, f(r));
        let records = &self.iterations;
        vec![
            Line::through(
                "product ‖WH − C‖",
                "",
                records,
                offset,
                at(|r| r.product_violation),
            ),
            Line::through(
                "complementarity ‖H∘S‖",
                "6 3",
                records,
                offset,
                at(|r| r.complementarity_violation),
            ),
            Line::through(
                "output error",
                "1 3",
                records,
                offset,
                at(|r| r.output_error),
            ),
        ]
    }
}

/// Sequential convex relaxation with a subproblem solver.
pub struct Scr {
    group: ScrGroup,
    pub settings: ScrSettings,
    pub backend: Backend,
}

impl Scr {
    /// SCR with the settings of group `scr`.
    pub fn new(group: ScrGroup) -> Result<Self> {
        let settings = group.settings();
        settings.validate()?;
        let backend = group.backend()?;
        Ok(Self {
            group,
            settings,
            backend,
        })
    }

    /// SCR with the group `scr` of `settings`.
    pub fn from_settings(settings: &Settings) -> Result<Self> {
        Self::new(settings.group("scr")?)
    }

    fn problem(problem: &Problem) -> Result<ScrProblem> {
        ScrProblem::new(&problem.data.x, &problem.data.y, problem.arch)
    }
}

impl Trainer for Scr {
    fn name(&self) -> &str {
        "scr"
    }

    fn check(&self, problem: &Problem) -> Result<()> {
        self.settings.validate()?;
        self.settings
            .layer_weights(problem.arch.n_hidden_layers())?;
        self.backend.make()?;
        Self::problem(problem).map(|_| ())
    }

    fn settings(&self) -> Settings {
        Settings::of("scr", &self.group)
    }

    fn train(&self, problem: &Problem, start: &Start, monitor: &mut Monitor) -> Result<Run> {
        let p = Self::problem(problem)?;
        let mut backend = self.backend.make()?;
        let run = scr::run(&p, start, &self.settings, backend.as_mut(), monitor)?;
        let stage = Stage::new(
            "scr",
            ScrTrace {
                backend: run.backend,
                iterations: run.history,
                summary: run.summary,
            },
        );
        Run::new(
            "scr",
            start,
            scr::start_detail(start),
            Some(Network::Mlp(run.model)),
            problem,
            vec![stage],
            monitor.budget().elapsed(),
        )
    }
}
