//! The gradient methods (gd, sgd, adam, lbfgs, lm) as a [`Trainer`]: their settings group
//! `gradient` (one group for the five, each reading its own keys, with its own defaults), their
//! trace, and the warning of a run that stopped far from a stationary point.

use super::{Line, Metrics, Run, Settings, Stage, StageSummary, Trace, Trainer};
use crate::data::Dataset;
use crate::error::Result;
use crate::gradient::{
    self, DataLoss, EarlyStopping, GradRecord, GradSettings, GradSummary, Optimizer, OptimizerKind,
};
use crate::linalg::{Matrix, Precision};
use crate::net::{Link, Network};
use crate::train::{Monitor, Problem, Start, Stop};
use serde::{Deserialize, Serialize};

/// The settings group `gradient`. `None` means the method's own default, which resolution fills
/// in: the iteration cap (gd 20 000, sgd 5 000, adam 5 000, lbfgs 2 000, lm 500), the learning
/// rate (gd 0.1, sgd 0.01, adam 0.01), the mini-batch (sgd 32, adam the full batch), the output
/// tolerance (1e-9) and the mini-batch order's seed (the run's seed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GradientGroup {
    /// Iteration cap: steps for gd, sgd and adam (one mini-batch each), iterations for lbfgs and
    /// lm.
    pub max_iter: Option<usize>,
    /// Learning rate (gd, sgd, adam).
    pub lr: Option<f64>,
    /// SGD's momentum.
    pub momentum: f64,
    /// Mini-batch size (sgd, adam).
    pub batch: Option<usize>,
    /// Adam's β₁, β₂ and ε.
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// L-BFGS's memory (correction pairs).
    pub memory: usize,
    /// Stop when the gradient norm is at most this.
    pub grad_tol: f64,
    /// Stop when the relative output error is at most this.
    pub output_tol: Option<f64>,
    /// Seed of the mini-batch order.
    pub batch_seed: Option<u64>,
    /// β > 0: the weight-decay objective `‖f(X) − Y‖²/(2N) + (β/2)‖θ‖²` instead of the MSE;
    /// with the cross-entropy `CE + (β/2) Σ weights²` (biases free).
    pub weight_decay: f64,
    /// The data term: `squared` (the MSE) or `cross-entropy` (class labels; the outputs are
    /// logits, the model predicts probabilities).
    pub loss: DataLoss,
    /// Early stopping: hold out this share of the samples (seeded by `batch_seed`) and stop when
    /// their loss has not improved by `validation_tol` for `n_iter_no_change` epochs, keeping
    /// the best network on them (`None`: no early stopping).
    pub validation_fraction: Option<f64>,
    pub n_iter_no_change: usize,
    pub validation_tol: f64,
    /// Threads of each pass over the samples (`None`: every core); the trained network does
    /// not depend on them.
    pub threads: Option<usize>,
    /// The precision of the passes and of the network: `f64` (the default: the figures every
    /// other method is compared with are float64, and an output tolerance of 1e-9 is below
    /// float32's reach) or `f32` (twice the GEMM rate; Levenberg–Marquardt stays float64).
    pub precision: Precision,
}

impl Default for GradientGroup {
    fn default() -> Self {
        Self {
            max_iter: None,
            lr: None,
            momentum: 0.9,
            batch: None,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            memory: 10,
            grad_tol: 1e-12,
            output_tol: None,
            batch_seed: None,
            weight_decay: 0.0,
            loss: DataLoss::Squared,
            validation_fraction: None,
            // scikit-learn's n_iter_no_change and tol
            n_iter_no_change: 10,
            validation_tol: 1e-4,
            threads: None,
            precision: Precision::F64,
        }
    }
}

impl GradientGroup {
    /// The group with `kind`'s defaults filled in (`seed` orders the mini-batches unless
    /// `batch_seed` is set), and the optimiser's settings.
    pub fn resolve(&self, kind: OptimizerKind, seed: u64) -> (Self, GradSettings) {
        let mut g = self.clone();
        let (steps, lr) = match kind {
            OptimizerKind::Gd => (20_000, Some(0.1)),
            OptimizerKind::Sgd => (5_000, Some(0.01)),
            OptimizerKind::Adam => (5_000, Some(0.01)),
            OptimizerKind::Lbfgs => (2_000, None),
            OptimizerKind::Lm => (500, None),
        };
        g.max_iter = Some(g.max_iter.unwrap_or(steps));
        g.lr = g.lr.or(lr);
        if kind == OptimizerKind::Sgd {
            g.batch = Some(g.batch.unwrap_or(32));
        }
        g.output_tol = Some(g.output_tol.unwrap_or(1e-9));
        g.batch_seed = Some(g.batch_seed.unwrap_or(seed));
        let lr = g.lr.unwrap_or(f64::NAN);
        let optimizer = match kind {
            OptimizerKind::Gd => Optimizer::Gd { lr },
            OptimizerKind::Sgd => Optimizer::Sgd {
                lr,
                momentum: g.momentum,
                batch: g.batch.unwrap_or(32),
            },
            OptimizerKind::Adam => Optimizer::Adam {
                lr,
                beta1: g.beta1,
                beta2: g.beta2,
                eps: g.eps,
                batch: g.batch,
            },
            OptimizerKind::Lbfgs => Optimizer::Lbfgs { memory: g.memory },
            OptimizerKind::Lm => Optimizer::Lm,
        };
        let settings = GradSettings {
            optimizer,
            max_iter: g.max_iter.unwrap_or(steps),
            output_tol: g.output_tol.unwrap_or(1e-9),
            grad_tol: g.grad_tol,
            seed: g.batch_seed.unwrap_or(seed),
            record_every: 0,
            weight_decay: g.weight_decay,
            loss: g.loss,
            early_stopping: g.validation_fraction.map(|f| EarlyStopping {
                validation_fraction: f,
                patience: g.n_iter_no_change,
                tol: g.validation_tol,
            }),
            threads: g.threads,
            precision: g.precision,
        };
        (g, settings)
    }
}

/// A gradient method's stage of a run: its recorded iterations and final figures.
#[derive(Clone, Debug, Serialize)]
pub struct GradTrace {
    pub iterations: Vec<GradRecord>,
    #[serde(rename = "final")]
    pub summary: GradSummary,
}

/// A failed line search (or a stalled Levenberg–Marquardt run) is far from stationary when
/// `‖∇L‖·‖θ‖ / L`, the loss's relative change under a relative change of the parameters, is above
/// this. The measure does not change when the targets or the inputs are rescaled. Measured on
/// L-BFGS runs (default settings): the runs that stopped next to a minimum (3-3-2 teachers, N = 30,
/// seeds 1–20, noise-free and σ = 0.1; iris) ended at 4e-7 … 3e-5; unstandardised diabetes
/// (10-8-1) at 0.75–1.4, unstandardised wine at 3.6, and runs stuck at a ReLU kink with a large
/// gradient (standardised iris, 2-5-5-1 teachers) at 0.11–25.
const FAR_FROM_STATIONARY: f64 = 1e-2;

impl Trace for GradTrace {
    fn summary(&self) -> StageSummary {
        let s = &self.summary;
        StageSummary::new(s.iterations, s.stop_reason, s.seconds)
    }

    fn lines(&self, offset: f64) -> Vec<Line> {
        let records = &self.iterations;
        let loss = match (self.summary.data_loss, self.summary.weight_decay > 0.0) {
            (_, true) => "objective (with weight decay)",
            (DataLoss::Squared, false) => "loss (MSE)",
            (DataLoss::CrossEntropy, false) => "loss (cross-entropy)",
        };
        let mut lines = vec![Line::through(loss, "", records, offset, |r| {
            (r.iteration, r.loss)
        })];
        // the cross-entropy's output error is the loss itself
        if self.summary.data_loss == DataLoss::Squared {
            lines.push(Line::through("output error", "1 3", records, offset, |r| {
                (r.iteration, r.output_error)
            }));
        }
        lines
    }

    fn warnings(&self, method: &str, model: Option<&Network>) -> Vec<String> {
        let s = &self.summary;
        let Some(Network::Mlp(m)) = model else {
            return Vec::new();
        };
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
            return vec![format!(
                "{method} ended {} far from a stationary point (gradient norm {:.2e}, \
                 ‖∇L‖·‖θ‖/L = {relative:.1e}): at a ReLU kink or in badly scaled data; try \
                 standardised data (`standardize`), or another method",
                s.stop_reason, s.grad_norm
            )];
        }
        Vec::new()
    }
}

/// A gradient method with its settings, starting from the start's network.
pub struct Gradient {
    group: GradientGroup,
    pub settings: GradSettings,
}

impl Gradient {
    /// Method `kind` with the group `gradient` of `settings`; `seed` orders the mini-batches
    /// unless the group sets `batch_seed`.
    pub fn new(kind: OptimizerKind, settings: &Settings, seed: u64) -> Result<Self> {
        let group: GradientGroup = settings.group("gradient")?;
        if group.validation_fraction.is_none() {
            let defaults = GradientGroup::default();
            for (key, given) in [
                (
                    "gradient.n_iter_no_change",
                    group.n_iter_no_change != defaults.n_iter_no_change,
                ),
                (
                    "gradient.validation_tol",
                    group.validation_tol != defaults.validation_tol,
                ),
            ] {
                if given {
                    return Err(crate::error::Error::setting(
                        key,
                        "applies to early stopping, which `gradient.validation_fraction` turns on",
                    ));
                }
            }
        }
        let (group, settings) = group.resolve(kind, seed);
        Ok(Self { group, settings })
    }
}

impl Trainer for Gradient {
    fn name(&self) -> &str {
        self.settings.optimizer.name()
    }

    fn check(&self, problem: &Problem) -> Result<()> {
        self.settings.validate()?;
        gradient::check_size(&self.settings, problem.arch, problem.data.n_samples())
    }

    fn settings(&self) -> Settings {
        Settings::of("gradient", &self.group)
    }

    fn predicts_labels(&self) -> bool {
        self.settings.loss == DataLoss::CrossEntropy
    }

    /// All but Levenberg–Marquardt (unweighted least squares).
    fn takes_weights(&self) -> bool {
        !matches!(self.settings.optimizer, Optimizer::Lm)
    }

    fn link(&self, n_outputs: usize) -> Link {
        match self.settings.loss {
            DataLoss::Squared => Link::Identity,
            DataLoss::CrossEntropy => Link::probabilities(n_outputs),
        }
    }

    fn precision(&self) -> Precision {
        self.settings.precision
    }

    /// With the cross-entropy: the mean cross-entropy and the accuracy (the most probable class,
    /// or with one output the positive class where its probability exceeds ½).
    fn metrics(&self, net: &Network, data: &Dataset) -> Result<Metrics> {
        if self.settings.loss == DataLoss::Squared {
            let (mse, output_error) =
                super::run::fit(net, &data.x, &data.y, data.weights.as_deref())?;
            return Ok(Metrics::from([
                ("mse", mse),
                ("output_error", output_error),
            ]));
        }
        let (cross_entropy, accuracy) =
            classification(net, &data.x, &data.y, data.weights.as_deref())?;
        Ok(Metrics::from([
            ("cross_entropy", cross_entropy),
            ("accuracy", accuracy),
        ]))
    }

    fn train(&self, problem: &Problem, start: &Start, monitor: &mut Monitor) -> Result<Run> {
        let net = start.network(problem.arch)?;
        let run = gradient::train_weighted(
            &problem.data.x,
            &problem.data.y,
            problem.data.weights.as_deref(),
            &net,
            &self.settings,
            monitor,
        )?;
        let stage = Stage::new(
            self.name(),
            GradTrace {
                iterations: run.history,
                summary: run.summary,
            },
        );
        Run::new(
            self.name(),
            start,
            start.detail(),
            Some(Network::Mlp(run.model)),
            problem,
            vec![stage],
            monitor.budget().elapsed(),
        )
    }
}

/// The mean cross-entropy and the accuracy of the class-probability network `net` on class
/// labels `y` (0/1 or ±1, as [`DataLoss::CrossEntropy`] reads them), weighted by `weights`.
fn classification(
    net: &Network,
    x: &Matrix,
    y: &Matrix,
    weights: Option<&[f64]>,
) -> Result<(f64, f64)> {
    let t = crate::net::class_indicators(y)?;
    Ok(crate::net::class_figures(&net.forward(x)?, &t, weights))
}
