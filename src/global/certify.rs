//! How far a given two-layer ReLU network is from the best one: its objective
//! `(1/N) Σ_k Σ_i ℓ(f_k(x_i), y_ki) + (β/2)(‖W₁‖² + ‖b₁‖² + ‖W₂‖²)` (the output bias, if any,
//! unpenalised) next to the global lower bound certified by its own residual ([`super::dual`]).
//! The network can come from anywhere: a cvxnn model, or an ONNX file from PyTorch.

use super::columns::{generate, Generation};
use super::dual::{bound_of_residuals, global_lower_bound, BoundSettings, GlobalBound, OutputBias};
use crate::convex::{ConvexSettings, Formulation};
use crate::error::{Error, Result};
use crate::linalg::Matrix;
use crate::net::{Activation, Mlp};
use crate::train::{Budget, Limits};
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
    /// With `improve`: what column generation from the network's units found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub improved: Option<Improved>,
    pub seconds: f64,
}

/// Column generation started from the network's units (`BoundSettings::improve`).
#[derive(Clone, Debug, Serialize)]
pub struct Improved {
    /// The objective of the network it ended with (summed over outputs, each its own units): a
    /// network at least this good exists.
    pub objective: f64,
    pub rounds: usize,
    /// The bound certified by the network's own residual (`bound` is the higher of the two).
    pub own_bound: f64,
    /// The bound certified by the generation's dual point.
    pub generated_bound: f64,
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
    let (bound, improved) = if settings.improve {
        improve(x, y, &p, &units, settings, budget)?
    } else {
        (
            global_lower_bound(x, y, &p, &units, settings, budget)?,
            None,
        )
    };
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
        improved,
        seconds: budget.elapsed() - started,
    })
}

/// Time shares of `improve` under a time limit: column generation gets a third of it, then the
/// network's own bound half of what is left, the generated dual point's bound the rest.
const GENERATION_SHARE: f64 = 1.0 / 3.0;

/// The higher of the bounds certified by the network's residual and by the dual point of column
/// generation started from its units (each output on its own, without proof: the bound's own
/// search proves it).
fn improve(
    x: &Matrix,
    y: &Matrix,
    p: &Matrix,
    units: &[Vec<f64>],
    settings: &BoundSettings,
    budget: &Budget,
) -> Result<(GlobalBound, Option<Improved>)> {
    let share = |fraction: f64| -> Budget {
        Budget::start(&Limits {
            time_limit: budget.remaining().map(|r| r * fraction),
            interrupt: budget.interrupt().cloned(),
        })
    };
    let convex = ConvexSettings {
        formulation: Formulation::Relu,
        loss: settings.loss,
        beta: settings.beta,
        tol: settings.rel_tol.max(1e-9),
        ..ConvexSettings::default()
    };
    let generation = Generation {
        given: units.to_vec(),
        prove: false,
        threads: settings.threads,
        ..Generation::new(settings.seed)
    };
    let phase = share(GENERATION_SHARE);
    let mut residuals = Vec::with_capacity(y.rows());
    let mut objective = 0.0;
    let mut rounds = 0;
    let mut directions = units.to_vec();
    for k in 0..y.rows() {
        let out = generate(x, &y.row(k), &convex, &generation, &phase, &mut |_| None)?;
        rounds += out.rounds.len();
        objective += out.fit.bound.primal;
        directions.extend(out.fit.units.iter().map(|u| u.input.clone()));
        let dual = out.fit.dual_residual.clone().ok_or_else(|| {
            Error::Solver("column generation's last solve recorded no dual point".into())
        })?;
        residuals.push(dual);
    }
    let own = global_lower_bound(x, y, p, units, settings, &share(0.5))?;
    let generated = bound_of_residuals(x, y, &residuals, &directions, settings, budget)?;
    let improved = Improved {
        objective,
        rounds,
        own_bound: own.lower_bound,
        generated_bound: generated.lower_bound,
    };
    Ok((
        if generated.lower_bound > own.lower_bound {
            generated
        } else {
            own
        },
        Some(improved),
    ))
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
