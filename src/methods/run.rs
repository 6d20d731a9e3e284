//! The record of one training run, the same for every method: the network, why the run ended,
//! its figures, each stage's own trace, a certificate where the method proves one, and warnings.

use super::{Certificate, Trace};
use crate::error::{Error, Result};
use crate::linalg::Matrix;
use crate::net::{Mlp, Network};
use crate::train::{Problem, Start, Stop};
use serde::Serialize;
use std::sync::Arc;

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
    /// What the method proves about the answer (exact training, the convex model).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "super::tagged_certificate"
    )]
    pub certificate: Option<Arc<dyn Certificate>>,
    /// A run that ended badly says so here (diverged, dead, far from stationary, not certified).
    pub warnings: Vec<String>,
}

/// The final figures of a run, on the data it was trained on.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// Mean squared error `‖f(X) − Y‖_F² / (n_y N)` (NaN without a network); weighted by the
    /// data's sample weights where it has them.
    pub loss: f64,
    /// `‖f(X) − Y‖_F / ‖Y‖_F` (absolute when Y = 0), weighted as `loss`.
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
    pub trace: Arc<dyn Trace>,
}

impl Stage {
    pub fn new(method: &str, trace: impl Trace) -> Self {
        Self {
            method: method.into(),
            trace: Arc::new(trace),
        }
    }

    pub fn stop(&self) -> Stop {
        self.trace.summary().stop_reason
    }

    pub fn iterations(&self) -> usize {
        self.trace.summary().iterations
    }

    /// The trace as the method's own type, if it is `T`.
    pub fn trace_as<T: Trace>(&self) -> Option<&T> {
        let any: &dyn std::any::Any = self.trace.as_ref();
        any.downcast_ref::<T>()
    }
}

impl Run {
    /// A one-stage run with its figures computed on `problem`'s data.
    pub fn new(
        method: &str,
        start: &Start,
        init_detail: String,
        model: Option<Network>,
        problem: &Problem,
        stages: Vec<Stage>,
        seconds: f64,
    ) -> Result<Self> {
        let (loss, output_error) = match &model {
            Some(net) => {
                let data = problem.data;
                fit(net, &data.x, &data.y, data.weights.as_deref())?
            }
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

    /// The certificate as the method's own type, if it is `T`.
    pub fn certificate_as<T: Certificate>(&self) -> Option<&T> {
        let any: &dyn std::any::Any = self.certificate.as_deref()?;
        any.downcast_ref::<T>()
    }

    /// Adds the warnings a user should see: divergence, a failed solver, a dead network, and
    /// what the last stage and the certificate say of how the run ended (a line search that
    /// failed far from stationarity, an optimum that is not proven).
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
        if let Some(stage) = self.stages.last() {
            w.extend(stage.trace.warnings(&stage.method, self.model.as_ref()));
        }
        if let Some(Network::Mlp(m)) = &self.model {
            if let Some(layer) = m.dead_hidden_layer(&problem.data.x)? {
                w.push(format!(
                    "dead network: every unit of hidden layer {layer} is off on every training \
                     sample, so the output does not depend on the input"
                ));
            }
        }
        if let (Some(c), Some(_)) = (&self.certificate, &self.model) {
            w.extend(c.warnings(self.outcome.stop_reason));
        }
        self.warnings.extend(w);
        Ok(())
    }
}

/// MSE and relative output error of `net` on `(x, y)`; with sample `weights` the weighted
/// ones, `Σ_i w_i ‖f(x_i) − y_i‖² / (n_y Σ w)` and `‖√w (f(X) − Y)‖_F / ‖√w Y‖_F` (the figures
/// of the rows repeated as often as their integer weight).
pub(crate) fn fit(
    net: &Network,
    x: &Matrix,
    y: &Matrix,
    weights: Option<&[f64]>,
) -> Result<(f64, f64)> {
    let r = net.forward(x)?.sub(y)?;
    let Some(w) = weights else {
        let e = r.frobenius();
        let ny = y.frobenius();
        return Ok((
            e * e / (r.rows() * r.cols()).max(1) as f64,
            if ny > 0.0 { e / ny } else { e },
        ));
    };
    let weighted = |m: &Matrix| -> f64 {
        (0..m.cols())
            .map(|j| w[j] * m.col(j).iter().map(|v| v * v).sum::<f64>())
            .sum()
    };
    let (e2, y2) = (weighted(&r), weighted(y));
    let total: f64 = w.iter().sum();
    Ok((
        e2 / (r.rows() as f64 * total).max(f64::MIN_POSITIVE),
        if y2 > 0.0 {
            (e2 / y2).sqrt()
        } else {
            e2.sqrt()
        },
    ))
}
