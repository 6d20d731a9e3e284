//! The record of one training run, the same for every method: the network, why the run ended,
//! its figures, each stage's own trace, a certificate where the method proves one, and warnings.

use super::convex::{ConvexCertificate, ConvexTrace};
use super::gradient::GradTrace;
use super::milp::MilpTrace;
use super::scr::ScrTrace;
use crate::error::{Error, Result};
use crate::linalg::Matrix;
use crate::net::{Mlp, Network};
use crate::train::{Problem, Start, Stop};
use serde::Serialize;

/// A finished run.
#[derive(Clone, Debug, Serialize)]
pub struct Run {
    /// The method's name in the table (`scr`, `lbfgs`, `scr+lbfgs`, `milp`, …).
    pub method: String,
    /// The start's label (`zero`, `random`, `perturbed`, `model`) and how it was made.
    pub init: String,
    pub init_detail: String,
    /// The trained network (`None` only when exact training found none: infeasible, or no
    /// incumbent before the limit).
    #[serde(skip)]
    pub model: Option<Network>,
    #[serde(rename = "final")]
    pub outcome: Outcome,
    /// One per stage of the method (two for `scr+lbfgs`), in order.
    pub stages: Vec<Stage>,
    /// What the method proves about the answer (exact training).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<Certificate>,
    /// A run that ended badly says so here (diverged, dead, far from stationary, not certified).
    pub warnings: Vec<String>,
}

/// The final figures of a run, on the data it was trained on.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// Mean squared error `‖f(X) − Y‖_F² / (n_y N)` (NaN without a network).
    pub loss: f64,
    /// `‖f(X) − Y‖_F / ‖Y‖_F` (absolute when Y = 0).
    pub output_error: f64,
    /// Iterations of all stages together (branch-and-bound nodes for the MILP).
    pub iterations: usize,
    pub seconds: f64,
    pub stop_reason: Stop,
}

/// One stage of a run: a method and its own trace.
#[derive(Clone, Debug, Serialize)]
pub struct Stage {
    pub method: String,
    #[serde(flatten)]
    pub trace: Trace,
}

/// A stage's per-iteration history and final figures, in its method's own terms.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Trace {
    Scr(ScrTrace),
    Gradient(GradTrace),
    Milp(MilpTrace),
    Convex(ConvexTrace),
}

impl Stage {
    pub fn stop(&self) -> Stop {
        match &self.trace {
            Trace::Scr(t) => t.summary.stop_reason,
            Trace::Gradient(t) => t.summary.stop_reason,
            Trace::Milp(t) => t.summary.stop_reason,
            Trace::Convex(t) => t.summary.stop_reason,
        }
    }

    pub fn iterations(&self) -> usize {
        match &self.trace {
            Trace::Scr(t) => t.summary.iterations,
            Trace::Gradient(t) => t.summary.iterations,
            Trace::Milp(t) => t.summary.nodes as usize,
            Trace::Convex(t) => t.summary.iterations,
        }
    }
}

/// What a method proves about its answer.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Certificate {
    /// Exact training: a lower bound over a class of networks, from branch and bound.
    Milp(crate::milp::Certificate),
    /// The convex reformulation: a duality gap, and whether its optimum is global.
    Convex(ConvexCertificate),
}

impl Certificate {
    /// `optimal (certified)`, `global optimum (certified, gap 2e-9)`, ….
    pub fn describe(&self) -> String {
        match self {
            Certificate::Milp(c) => c.describe().to_string(),
            Certificate::Convex(c) => c.describe(),
        }
    }

    /// Whether the gap closed.
    pub fn certified(&self) -> bool {
        match self {
            Certificate::Milp(c) => c.certified,
            Certificate::Convex(c) => c.certified,
        }
    }
}

/// A failed line search (or a stalled Levenberg–Marquardt run) is far from stationary when
/// `‖∇L‖·‖θ‖ / L`, the loss's relative change under a relative change of the parameters, is above
/// this. The measure does not change when the targets or the inputs are rescaled. Measured on
/// L-BFGS runs (default settings): the runs that stopped next to a minimum (3-3-2 teachers, N = 30,
/// seeds 1–20, noise-free and σ = 0.1; iris) ended at 4e-7 … 3e-5; unstandardised diabetes
/// (10-8-1) at 0.75–1.4, unstandardised wine at 3.6, and runs stuck at a ReLU kink with a large
/// gradient (standardised iris, 2-5-5-1 teachers) at 0.11–25.
const FAR_FROM_STATIONARY: f64 = 1e-2;

impl Run {
    /// A one-stage run with its figures computed on `problem`'s data.
    pub(crate) fn new(
        method: &str,
        start: &Start,
        init_detail: String,
        model: Option<Network>,
        problem: &Problem,
        stages: Vec<Stage>,
        seconds: f64,
    ) -> Result<Self> {
        let (loss, output_error) = match &model {
            Some(net) => fit(net, &problem.data.x, &problem.data.y)?,
            None => (f64::NAN, f64::NAN),
        };
        let stop = stages.last().map_or(Stop::IterationLimit, Stage::stop);
        Ok(Self {
            method: method.into(),
            init: start.label(),
            init_detail,
            model,
            outcome: Outcome {
                loss,
                output_error,
                iterations: stages.iter().map(Stage::iterations).sum(),
                seconds,
                stop_reason: stop,
            },
            stages,
            certificate: None,
            warnings: Vec::new(),
        })
    }

    /// The trained network, or a plain message why there is none.
    pub fn network(&self) -> Result<&Network> {
        self.model.as_ref().ok_or_else(|| {
            Error::Solver(format!(
                "the {} run ended {} without a network",
                self.method, self.outcome.stop_reason
            ))
        })
    }

    /// The trained ReLU network (refusing a threshold network or none).
    pub fn mlp(&self) -> Result<&Mlp> {
        self.network()?.as_mlp().ok_or_else(|| {
            Error::InvalidArgument(format!("the {} run gave no ReLU network", self.method))
        })
    }

    /// Adds the warnings a user should see: divergence, a failed solver, a dead network, a
    /// line search that failed far from a stationary point, an exact fit that is not certified.
    pub(crate) fn diagnose(&mut self, problem: &Problem) -> Result<()> {
        let mut w = Vec::new();
        match self.outcome.stop_reason {
            Stop::Diverged => w.push(
                "the loss became non-finite (diverged); the run kept its last finite network: \
                 lower the learning rate"
                    .to_string(),
            ),
            Stop::SolverFailed => w.push(
                "the subproblem solver failed; the run kept the last solved iterate (see each \
                 iteration's status)"
                    .to_string(),
            ),
            _ => {}
        }
        if let (
            Some(Stage {
                trace: Trace::Gradient(t),
                method,
            }),
            Some(Network::Mlp(m)),
        ) = (self.stages.last(), &self.model)
        {
            let s = &t.summary;
            let theta = m
                .weights
                .iter()
                .flat_map(|w| w.as_slice())
                .chain(m.biases.iter().flatten())
                .map(|v| v * v)
                .sum::<f64>()
                .sqrt();
            let relative = s.grad_norm * theta / s.loss;
            if matches!(s.stop_reason, Stop::LineSearchFailed | Stop::Stalled)
                && relative > FAR_FROM_STATIONARY
            {
                w.push(format!(
                    "{method} ended {} far from a stationary point (gradient norm {:.2e}, \
                     ‖∇L‖·‖θ‖/L = {relative:.1e}): at a ReLU kink or in badly scaled data; try \
                     standardised data (--standardize; standardize=True in Python), or another \
                     method",
                    s.stop_reason, s.grad_norm
                ));
            }
        }
        if let Some(Network::Mlp(m)) = &self.model {
            if let Some(layer) = m.dead_hidden_layer(&problem.data.x)? {
                w.push(format!(
                    "dead network: every unit of hidden layer {layer} is off on every training \
                     sample, so the output does not depend on the input"
                ));
            }
        }
        if let (Some(Certificate::Milp(c)), Some(_)) = (&self.certificate, &self.model) {
            if !c.certified {
                w.push(format!(
                    "not proven optimal: the branch and bound stopped ({}) with a gap of {:.2e}; \
                     the network is the best it found",
                    c.status.name(),
                    c.abs_gap.unwrap_or(f64::INFINITY)
                ));
            }
        }
        if let (Some(Certificate::Convex(c)), Some(_)) = (&self.certificate, &self.model) {
            if !c.certified {
                w.push(format!(
                    "not certified: the convex solver stopped ({}) at a relative gap of {:.1e}, \
                     above the tolerance {:.0e}",
                    self.outcome.stop_reason, c.rel_gap, c.tol
                ));
            }
        }
        self.warnings.extend(w);
        Ok(())
    }
}

/// MSE and relative output error of `net` on `(x, y)`.
pub(crate) fn fit(net: &Network, x: &Matrix, y: &Matrix) -> Result<(f64, f64)> {
    let r = net.forward(x)?.sub(y)?;
    let e = r.frobenius();
    let ny = y.frobenius();
    Ok((
        e * e / (r.rows() * r.cols()).max(1) as f64,
        if ny > 0.0 { e / ny } else { e },
    ))
}
