//! How far a given two-layer ReLU network is from the best one: its objective
//! `(1/N) Σ_k Σ_i ℓ(f_k(x_i), y_ki) + (β/2)(‖W₁‖² + ‖b₁‖² + ‖W₂‖²)` (the output bias, if any,
//! unpenalised) next to the global lower bound certified by its own residual ([`super::dual`]).
//! The network can come from anywhere: a cvxnn model, or an ONNX file from PyTorch.

use super::dual::{global_lower_bound, BoundSettings, GlobalBound, OutputBias};
use crate::error::{Error, Result};
use crate::linalg::Matrix;
use crate::net::{Activation, Mlp};
use crate::train::Budget;
use serde::Serialize;

/// A network's objective against the global lower bound.
#[derive(Clone, Debug, Serialize)]
pub struct Certified {
    /// The network's objective (loss plus penalty).
    pub objective: f64,
    /// `(1/N) Σ ℓ`.
    pub loss_term: f64,
    /// `(β/2) Σ w²` over every weight and hidden bias.
    pub penalty: f64,
    /// Hidden units, and those that are not zero.
    pub units: usize,
    pub live_units: usize,
    pub bound: GlobalBound,
    /// `(objective − bound) / bound`: the network is at most this fraction above the best network
    /// the bound covers (`None` when the bound is not above 0).
    pub excess: Option<f64>,
    pub seconds: f64,
}

/// Certifies `net` on inputs `x` (d × N) and targets `y` (K × N) under `settings`, within
/// `budget` (a time limit or Ctrl-C keeps the bound reached).
pub fn certify(
    net: &Mlp,
    x: &Matrix,
    y: &Matrix,
    settings: &BoundSettings,
    budget: &Budget,
) -> Result<Certified> {
    settings.validate()?;
    check_two_layer(net)?;
    net.arch.check_data(x, y)?;
    let output_bias = &net.biases[1];
    if settings.output_bias == OutputBias::None && output_bias.iter().any(|&b| b != 0.0) {
        return Err(Error::InvalidArgument(format!(
            "the network has an output bias ({}), which the bound for networks without one does \
             not cover; certify it with `bound.output_bias` = free",
            output_bias
                .iter()
                .map(|b| format!("{b:.3e}"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let started = budget.elapsed();
    let p = net.forward(x)?;
    let loss = settings.loss;
    let n = x.cols() as f64;
    let mut loss_term = 0.0;
    for k in 0..y.rows() {
        let labels = loss.targets(&y.row(k))?;
        loss_term += (0..y.cols())
            .map(|i| loss.value(p.get(k, i), labels[i]))
            .sum::<f64>()
            / n;
    }
    let penalty = 0.5 * settings.beta * net.decayed_squares();
    let w1 = &net.weights[0];
    let units: Vec<Vec<f64>> = (0..w1.rows())
        .map(|j| {
            let mut u = w1.row(j);
            u.push(net.biases[0][j]);
            u
        })
        .collect();
    let live_units = (0..units.len())
        .filter(|&j| {
            units[j].iter().any(|&v| v != 0.0)
                && (0..net.weights[1].rows()).any(|k| net.weights[1].get(k, j) != 0.0)
        })
        .count();
    let bound = global_lower_bound(x, y, &p, &units, settings, budget)?;
    let objective = loss_term + penalty;
    let excess =
        (bound.lower_bound > 0.0).then(|| (objective - bound.lower_bound) / bound.lower_bound);
    Ok(Certified {
        objective,
        loss_term,
        penalty,
        units: units.len(),
        live_units,
        bound,
        excess,
        seconds: budget.elapsed() - started,
    })
}

/// Refuses any network but `d → m ReLU → K linear`.
fn check_two_layer(net: &Mlp) -> Result<()> {
    if net.arch.widths.len() != 3 {
        return Err(Error::InvalidArgument(format!(
            "the global bound covers two-layer networks (inputs, one ReLU hidden layer, linear \
             outputs); this one is {}",
            net.arch.spec()
        )));
    }
    if net.arch.output != Activation::Linear {
        return Err(Error::InvalidArgument(format!(
            "the global bound covers networks with linear outputs; this one ({}) has a {} output",
            net.arch.spec(),
            net.arch.output
        )));
    }
    Ok(())
}
