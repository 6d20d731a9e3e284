//! Gradient-based training of an [`Mlp`] on the squared loss `L(θ) = ‖f_θ(X) − Y‖_F² / (n_y N)`
//! or the cross-entropy of class probabilities ([`DataLoss`]), with optional weight decay:
//! full-batch gradient descent, mini-batch SGD with momentum, Adam, L-BFGS with a weak-Wolfe
//! line search, and Levenberg–Marquardt (training as nonlinear least squares).
//!
//! Every method starts from a given network (seeded He/Glorot initialisation, a perturbed teacher,
//! or any saved model — so SCR's answer can be polished), records a history, and stops on the
//! output error, the gradient norm, stagnation, or an iteration cap.

pub mod early;
mod lm;
pub mod model;
pub mod pass;

pub use early::EarlyStopping;
pub use model::{DataLoss, Evaluator, ParamLayout, Workspace};

use crate::error::{Error, Result};
use crate::linalg::{norm, Precision};
use crate::net::Mlp;
use crate::train::{Monitor, Stop};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Instant;

/// The optimiser and its hyper-parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "lowercase")]
pub enum Optimizer {
    /// Full-batch gradient descent with a fixed step.
    Gd { lr: f64 },
    /// Mini-batch SGD with (heavy-ball) momentum, `v ← μ v + g, θ ← θ − lr v` as in PyTorch;
    /// the samples are reshuffled every epoch.
    Sgd {
        lr: f64,
        momentum: f64,
        batch: usize,
    },
    /// Adam (Kingma & Ba), bias-corrected as in PyTorch; `batch` = None is full batch.
    Adam {
        lr: f64,
        beta1: f64,
        beta2: f64,
        eps: f64,
        batch: Option<usize>,
    },
    /// L-BFGS with `memory` correction pairs and a weak-Wolfe line search (c₁ = 1e-4, c₂ = 0.9).
    Lbfgs { memory: usize },
    /// Levenberg–Marquardt on the residuals `(f(X) − Y)/√(n_y N)`, damping updated as in
    /// Madsen, Nielsen & Tingleff (2004). Forms the Jacobian: for small networks.
    Lm,
}

impl Optimizer {
    pub fn name(&self) -> &'static str {
        match self {
            Optimizer::Gd { .. } => "gd",
            Optimizer::Sgd { .. } => "sgd",
            Optimizer::Adam { .. } => "adam",
            Optimizer::Lbfgs { .. } => "lbfgs",
            Optimizer::Lm => "lm",
        }
    }

    /// Mini-batch size, if the method uses mini-batches.
    fn batch(&self) -> Option<usize> {
        match self {
            Optimizer::Sgd { batch, .. } => Some(*batch),
            Optimizer::Adam { batch, .. } => *batch,
            _ => None,
        }
    }

    fn validate(&self) -> Result<()> {
        let pos = |v: f64| v.is_finite() && v > 0.0;
        let lr = |lr: f64| {
            if pos(lr) {
                Ok(())
            } else {
                Err(Error::setting(
                    "gradient.lr",
                    format!("must be positive and finite, got {lr}"),
                ))
            }
        };
        let batch = |b: Option<usize>| {
            if b == Some(0) {
                Err(Error::setting("gradient.batch", "must be at least 1"))
            } else {
                Ok(())
            }
        };
        match *self {
            Optimizer::Gd { lr: r } => lr(r),
            Optimizer::Sgd {
                lr: r,
                momentum,
                batch: b,
            } => {
                lr(r)?;
                if !(0.0..1.0).contains(&momentum) {
                    return Err(Error::setting(
                        "gradient.momentum",
                        format!("must be in [0, 1), got {momentum}"),
                    ));
                }
                batch(Some(b))
            }
            Optimizer::Adam {
                lr: r,
                beta1,
                beta2,
                eps,
                batch: b,
            } => {
                lr(r)?;
                if !pos(eps) {
                    return Err(Error::setting(
                        "gradient.eps",
                        format!("must be positive and finite, got {eps:e}"),
                    ));
                }
                for (key, beta) in [("gradient.beta1", beta1), ("gradient.beta2", beta2)] {
                    if !(0.0..1.0).contains(&beta) {
                        return Err(Error::setting(
                            key,
                            format!("must be in [0, 1), got {beta}"),
                        ));
                    }
                }
                batch(b)
            }
            Optimizer::Lbfgs { memory: 0 } => {
                Err(Error::setting("gradient.memory", "must be at least 1"))
            }
            _ => Ok(()),
        }
    }
}

/// When to stop, and what to record.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GradSettings {
    pub optimizer: Optimizer,
    /// Iteration cap: steps for GD, SGD and Adam (one mini-batch each), iterations for L-BFGS and
    /// Levenberg–Marquardt.
    pub max_iter: usize,
    /// Stop when the relative output error `‖f(X) − Y‖_F / ‖Y‖_F` is at most this.
    pub output_tol: f64,
    /// Stop when the gradient's Euclidean norm is at most this.
    pub grad_tol: f64,
    /// Seed of the mini-batch order.
    pub seed: u64,
    /// Record the full-data loss every this many iterations (and at the last); 0 = about 1 000
    /// records per run.
    pub record_every: usize,
    /// β > 0: train the weight-decay objective `‖f(X) − Y‖²/(2N) + (β/2)‖θ‖²` (every weight and
    /// hidden bias; the output bias starts at zero and stays there) instead of the MSE; with the
    /// cross-entropy, `CE + (β/2) Σ weights²` (biases free). See [`Evaluator`].
    #[serde(default)]
    pub weight_decay: f64,
    /// The data term: squared loss or cross-entropy.
    #[serde(default)]
    pub loss: DataLoss,
    /// Hold samples out and stop when their loss stops improving, keeping the best network on
    /// them (`None`: train on every sample to the other tests).
    #[serde(default)]
    pub early_stopping: Option<EarlyStopping>,
    /// Threads of each pass over the samples (`None`: every core); the result does not depend
    /// on them ([`pass::data_term`]).
    #[serde(default)]
    pub threads: Option<usize>,
    /// The precision of the passes over the samples. float32 keeps float64 master parameters
    /// and optimiser state (as mixed-precision training does: an update below a float32 ulp
    /// still accumulates) and returns the network rounded to float32.
    #[serde(default)]
    pub precision: Precision,
}

impl GradSettings {
    pub fn new(optimizer: Optimizer) -> Self {
        Self {
            optimizer,
            max_iter: 1000,
            output_tol: 1e-9,
            grad_tol: 1e-12,
            seed: 1,
            record_every: 0,
            weight_decay: 0.0,
            loss: DataLoss::Squared,
            early_stopping: None,
            threads: None,
            precision: Precision::F64,
        }
    }

    /// The threads of each pass: `threads`, or the run's budget (every core unless the request's
    /// `threads` says otherwise).
    pub fn threads(&self) -> usize {
        self.threads
            .unwrap_or_else(crate::linalg::threads::available)
    }

    pub fn validate(&self) -> Result<()> {
        self.optimizer.validate()?;
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(Error::setting(
                "gradient.weight_decay",
                format!("must be finite and ≥ 0, got {}", self.weight_decay),
            ));
        }
        if self.weight_decay > 0.0 && matches!(self.optimizer, Optimizer::Lm) {
            return Err(Error::setting(
                "gradient.weight_decay",
                "does not apply to Levenberg–Marquardt, which fits least squares only (gd, sgd, \
                 adam and lbfgs take it)",
            ));
        }
        if self.precision != Precision::F64 && matches!(self.optimizer, Optimizer::Lm) {
            return Err(Error::setting(
                "gradient.precision",
                "f32 does not apply to Levenberg–Marquardt, which runs in float64 (its normal \
                 equations need it); gd, sgd, adam and lbfgs take f32",
            ));
        }
        if self.loss == DataLoss::CrossEntropy && matches!(self.optimizer, Optimizer::Lm) {
            return Err(Error::setting(
                "gradient.loss",
                "Levenberg–Marquardt fits least squares only; the cross-entropy is trained by gd, \
                 sgd, adam and lbfgs",
            ));
        }
        if let Some(e) = &self.early_stopping {
            e.validate()?;
            if matches!(self.optimizer, Optimizer::Lm) {
                return Err(Error::setting(
                    "gradient.validation_fraction",
                    "early stopping is for gd, sgd, adam and lbfgs, not Levenberg–Marquardt",
                ));
            }
        }
        if self.max_iter == 0 {
            return Err(Error::setting("gradient.max_iter", "must be at least 1"));
        }
        if self.threads == Some(0) {
            return Err(Error::setting("gradient.threads", "must be at least 1"));
        }
        for (key, v) in [
            ("gradient.output_tol", self.output_tol),
            ("gradient.grad_tol", self.grad_tol),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::setting(
                    key,
                    format!("must be finite and ≥ 0, got {v}"),
                ));
            }
        }
        Ok(())
    }

    fn record_every(&self) -> usize {
        if self.record_every > 0 {
            self.record_every
        } else {
            self.max_iter.div_ceil(1000).max(1)
        }
    }
}

/// The gradient methods by name, without their hyper-parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptimizerKind {
    Gd,
    Sgd,
    Adam,
    Lbfgs,
    Lm,
}

/// One recorded iteration (full-data loss at the parameters after `iteration` iterations).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GradRecord {
    pub iteration: usize,
    pub loss: f64,
    pub output_error: f64,
    /// Euclidean norm of the full-data gradient (mini-batch methods: of the last batch's).
    pub grad_norm: f64,
    /// Loss/gradient evaluations so far (L-BFGS's line search may take several per iteration).
    pub evaluations: usize,
    /// Seconds since the start of the run.
    pub seconds: f64,
}

/// Final figures of a run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GradSummary {
    /// The data term (MSE or mean cross-entropy), or with weight decay the whole objective.
    pub loss: f64,
    /// Which data term.
    #[serde(default)]
    pub data_loss: DataLoss,
    /// The precision of the passes (and of the network's parameters).
    #[serde(default)]
    pub precision: Precision,
    /// β of that objective (0: the loss is the MSE).
    #[serde(default)]
    pub weight_decay: f64,
    pub output_error: f64,
    pub grad_norm: f64,
    pub iterations: usize,
    pub evaluations: usize,
    pub stop_reason: Stop,
    pub seconds: f64,
    /// With early stopping: the kept network's loss on the held-out samples, and how many were
    /// held out (the other figures are on the samples trained on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_loss: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_samples: Option<usize>,
}

/// A finished gradient run.
#[derive(Clone, Debug)]
pub struct GradRun {
    pub method: String,
    pub history: Vec<GradRecord>,
    pub summary: GradSummary,
    pub model: Mlp,
}

/// Book-keeping shared by the trainers: the clock, the evaluation count, the history and the
/// stopping tests.
struct Tracker<'a, 'm> {
    loss: &'a Evaluator<'a>,
    settings: &'a GradSettings,
    start: Instant,
    evaluations: usize,
    history: Vec<GradRecord>,
    monitor: &'a mut Monitor<'m>,
    /// Early stopping's validation loss, after every `epoch` iterations.
    early: Option<early::Watch<'a>>,
    epoch: usize,
    /// The point the run stopped at, with its full-data loss and gradient norm: the final
    /// figures, when the run ends there (no second pass over the data for them).
    stopped_at: Option<(Vec<f64>, f64, f64)>,
}

/// The figures a progress line shows for one gradient iteration.
struct Figures {
    loss: f64,
    grad_norm: f64,
}

impl fmt::Display for Figures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "loss {:.2e}  |g| {:.1e}", self.loss, self.grad_norm)
    }
}

impl Tracker<'_, '_> {
    /// Iteration `it` at `theta` (with the full-data loss and gradient norm): the stopping
    /// tests, early stopping's at the end of an epoch, the monitor (observer, time limit,
    /// interrupt), and a record at its cadence or when it stops.
    fn step(&mut self, it: usize, theta: &[f64], loss: f64, grad_norm: f64) -> Option<Stop> {
        let out = self.loss.output_error(loss);
        let stop = if !loss.is_finite() || !grad_norm.is_finite() {
            Some(Stop::Diverged)
        } else if out <= self.settings.output_tol {
            Some(Stop::OutputTolerance)
        } else if grad_norm <= self.settings.grad_tol {
            Some(Stop::GradientTolerance)
        } else if it >= self.settings.max_iter {
            Some(Stop::IterationLimit)
        } else if it.is_multiple_of(self.epoch) {
            self.early.as_mut().and_then(|e| e.epoch(theta))
        } else {
            None
        };
        let name = self.settings.optimizer.name();
        let told = self.monitor.iteration(
            name,
            it,
            Some(self.settings.max_iter),
            out,
            &Figures { loss, grad_norm },
        );
        let stop = stop.or(told);
        if stop.is_some() {
            self.stopped_at = Some((theta.to_vec(), loss, grad_norm));
        }
        if stop.is_some() || it.is_multiple_of(self.settings.record_every()) {
            self.record(it, loss, grad_norm);
        }
        stop
    }

    fn record(&mut self, it: usize, loss: f64, grad_norm: f64) {
        if self.history.last().is_some_and(|r| r.iteration == it) {
            return;
        }
        self.history.push(GradRecord {
            iteration: it,
            loss,
            output_error: self.loss.output_error(loss),
            grad_norm,
            evaluations: self.evaluations,
            seconds: self.start.elapsed().as_secs_f64(),
        });
    }
}

/// The training loss as an L-BFGS problem; every evaluation is counted and every iteration goes
/// through the tracker's stopping rules.
struct NetProblem<'a, 'b, 'm> {
    tr: &'a mut Tracker<'b, 'm>,
    ws: Workspace,
}

impl crate::lbfgs::Objective for NetProblem<'_, '_, '_> {
    type Stop = Stop;
    fn eval(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        self.tr.evaluations += 1;
        self.tr.loss.eval(x, Some(g), &mut self.ws)
    }
    fn check(&mut self, it: usize, x: &[f64], f: f64, g: &[f64]) -> Option<Stop> {
        self.tr.step(it, x, f, norm(g))
    }
}

/// Refuses, before any work, a problem too large for the method: Levenberg–Marquardt forms the
/// Jacobian (the other methods have no such limit).
pub fn check_size(
    settings: &GradSettings,
    arch: &crate::net::Architecture,
    n_samples: usize,
) -> Result<()> {
    match settings.optimizer {
        Optimizer::Lm => lm::check_size(arch.n_parameters(), arch.n_outputs() * n_samples),
        _ => Ok(()),
    }
}

/// Trains `start` on `(x, y)` with the settings' optimiser. The monitor sees every iteration
/// whose full-data loss is known (every one but the mini-batch steps between records) and can
/// stop the run; the network is then the current iterate.
pub fn train(
    x: &crate::linalg::Matrix,
    y: &crate::linalg::Matrix,
    start: &Mlp,
    settings: &GradSettings,
    monitor: &mut Monitor,
) -> Result<GradRun> {
    train_weighted(x, y, None, start, settings, monitor)
}

/// [`train`] on a loss weighted by `weights` (one per sample; `None`: 1 each).
pub fn train_weighted(
    x: &crate::linalg::Matrix,
    y: &crate::linalg::Matrix,
    weights: Option<&[f64]>,
    start: &Mlp,
    settings: &GradSettings,
    monitor: &mut Monitor,
) -> Result<GradRun> {
    settings.validate()?;
    if weights.is_some() && matches!(settings.optimizer, Optimizer::Lm) {
        return Err(Error::setting(
            "data.weights",
            "Levenberg–Marquardt fits unweighted least squares; gd, sgd, adam and lbfgs take \
             sample weights",
        ));
    }
    // early stopping trains on a seeded part and holds the rest out
    let split = settings
        .early_stopping
        .map(|e| early::Split::new((x, y, weights), e.validation_fraction, settings.seed))
        .transpose()?;
    let (x, y, weights) = match &split {
        Some(s) => (&s.x, &s.y, s.weights.as_deref()),
        None => (x, y, weights),
    };
    let loss = Evaluator::for_loss(&start.arch, x, y, settings.loss)?
        .with_weights(weights)?
        .with_weight_decay(settings.weight_decay)
        .with_threads(settings.threads())
        .with_precision(settings.precision);
    let early = match (&split, settings.early_stopping) {
        (Some(s), Some(rule)) => Some(early::Watch::new(&start.arch, s, &loss, rule)?),
        _ => None,
    };
    // an epoch: one pass over the samples trained on
    let epoch = settings
        .optimizer
        .batch()
        .map_or(1, |b| x.cols().div_ceil(b.min(x.cols())));
    let mut theta = loss.layout.pack(start)?;
    // the squared loss's weight-decay objective has no output bias (`undecayed` is empty
    // otherwise)
    theta[loss.undecayed()].iter_mut().for_each(|v| *v = 0.0);
    let mut tr = Tracker {
        loss: &loss,
        settings,
        start: Instant::now(),
        evaluations: 0,
        history: Vec::new(),
        monitor,
        early,
        epoch,
        stopped_at: None,
    };
    let (stop, iters) = match &settings.optimizer {
        Optimizer::Gd { .. } | Optimizer::Sgd { .. } | Optimizer::Adam { .. } => {
            first_order(&mut theta, &mut tr)
        }
        Optimizer::Lbfgs { memory } => {
            let mut net = NetProblem {
                ws: loss.workspace(),
                tr: &mut tr,
            };
            match crate::lbfgs::minimize(&mut net, &mut theta, *memory) {
                (crate::lbfgs::End::Stopped(stop), it) => (stop, it),
                (crate::lbfgs::End::LineSearchFailed, it) => (Stop::LineSearchFailed, it),
            }
        }
        Optimizer::Lm => lm::run(&mut theta, &mut tr)?,
    };
    // early stopping keeps the best network on the held-out samples, as scikit-learn does
    let validation = tr.early.take().and_then(early::Watch::best);
    if let Some((best, _)) = &validation {
        if stop != Stop::Diverged {
            theta.clone_from(best);
        }
    }
    // the final figures, on the full data: those of the point the run stopped at when it ends
    // there (the same pass gave them), else one more pass
    let (l, g) = match tr.stopped_at.take() {
        Some((at, l, g)) if at == theta => (l, g),
        _ => {
            let mut ws = loss.workspace();
            let mut grad = vec![0.0; theta.len()];
            let l = loss.eval(&theta, Some(&mut grad), &mut ws);
            (l, norm(&grad))
        }
    };
    // a float32 network's parameters are float32 numbers; its passes saw no others, so the
    // figures above are its own
    theta
        .iter_mut()
        .for_each(|v| *v = settings.precision.round(*v));
    let model = loss.layout.unpack(&theta)?;
    Ok(GradRun {
        method: settings.optimizer.name().into(),
        summary: GradSummary {
            loss: l,
            data_loss: settings.loss,
            precision: settings.precision,
            weight_decay: settings.weight_decay,
            output_error: loss.output_error(l),
            grad_norm: g,
            iterations: iters,
            evaluations: tr.evaluations,
            stop_reason: stop,
            seconds: tr.start.elapsed().as_secs_f64(),
            validation_loss: validation.map(|v| v.1),
            validation_samples: split.as_ref().map(|s| s.x_val.cols()),
        },
        history: tr.history,
        model,
    })
}

/// Gradient descent, SGD with momentum, Adam. Returns the stop reason and the iteration count;
/// `theta` ends at the last finite iterate.
fn first_order(theta: &mut Vec<f64>, tr: &mut Tracker) -> (Stop, usize) {
    let loss = tr.loss;
    let opt = tr.settings.optimizer.clone();
    let n = loss.n_samples();
    let np = theta.len();
    let batch = opt.batch().map(|b| b.min(n));
    let mut ws = loss.workspace_for(batch.unwrap_or(n));
    let mut full_ws = batch.map(|_| loss.workspace());
    let mut grad = vec![0.0; np];
    let mut full_grad = vec![0.0; np];
    // momentum / first and second moments
    let (mut m1, mut m2) = (vec![0.0; np], vec![0.0; np]);
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(tr.settings.seed);
    let mut pos = n; // next sample of the epoch (n: reshuffle first)
    let mut last_good = theta.clone();
    let every = tr.settings.record_every();
    let mut it = 0;
    loop {
        // the full-data figures are computed for every full-batch step, and for mini-batches at
        // the recording cadence, the last step, and when the budget runs out
        let check = batch.is_none()
            || it % every == 0
            || (tr.early.is_some() && it % tr.epoch == 0)
            || it >= tr.settings.max_iter
            || tr.monitor.budget().exhausted().is_some();
        match batch {
            None => {
                tr.evaluations += 1;
                let l = loss.eval(theta, Some(&mut grad), &mut ws);
                if let Some(s) = tr.step(it, theta, l, norm(&grad)) {
                    if s == Stop::Diverged {
                        theta.clone_from(&last_good);
                    }
                    return (s, it);
                }
            }
            Some(b) => {
                // the full-data figures (and the stopping tests) at the recording cadence
                if check {
                    let fw = full_ws.as_mut().expect("allocated with a batch");
                    tr.evaluations += 1;
                    let l = loss.eval(theta, Some(&mut full_grad), fw);
                    if let Some(s) = tr.step(it, theta, l, norm(&full_grad)) {
                        if s == Stop::Diverged {
                            theta.clone_from(&last_good);
                        }
                        return (s, it);
                    }
                }
                if pos + b > n {
                    order.shuffle(&mut rng);
                    pos = 0;
                }
                tr.evaluations += 1;
                loss.eval_samples(theta, &order[pos..pos + b], &mut grad, &mut ws);
                pos += b;
            }
        }
        if !grad.iter().all(|g| g.is_finite()) {
            theta.clone_from(&last_good);
            return (Stop::Diverged, it);
        }
        if check {
            last_good.clone_from(theta);
        }
        it += 1;
        match opt {
            Optimizer::Gd { lr } => {
                for (t, g) in theta.iter_mut().zip(&grad) {
                    *t -= lr * g;
                }
            }
            Optimizer::Sgd { lr, momentum, .. } => {
                for ((t, g), v) in theta.iter_mut().zip(&grad).zip(m1.iter_mut()) {
                    *v = momentum * *v + g;
                    *t -= lr * *v;
                }
            }
            Optimizer::Adam {
                lr,
                beta1,
                beta2,
                eps,
                ..
            } => {
                let c1 = 1.0 - beta1.powi(it.min(i32::MAX as usize) as i32);
                let c2 = 1.0 - beta2.powi(it.min(i32::MAX as usize) as i32);
                let step = lr / c1;
                let c2s = c2.sqrt();
                for (((t, g), m), v) in theta
                    .iter_mut()
                    .zip(&grad)
                    .zip(m1.iter_mut())
                    .zip(m2.iter_mut())
                {
                    *m = beta1 * *m + (1.0 - beta1) * g;
                    *v = beta2 * *v + (1.0 - beta2) * g * g;
                    *t -= step * *m / (v.sqrt() / c2s + eps);
                }
            }
            Optimizer::Lbfgs { .. } | Optimizer::Lm => unreachable!("not a first-order method"),
        }
    }
}
