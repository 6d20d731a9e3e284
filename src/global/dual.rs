//! The global lower bound of docs/global.md §2 from a residual: dual scaling.
//!
//! For one output, the program over all patterns has the dual
//! `max −(1/N) Σ ℓ*(N s_i, y_i)` subject to `M(s) ≤ β` (docs/convex.md §4, §7, with the
//! constraint over every direction `u`). The scaled residual `r = ℓ'(p)/N` of any network,
//! moved into the conjugate's domain, is feasible once scaled by `t ≤ β / M̄` for a proven
//! `M̄ ≥ M(r)`, and the best such `t` gives the bound ([`Loss::dual_along`]). It is tight when `r`
//! is the optimal residual and `M̄ = M`.
//!
//! Which networks it covers:
//! - **Units.** With K outputs, [`Units::PerOutput`] is the program's own model (each output its
//!   own units: the bound is the sum of K scalar bounds) and covers only networks whose outputs
//!   share no hidden unit. [`Units::Shared`] covers every two-layer network: a unit with output
//!   weights `α ∈ R^K` pays at least `β ‖u‖ ‖α‖`, so the dual constraint is
//!   `max_u ‖Rᵀ(X̃u)₊‖ ≤ β`, and `√(Σ_k M̄_k²)` bounds its left side (each output's maximum taken
//!   separately); one common `t` scales every output's residual.
//! - **Output bias.** [`OutputBias::Free`] covers networks with an unpenalised output bias `c`:
//!   minimising over `c` adds the dual constraint `Σ_i s_i = 0`, so each output's residual is
//!   first centred (squared loss) or its two label classes' weights balanced (classification
//!   losses, which keeps every `a_i` in [0, 1]). [`OutputBias::None`] covers networks without one
//!   (the objective of docs/convex.md); its bound is higher.

use super::ascent::{ascend, AscentStarts};
use super::pricer::{price, PricingGoal, PricingStatus};
use super::Weighted;
use crate::convex::{Lifted, Loss};
use crate::error::{Error, Result};
use crate::linalg::Matrix;
use crate::train::Budget;
use serde::{Deserialize, Serialize};

/// Which networks' hidden units a bound covers, with several outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Units {
    /// Any two-layer network: outputs may share hidden units.
    #[default]
    Shared,
    /// Only networks in which each hidden unit feeds one output (the convex program's networks).
    PerOutput,
}

/// Whether the networks a bound covers may have an output bias.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum OutputBias {
    /// No output bias (the convex program's networks).
    #[default]
    None,
    /// Any output bias, unpenalised.
    Free,
}

/// What the bound is on and how hard to price.
#[derive(Clone, Debug)]
pub struct BoundSettings {
    pub loss: Loss,
    /// β of `(1/N) Σ ℓ + (β/2) Σ w²`.
    pub beta: f64,
    pub units: Units,
    pub output_bias: OutputBias,
    /// Run branch and bound; without it `M̄` is the spectral bound (no search, often 10× loose).
    pub prove: bool,
    /// `certify` also prices the dual point of column generation started from the network's
    /// units, and keeps the higher bound: for a network far from optimal its own residual
    /// certifies little.
    pub improve: bool,
    /// The pricer's relative accuracy on `M`.
    pub rel_tol: f64,
    pub max_cells: usize,
    /// Seed of the ascent's random starts.
    pub seed: u64,
    pub threads: usize,
}

impl BoundSettings {
    /// The defaults for `loss` and `beta`: proved, to 1e-6, on every core.
    pub fn new(loss: Loss, beta: f64) -> Self {
        Self {
            loss,
            beta,
            units: Units::default(),
            output_bias: OutputBias::default(),
            prove: true,
            improve: false,
            rel_tol: 1e-6,
            max_cells: PricingGoal::default().max_cells,
            seed: 0,
            threads: crate::linalg::threads::available(),
        }
    }

    pub fn validate(&self) -> Result<()> {
        if !(self.beta.is_finite() && self.beta > 0.0) {
            return Err(Error::setting(
                "convex.weight_decay",
                format!(
                    "must be a finite number above 0 for a global bound, got {}",
                    self.beta
                ),
            ));
        }
        if !(self.rel_tol.is_finite() && self.rel_tol >= 0.0) {
            return Err(Error::setting(
                "bound.rel_tol",
                format!("must be a finite number at least 0, got {}", self.rel_tol),
            ));
        }
        Ok(())
    }
}

/// The pricing of one output's residual.
#[derive(Clone, Debug, Serialize)]
pub struct OutputPricing {
    /// The spectral bound on `M` (no search).
    pub spectral: f64,
    /// The largest `|zᵀ(X̃u)₊|` found (`u` of unit norm): `M` is at least this.
    pub found: f64,
    /// The proven `M̄` the bound uses: the smaller of the spectral and branch-and-bound bounds.
    pub upper: f64,
    /// How branch and bound ended (`None`: not run).
    pub status: Option<PricingStatus>,
    pub cells: usize,
    pub seconds: f64,
    /// The direction `(w, b)` of `found`: a unit the network could add (a violating one when
    /// `found > β`).
    pub unit: Vec<f64>,
}

/// How far the proof went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BoundStatus {
    /// Branch and bound closed every cell: `M̄` is within the pricer's tolerance of `M`.
    Proved,
    /// Stopped by the time limit: the bound holds, with a looser `M̄`.
    TimeLimit,
    /// Stopped by Ctrl-C: the bound holds, with a looser `M̄`.
    Interrupted,
    /// Branch and bound reached its cell limit: the bound holds, with a looser `M̄`.
    CellLimit,
    /// Only the spectral `M̄` (branch and bound not asked for).
    CheapOnly,
}

impl BoundStatus {
    /// In a few words, for a table.
    pub fn describe(self) -> &'static str {
        match self {
            BoundStatus::Proved => "proved",
            BoundStatus::TimeLimit => "cut by its time limit (the bound holds, looser)",
            BoundStatus::Interrupted => "interrupted (the bound holds, looser)",
            BoundStatus::CellLimit => "cut by its cell limit (the bound holds, looser)",
            BoundStatus::CheapOnly => "spectral bound only",
        }
    }
}

/// A lower bound on the objective of every network in its scope.
#[derive(Clone, Debug, Serialize)]
pub struct GlobalBound {
    pub lower_bound: f64,
    /// Not a bound: what this residual would certify if `M̄` were the largest value found (the
    /// most any search can prove from it). Far above `lower_bound`: the search is the limit;
    /// close to it while far below the objective: the network is (the residual is not optimal).
    pub ceiling: Option<f64>,
    pub loss: Loss,
    pub weight_decay: f64,
    pub units: Units,
    pub output_bias: OutputBias,
    pub status: BoundStatus,
    pub outputs: Vec<OutputPricing>,
}

/// The global lower bound certified by the residual of the predictions `p` (K × N) on inputs
/// `x` (d × N) and targets `y` (K × N), under `budget`. `starts` are directions `(w, b)` for the
/// ascent to start from (the network's units).
pub fn global_lower_bound(
    x: &Matrix,
    y: &Matrix,
    p: &Matrix,
    starts: &[Vec<f64>],
    settings: &BoundSettings,
    budget: &Budget,
) -> Result<GlobalBound> {
    settings.validate()?;
    let (k_out, n) = y.shape();
    if x.cols() != n || p.shape() != y.shape() || n == 0 {
        return Err(Error::Shape(format!(
            "{} input samples, targets {:?}, predictions {:?}: need the same samples (at least \
             one) and one prediction per target",
            x.cols(),
            y.shape(),
            p.shape()
        )));
    }
    if !x.is_finite() || !y.is_finite() || !p.is_finite() {
        return Err(Error::NonFinite("the data or the network's outputs".into()));
    }
    let loss = settings.loss;
    let mut residuals = Vec::with_capacity(k_out);
    for k in 0..k_out {
        let labels = loss.targets(&y.row(k))?;
        residuals.push(
            (0..n)
                .map(|i| loss.derivative(p.get(k, i), labels[i]) / n as f64)
                .collect(),
        );
    }
    bound_of_residuals(x, y, &residuals, starts, settings, budget)
}

/// The global lower bound certified by scaled residuals `r_k` (one per output, each of length
/// N: a network's `ℓ'(p)/N`, or a solver's dual point), under `budget`.
pub fn bound_of_residuals(
    x: &Matrix,
    y: &Matrix,
    given: &[Vec<f64>],
    starts: &[Vec<f64>],
    settings: &BoundSettings,
    budget: &Budget,
) -> Result<GlobalBound> {
    settings.validate()?;
    let (k_out, n) = y.shape();
    if given.len() != k_out || given.iter().any(|r| r.len() != n) || x.cols() != n {
        return Err(Error::Shape(format!(
            "{} residuals for targets {:?} and {} input samples",
            given.len(),
            y.shape(),
            x.cols()
        )));
    }
    let data = Lifted::new(x);
    let loss = settings.loss;
    let mut residuals = Vec::with_capacity(k_out * n);
    let mut labels_all = Vec::with_capacity(k_out * n);
    let mut outputs = Vec::with_capacity(k_out);
    for (k, r) in given.iter().enumerate() {
        let labels = loss.targets(&y.row(k))?;
        let mut r = r.clone();
        if r.iter().any(|v| !v.is_finite()) {
            return Err(Error::NonFinite(format!(
                "the residual of output {}",
                k + 1
            )));
        }
        loss.into_domain(&mut r, &labels, None);
        if settings.output_bias == OutputBias::Free {
            balance(&mut r, &labels, loss);
        }
        let alone = k_out == 1 || settings.units == Units::PerOutput;
        outputs.push(price_output(
            &data, &r, &labels, starts, settings, alone, budget,
        ));
        residuals.extend_from_slice(&r);
        labels_all.extend_from_slice(&labels);
    }
    // the bound for a given M̄ per output
    let scaled = |m: &dyn Fn(&OutputPricing) -> f64| -> f64 {
        match settings.units {
            Units::PerOutput => outputs
                .iter()
                .enumerate()
                .map(|(k, o)| {
                    let range = k * n..(k + 1) * n;
                    loss.dual_along(
                        &residuals[range.clone()],
                        &labels_all[range],
                        n,
                        None,
                        m(o),
                        settings.beta,
                    )
                })
                .sum(),
            Units::Shared => {
                let worst = outputs.iter().map(|o| m(o).powi(2)).sum::<f64>().sqrt();
                loss.dual_along(&residuals, &labels_all, n, None, worst, settings.beta)
            }
        }
    };
    let lower_bound = scaled(&|o| o.upper);
    let ceiling = if settings.prove {
        Some(scaled(&|o| o.found.max(f64::MIN_POSITIVE)))
    } else {
        None
    };
    let status = if !settings.prove {
        BoundStatus::CheapOnly
    } else {
        let worst = outputs
            .iter()
            .filter_map(|o| o.status)
            .find(|s| *s != PricingStatus::Proved);
        match worst {
            None => BoundStatus::Proved,
            Some(PricingStatus::TimeLimit) => BoundStatus::TimeLimit,
            Some(PricingStatus::Interrupted) => BoundStatus::Interrupted,
            Some(_) => BoundStatus::CellLimit,
        }
    };
    Ok(GlobalBound {
        lower_bound,
        ceiling,
        loss,
        weight_decay: settings.beta,
        units: settings.units,
        output_bias: settings.output_bias,
        status,
        outputs,
    })
}

/// Makes `Σ r_i = 0` while keeping `r` in the loss's domain: centred for the squared loss; for
/// the classification losses (`r_i = −y_i a_i / N`, `a_i ∈ [0, 1]`) the heavier label class's
/// `a_i` are scaled down to the lighter one's total.
fn balance(r: &mut [f64], labels: &[f64], loss: Loss) {
    if !loss.classifies() {
        let mean = r.iter().sum::<f64>() / r.len() as f64;
        r.iter_mut().for_each(|v| *v -= mean);
        return;
    }
    // Σ_{y=+1} a_i and Σ_{y=−1} a_i, with a_i = −y_i N r_i ≥ 0
    let side = |s: f64| -> f64 {
        r.iter()
            .zip(labels)
            .filter(|(_, &y)| y == s)
            .map(|(v, _)| -s * v)
            .sum()
    };
    let (plus, minus) = (side(1.0), side(-1.0));
    let (heavy, ratio) = if plus > minus {
        (1.0, minus / plus)
    } else if minus > 0.0 {
        (-1.0, plus / minus)
    } else {
        return;
    };
    for (v, &y) in r.iter_mut().zip(labels) {
        if y == heavy {
            *v *= ratio;
        }
    }
}

/// `M̄` for one output's residual `r`: spectral, then (if asked) ascent and branch and bound.
/// `alone`: this output's scale is its own (one output, or units per output).
fn price_output(
    data: &Lifted,
    r: &[f64],
    labels: &[f64],
    starts: &[Vec<f64>],
    settings: &BoundSettings,
    alone: bool,
    budget: &Budget,
) -> OutputPricing {
    let spectral = spectral_bound(data, r);
    let w = Weighted { data, z: r };
    let mut out = OutputPricing {
        spectral,
        found: 0.0,
        upper: spectral,
        status: None,
        cells: 0,
        seconds: 0.0,
        unit: vec![0.0; data.dim()],
    };
    if !settings.prove || spectral == 0.0 {
        return out;
    }
    let started = budget.elapsed();
    let incumbent = ascend(
        &w,
        &AscentStarts {
            given: starts.to_vec(),
            seed: settings.seed,
            ..AscentStarts::default()
        },
        budget,
        settings.threads,
    );
    // below β / t* the scale is not limited by M, so proving more does not raise the bound
    let t_free = settings
        .loss
        .best_scale(r, labels, r.len(), None, f64::INFINITY);
    // (with shared units several outputs share one scale: prove M to the tolerance instead)
    let target = if t_free > 0.0 && alone {
        settings.beta / t_free
    } else {
        0.0
    };
    let goal = PricingGoal {
        target,
        rel_tol: settings.rel_tol,
        max_cells: settings.max_cells,
    };
    let priced = price(&w, &goal, incumbent, budget, settings.threads);
    out.found = priced.lower;
    out.upper = spectral.min(priced.upper);
    out.status = Some(priced.status);
    out.cells = priced.cells;
    out.seconds = budget.elapsed() - started;
    out.unit = priced.best;
    out
}

/// The spectral bound of docs/global.md §2: with `I₊`, `I₋` the samples where `r` is positive
/// and negative, `M₊(r) ≤ ‖r_{I₊}‖ σ_max(X̃_{I₊})` and symmetrically for `M₋`. `σ_max²` is the
/// largest eigenvalue of the d̃ × d̃ Gram matrix, taken as its largest singular value.
pub fn spectral_bound(data: &Lifted, r: &[f64]) -> f64 {
    let k = data.dim();
    let side = |positive: bool| -> f64 {
        let mut gram = Matrix::zeros(k, k);
        let mut norm2 = 0.0;
        for (i, &v) in r.iter().enumerate() {
            if (v > 0.0) != positive || v == 0.0 {
                continue;
            }
            norm2 += v * v;
            let a = data.row(i);
            for p in 0..k {
                for q in 0..k {
                    gram.set(p, q, gram.get(p, q) + a[p] * a[q]);
                }
            }
        }
        if norm2 == 0.0 {
            return 0.0;
        }
        let top = gram
            .singular_values()
            .ok()
            .and_then(|s| s.first().copied())
            // the trace bounds the largest eigenvalue if the decomposition fails
            .unwrap_or_else(|| (0..k).map(|p| gram.get(p, p)).sum());
        norm2.sqrt() * top.sqrt()
    };
    // rounding of the Gram sums and the decomposition: a relative margin far above it
    side(true).max(side(false)) * (1.0 + 1e-9)
}
