//! Early stopping: a seeded part of the samples held out for validation, its loss after every
//! epoch, the best network on it, and the stop once it has not improved for `patience` epochs —
//! scikit-learn's `early_stopping`, on the validation loss (the data term) rather than a score.

use super::model::{Evaluator, Workspace};
use crate::error::{Error, Result};
use crate::linalg::Matrix;
use crate::net::Architecture;
use crate::train::Stop;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

/// When to stop on held-out data.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopping {
    /// The share of the samples held out (at least one, and at least one left to train on).
    pub validation_fraction: f64,
    /// Epochs without an improvement of more than `tol` after which the run stops.
    pub patience: usize,
    /// The improvement of the validation loss that counts.
    pub tol: f64,
}

impl EarlyStopping {
    pub fn validate(&self) -> Result<()> {
        if !(self.validation_fraction > 0.0 && self.validation_fraction < 1.0) {
            return Err(Error::setting(
                "gradient.validation_fraction",
                format!("must be in (0, 1), got {}", self.validation_fraction),
            ));
        }
        if self.patience == 0 {
            return Err(Error::setting(
                "gradient.n_iter_no_change",
                "must be at least 1",
            ));
        }
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return Err(Error::setting(
                "gradient.validation_tol",
                format!("must be finite and ≥ 0, got {}", self.tol),
            ));
        }
        Ok(())
    }
}

/// The samples split into the part trained on and the part held out.
pub struct Split {
    pub x: Matrix,
    pub y: Matrix,
    pub weights: Option<Vec<f64>>,
    pub x_val: Matrix,
    pub y_val: Matrix,
    pub weights_val: Option<Vec<f64>>,
}

impl Split {
    /// A seeded random `fraction` of the samples (rounded, at least one) held out; the rest, in
    /// their order, trained on.
    pub fn new(
        (x, y, weights): (&Matrix, &Matrix, Option<&[f64]>),
        fraction: f64,
        seed: u64,
    ) -> Result<Self> {
        let n = x.cols();
        if n < 2 {
            return Err(Error::setting(
                "gradient.validation_fraction",
                format!("early stopping holds samples out: {n} sample(s) are too few"),
            ));
        }
        let held = ((fraction * n as f64).round() as usize).clamp(1, n - 1);
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
        let (mut val, mut train) = (order[..held].to_vec(), order[held..].to_vec());
        val.sort_unstable();
        train.sort_unstable();
        let pick = |m: &Matrix, idx: &[usize]| {
            Matrix::from_fn(m.rows(), idx.len(), |i, k| m.get(i, idx[k]))
        };
        let weights_of =
            |idx: &[usize]| weights.map(|w| idx.iter().map(|&j| w[j]).collect::<Vec<_>>());
        let split = Self {
            x: pick(x, &train),
            y: pick(y, &train),
            weights: weights_of(&train),
            x_val: pick(x, &val),
            y_val: pick(y, &val),
            weights_val: weights_of(&val),
        };
        for (part, w) in [
            ("trained on", &split.weights),
            ("held out", &split.weights_val),
        ] {
            if w.as_ref().is_some_and(|w| w.iter().all(|&v| v == 0.0)) {
                return Err(Error::setting(
                    "gradient.validation_fraction",
                    format!("every sample {part} has weight 0"),
                ));
            }
        }
        Ok(split)
    }
}

/// The validation loss after each epoch and the best network so far.
pub struct Watch<'a> {
    eval: Evaluator<'a>,
    ws: Workspace,
    rule: EarlyStopping,
    best: f64,
    best_theta: Vec<f64>,
    /// Epochs since the last improvement.
    stale: usize,
}

impl<'a> Watch<'a> {
    /// The held-out samples of `split`, evaluated as `training` evaluates the others (data
    /// term, precision, threads; no weight decay).
    pub fn new(
        arch: &Architecture,
        split: &'a Split,
        training: &Evaluator,
        rule: EarlyStopping,
    ) -> Result<Self> {
        let eval = Evaluator::for_loss(arch, &split.x_val, &split.y_val, training.loss)?
            .with_weights(split.weights_val.as_deref())?
            .with_threads(training.threads())
            .with_precision(training.precision());
        Ok(Self {
            ws: eval.workspace(),
            eval,
            rule,
            best: f64::INFINITY,
            best_theta: Vec::new(),
            stale: 0,
        })
    }

    /// After an epoch at `theta`: records the validation loss, and says stop when it has not
    /// improved by more than `tol` for `patience` epochs.
    pub fn epoch(&mut self, theta: &[f64]) -> Option<Stop> {
        let v = self.eval.eval(theta, None, &mut self.ws);
        if v < self.best - self.rule.tol || self.best_theta.is_empty() {
            self.stale = 0;
        } else {
            self.stale += 1;
        }
        if v < self.best {
            self.best = v;
            self.best_theta = theta.to_vec();
        }
        (v.is_finite() && self.stale >= self.rule.patience).then_some(Stop::EarlyStopped)
    }

    /// The best network's parameters and its validation loss (`None` before any epoch).
    pub fn best(self) -> Option<(Vec<f64>, f64)> {
        (!self.best_theta.is_empty()).then_some((self.best_theta, self.best))
    }
}
