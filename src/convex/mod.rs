//! The exact convex reformulation of two-layer ReLU training with weight decay (Pilanci & Ergen
//! 2020; docs/convex.md). For data `X` (d × N), targets `y` and `X̃ = [X, 1]`, training
//! `f(x) = Σ_j α_j (u_jᵀx̃)₊` on
//!
//! ```text
//! (1/2N) ‖f(X) − y‖² + (β/2) Σ_j (‖u_j‖² + α_j²)
//! ```
//!
//! (or any convex loss of the outputs in place of the squared one: [`loss`]) has the optimal value
//! of a group-lasso-like convex program over the activation patterns of the data ([`patterns`]),
//! solved here by an interior point ([`ipm`], the reference), working sets of
//! exactly solved restricted programs ([`active_set`], large N) or a first-order method
//! ([`first_order`]), all ending in the same certificate ([`certificate`]). With every
//! pattern enumerated the optimum is that of the non-convex problem (global); with sampled
//! patterns it is the optimum of a restricted model, an upper bound only.

pub mod active_set;
pub mod certificate;
pub mod clarabel_run;
pub mod first_order;
pub mod gated_cg;
pub mod gated_newton;
pub mod gram;
pub mod ipm;
pub mod lifted;
pub mod loss;
pub mod newton;
pub mod patterns;
pub mod program;

pub use active_set::ActiveSetSettings;
pub use certificate::Bound;
pub use certificate::Progress;
pub use first_order::FirstOrderSettings;
pub use ipm::IpmSettings;
pub use lifted::Lifted;
pub use loss::Loss;
pub use patterns::{general_position_count, Patterns};
pub use program::Program;

use crate::error::{Error, Result};
use crate::linalg::Matrix;
use crate::train::{Budget, Stop};
use serde::{Deserialize, Serialize};

/// Which convex model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Formulation {
    /// The cone-constrained program whose optimum is that of ReLU training.
    Relu,
    /// Fixed gates, no constraints: units `1[g_iᵀx̃ ≥ 0] u_iᵀx̃`.
    Gated,
}

/// Which patterns.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum PatternChoice {
    /// Every pattern of the data, refusing when there may be more than `max`.
    All { max: usize },
    /// `count` gates drawn from N(0, I) with `seed`.
    Sample { count: usize, seed: u64 },
    /// Given gate vectors (each of length d + 1, the last entry multiplying the bias's 1), e.g.
    /// another solver's, so that both solve the same program.
    Given {
        #[serde(skip)]
        gates: Vec<Vec<f64>>,
        /// Where they came from.
        source: String,
    },
}

/// Which solver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SolverKind {
    /// The interior point when its constraint matrix has at most [`AUTO_IPM_NONZEROS`]
    /// non-zeros and either every pattern is enumerated or the ReLU model with the squared loss
    /// has fewer than [`AUTO_IPM_SAMPLES_PER_DIM`] samples per dimension; else the working sets.
    Auto,
    Ipm,
    FirstOrder,
    /// Working sets of groups and cone rows, each restricted program solved exactly.
    ActiveSet,
}

/// `auto` picks the interior point for enumerated patterns up to this many non-zeros in its
/// constraint matrix. Its time follows the non-zeros, not the rows (bench/README.md, 2 cores):
/// 0.6 million (2-D teacher, N = 40, 1 561 patterns, ReLU) took 3 s, 3.3 million (ReLU,
/// N = 1 000, d = 10, 100 patterns) 38 s, and 21 million (gated, N = 10⁴, d = 20, 200 patterns)
/// did not finish in 300 s. On enumerated arrangements the working sets grow towards every group
/// (the 2-D teacher: past 1 400 groups at a gap of 0.8 within a minute; docs/convex.md §5), so the
/// interior point keeps them wherever it fits. On sampled gates `auto` uses the working sets: on
/// the gated model they were as fast or faster on every case measured (bench/README.md); on the
/// ReLU model faster on low-dimensional data (7.4 s against 103 s on a 5-D teacher, N = 5 000,
/// 60 gates) and up to 4× slower with d̃ = 11 and 31 (breast_cancer, 50 gates: 56 s against
/// 13 s), with no size measure that separated the two (docs/convex.md §5).
pub const AUTO_IPM_NONZEROS: usize = 4_000_000;

/// On sampled or given gates `auto` picks the interior point for the ReLU model with the squared
/// loss (within [`AUTO_IPM_NONZEROS`]) when there are fewer than this many samples per
/// dimension, N < 30 d̃:
/// the working sets take each group's cone rows d̃ at a time, so where a group has few multiples
/// of d̃ samples they end up holding most rows after many rounds, each a fresh Clarabel solve.
/// Measured (2 cores, one run each; bench/README.md), working sets against interior point, by
/// N / d̃: 5-D teacher N = 5 000 (833) 7.4 s against 103 s; 2-D teacher N = 1 000 (333) 0.4 s
/// against 2.4 s; d = 10 teacher N = 1 000 (91) 26.8 s against 40.3 s; diabetes (40) 6.0 s
/// against 5.2 s; breast_cancer (18) 20.4 s against 13.2 s; d = 60 teacher N = 300, 40 gates
/// (4.9) 25 s against 8.2 s. Not for the logistic loss, whose interior point takes exponential
/// cones: breast_cancer (18), 10 gates, β = 0.1, took 8.2 s against 3.0 s.
pub const AUTO_IPM_SAMPLES_PER_DIM: usize = 30;

impl Formulation {
    /// Every value with a line of help.
    pub const CHOICES: &[(&str, &str)] = &[
        (
            "relu",
            "The cone-constrained program whose optimum is that of two-layer ReLU training",
        ),
        (
            "gated",
            "Fixed gates, no constraints (a different model; its network is a cone decomposition)",
        ),
    ];
}

impl SolverKind {
    /// Every value with a line of help.
    pub const CHOICES: &[(&str, &str)] = &[
        (
            "auto",
            "Interior point up to 4 million non-zeros in its constraint matrix when every \
             pattern is enumerated or the squared-loss ReLU model has fewer than 30 samples per \
             dimension (N < 30(d + 1)); else active-set",
        ),
        ("ipm", "Interior point (Clarabel): the certified reference"),
        (
            "first-order",
            "Working-set FISTA with an augmented Lagrangian (squared loss; slower than \
             active-set on every case measured)",
        ),
        (
            "active-set",
            "Working sets of groups and cone rows, each restricted program solved exactly \
             (large N, sampled patterns)",
        ),
    ];

    pub fn name(self) -> &'static str {
        match self {
            SolverKind::Auto => "auto",
            SolverKind::Ipm => "ipm",
            SolverKind::FirstOrder => "first-order",
            SolverKind::ActiveSet => "active-set",
        }
    }
}

/// Every knob of the convex model.
#[derive(Clone, Debug, Serialize)]
pub struct ConvexSettings {
    pub formulation: Formulation,
    /// The loss of each output (one-vs-rest for the classification losses).
    pub loss: Loss,
    /// β: the weight decay of the non-convex objective (and the group penalty of the convex one).
    pub beta: f64,
    /// β's solved before `beta`, in this order, each from the solution of the one before (a
    /// warm-started regularisation path; docs/convex.md §5). Empty: `beta` alone.
    pub path: Vec<f64>,
    pub patterns: PatternChoice,
    pub solver: SolverKind,
    /// Relative duality gap to reach.
    pub tol: f64,
    /// First-order iterations, or working-set rounds.
    pub max_iter: usize,
}

impl Default for ConvexSettings {
    fn default() -> Self {
        Self {
            formulation: Formulation::Relu,
            loss: Loss::Squared,
            beta: 1e-3,
            path: Vec::new(),
            patterns: PatternChoice::All { max: 20_000 },
            solver: SolverKind::Auto,
            tol: 1e-6,
            max_iter: 100_000,
        }
    }
}

impl ConvexSettings {
    /// Refuses settings out of range (errors name the request keys, `convex.weight_decay`, …).
    pub fn validate(&self) -> Result<()> {
        if !(self.beta.is_finite() && self.beta > 0.0) {
            return Err(Error::setting(
                "convex.weight_decay",
                format!(
                    "must be positive: the convex model needs weight decay β > 0 (e.g. 1e-3){}",
                    if self.beta == 0.0 {
                        String::new()
                    } else {
                        format!(", got {}", self.beta)
                    }
                ),
            ));
        }
        if let Some(b) = self.path.iter().find(|b| !(b.is_finite() && **b > 0.0)) {
            return Err(Error::setting(
                "convex.weight_decay_path",
                format!("must hold finite positive β's, got {b}"),
            ));
        }
        if !(self.tol.is_finite() && self.tol > 0.0 && self.tol < 1.0) {
            return Err(Error::setting(
                "convex.gap_tol",
                format!("must be in (0, 1), got {}", self.tol),
            ));
        }
        if self.loss != Loss::Squared && self.solver == SolverKind::FirstOrder {
            return Err(Error::setting(
                "convex.solver",
                format!(
                    "first-order takes the squared loss only; the {} loss is solved by ipm or \
                     active-set",
                    self.loss.name()
                ),
            ));
        }
        if self.max_iter == 0 {
            return Err(Error::setting("convex.max_iter", "must be at least 1"));
        }
        match &self.patterns {
            PatternChoice::All { max: 0 } => {
                Err(Error::setting("convex.max_patterns", "must be at least 1"))
            }
            PatternChoice::Sample { count: 0, .. } => {
                Err(Error::setting("convex.patterns", "must be at least 1"))
            }
            PatternChoice::Given { gates, source } if gates.is_empty() => Err(Error::setting(
                "convex.gates",
                format!("{source} holds no gate vectors"),
            )),
            _ => Ok(()),
        }
    }
}

/// One ReLU unit `α (wᵀx + b)₊` of the network read off a solution.
#[derive(Clone, Debug)]
pub struct Unit {
    /// `(w, b)`: the first-layer weights and bias.
    pub input: Vec<f64>,
    pub output: f64,
}

/// A solved scalar convex model.
#[derive(Clone, Debug)]
pub struct ConvexFit {
    /// The solution, d̃ × groups, with its negligible groups zeroed (the network's groups).
    pub u: Vec<f64>,
    pub bound: Bound,
    /// The solution is a point of the program (see [`certificate::admissible`]), so that
    /// `bound.primal` bounds its optimum from above.
    pub feasible: bool,
    /// Every pattern enumerated.
    pub complete: bool,
    pub n_patterns: usize,
    /// Largest relative cone violation of the solver's point (ReLU model).
    pub violation: f64,
    pub iterations: usize,
    pub stop: Stop,
    /// The ReLU units, balanced (`‖(w, b)‖ = |α|`).
    pub units: Vec<Unit>,
    /// For the gated model: its units were turned into ReLU units by a cone decomposition
    /// (docs/convex.md §3); false where a unit could not be decomposed exactly.
    pub exact_network: bool,
    /// The solver that ran (`auto` resolved).
    pub solver: SolverKind,
    /// The optima of the path's β's before `beta` (empty without a path).
    pub path: Vec<PathPoint>,
    /// The scaled residual behind `bound.dual` ([`certificate::Solved::dual_residual`]).
    pub dual_residual: Option<Vec<f64>>,
}

/// One β of a warm-started path: its certificate and how it ended.
#[derive(Clone, Debug, Serialize)]
pub struct PathPoint {
    pub beta: f64,
    pub objective: f64,
    pub dual_bound: f64,
    pub rel_gap: f64,
    /// Non-zero groups of the solution (after dropping the negligible ones).
    pub groups: usize,
    pub iterations: usize,
    pub stop: Stop,
    /// Since the start of the fit.
    pub seconds: f64,
}

/// Solves the scalar convex model for inputs `x` (d × N) and targets `y`, under `budget`
/// (deadline, interrupt), telling `on_iteration` every first-order iteration.
pub fn fit(
    x: &Matrix,
    y: &[f64],
    settings: &ConvexSettings,
    budget: &Budget,
    on_iteration: &mut dyn FnMut(&Progress) -> Option<Stop>,
) -> Result<ConvexFit> {
    fit_weighted(x, y, None, settings, budget, on_iteration)
}

/// [`fit`] with every sample's loss weighted by `weights` (finite, ≥ 0, a positive sum):
/// `Σ_n w_n ℓ(p_n, y_n) / Σ w + (β/2)‖θ‖²`, which integer weights make the program of the
/// repeated rows. Samples of weight 0 are left out and the others' weights scaled to
/// `w'_n = N' w_n / Σ w` over the N' kept, so the program averages `w'_n ℓ` over N' samples.
/// The squared loss takes them as the rows `√w'_n x̃_n` with targets `√w'_n y_n`
/// ([`Lifted::scaled`]), so every solver, pattern and certificate is the plain program's on
/// them; the classification losses carry them in the program ([`Program::weights`]), whose
/// dual is `−(1/N') Σ w'_n ℓ*(N' s_n / w'_n)`.
pub fn fit_weighted(
    x: &Matrix,
    y: &[f64],
    weights: Option<&[f64]>,
    settings: &ConvexSettings,
    budget: &Budget,
    on_iteration: &mut dyn FnMut(&Progress) -> Option<Stop>,
) -> Result<ConvexFit> {
    let Some(w) = weights else {
        return fit_scaled(x, y, Weighting::None, settings, budget, on_iteration);
    };
    if w.len() != y.len() || w.iter().any(|v| !(v.is_finite() && *v >= 0.0)) {
        return Err(Error::Shape(format!(
            "{} sample weights for {} samples (each finite and ≥ 0)",
            w.len(),
            y.len()
        )));
    }
    let kept: Vec<usize> = (0..y.len()).filter(|&j| w[j] > 0.0).collect();
    let total: f64 = kept.iter().map(|&j| w[j]).sum();
    if kept.is_empty() {
        return Err(Error::setting(
            "data.weights",
            "are all 0: no sample counts",
        ));
    }
    let n = kept.len() as f64;
    let scaled: Vec<f64> = kept.iter().map(|&j| n * w[j] / total).collect();
    let xk = Matrix::from_fn(x.rows(), kept.len(), |i, k| x.get(i, kept[k]));
    if settings.loss.classifies() {
        let yk: Vec<f64> = kept.iter().map(|&j| y[j]).collect();
        let weighting = Weighting::Loss(&scaled);
        return fit_scaled(&xk, &yk, weighting, settings, budget, on_iteration);
    }
    let scale: Vec<f64> = scaled.iter().map(|v| v.sqrt()).collect();
    let yk: Vec<f64> = kept.iter().zip(&scale).map(|(&j, s)| s * y[j]).collect();
    fit_scaled(
        &xk,
        &yk,
        Weighting::Rows(&scale),
        settings,
        budget,
        on_iteration,
    )
}

/// How a weighted fit carries its weights into the program.
#[derive(Clone, Copy)]
enum Weighting<'w> {
    None,
    /// The rows `s_n x̃_n` (`y` already scaled): the squared loss.
    Rows(&'w [f64]),
    /// The program's weights of each sample's loss: the classification losses.
    Loss(&'w [f64]),
}

/// [`fit`] with the samples weighted as `weighting` says.
fn fit_scaled(
    x: &Matrix,
    y: &[f64],
    weighting: Weighting,
    settings: &ConvexSettings,
    budget: &Budget,
    on_iteration: &mut dyn FnMut(&Progress) -> Option<Stop>,
) -> Result<ConvexFit> {
    settings.validate()?;
    if x.cols() != y.len() || y.is_empty() {
        return Err(Error::Shape(format!(
            "{} input and {} target samples (need the same, at least one)",
            x.cols(),
            y.len()
        )));
    }
    if !x.is_finite() || y.iter().any(|v| !v.is_finite()) {
        return Err(Error::NonFinite("the convex model's data".into()));
    }
    let y = settings.loss.targets(y)?;
    let (scale, loss_weights) = match weighting {
        Weighting::None => (None, None),
        Weighting::Rows(s) => (Some(s), None),
        Weighting::Loss(w) => (None, Some(w)),
    };
    let data = Lifted::scaled(x, scale);
    let pats = match &settings.patterns {
        PatternChoice::All { max } => patterns::enumerate(&data, *max)?,
        PatternChoice::Sample { count, seed } => patterns::sample(&data, *count, *seed)?,
        PatternChoice::Given { gates, .. } => patterns::given(&data, gates)?,
    };
    let program = |beta: f64| {
        let mut prog = Program::new(
            &data,
            &y,
            settings.loss,
            &pats,
            settings.formulation == Formulation::Relu,
            beta,
        );
        prog.weights = loss_weights;
        prog
    };
    let prog = program(settings.beta);
    let solver = match settings.solver {
        SolverKind::Auto
            if (pats.complete
                || (prog.constrained
                    && prog.loss == Loss::Squared
                    && prog.n() < AUTO_IPM_SAMPLES_PER_DIM * prog.dim()))
                && ipm::nonzeros(&prog) <= AUTO_IPM_NONZEROS =>
        {
            SolverKind::Ipm
        }
        SolverKind::Auto => SolverKind::ActiveSet,
        chosen => chosen,
    };
    let clock = std::time::Instant::now();
    let mut path = Vec::new();
    let mut warm: Option<Vec<f64>> = None;
    // the solver's iterations are numbered, and its seconds counted, across the path
    let mut base = 0;
    let mut solve_from = |prog: &Program, warm: Option<&[f64]>, base: usize| {
        let before = clock.elapsed().as_secs_f64();
        solve(prog, solver, settings, warm, budget, &mut |p| {
            on_iteration(&p.shifted(base, before))
        })
    };
    for &beta in &settings.path {
        // stopped (time limit, interrupt): straight to the run's own β, certified where it is
        if budget.exhausted().is_some() {
            break;
        }
        let prog = program(beta);
        let solved = solve_from(&prog, warm.as_deref(), base)?;
        let u = sparsify(&prog, &solved.u, settings.tol);
        path.push(PathPoint {
            beta,
            objective: solved.bound.primal,
            dual_bound: solved.bound.dual,
            rel_gap: solved.bound.rel_gap,
            groups: program::nonzero_groups(&u, prog.dim()),
            iterations: solved.iterations,
            stop: solved.stop,
            seconds: clock.elapsed().as_secs_f64(),
        });
        base += solved.iterations + 1;
        warm = Some(u);
    }
    let solved = solve_from(&prog, warm.as_deref(), base)?;
    let u = sparsify(&prog, &solved.u, settings.tol);
    let (units, exact_network) = read_off(&prog, &u);
    Ok(ConvexFit {
        u,
        bound: solved.bound,
        feasible: solved.feasible,
        complete: pats.complete,
        n_patterns: pats.len(),
        violation: solved.violation,
        iterations: solved.iterations,
        stop: solved.stop,
        units,
        exact_network,
        solver,
        path,
        dual_residual: solved.dual_residual,
    })
}

/// `prog` solved by `solver` from `warm` (the interior point takes no start).
fn solve(
    prog: &Program,
    solver: SolverKind,
    settings: &ConvexSettings,
    warm: Option<&[f64]>,
    budget: &Budget,
    on_iteration: &mut dyn FnMut(&Progress) -> Option<Stop>,
) -> Result<certificate::Solved> {
    Ok(match solver {
        SolverKind::Auto => unreachable!("resolved by the caller"),
        SolverKind::Ipm => {
            // Clarabel's own default (1e-9) unless a tighter gap is asked for, down to the
            // 1e-12 its factorisations still reach
            let ipm = IpmSettings {
                tol: settings.tol.clamp(1e-12, IpmSettings::default().tol),
                ..IpmSettings::default()
            };
            ipm::solve(prog, &ipm, budget, on_iteration)?
        }
        SolverKind::FirstOrder => {
            let fo = FirstOrderSettings {
                tol: settings.tol,
                max_iter: settings.max_iter,
            };
            first_order::solve(prog, &fo, warm, on_iteration)
        }
        SolverKind::ActiveSet => {
            let settings = ActiveSetSettings {
                tol: settings.tol,
                max_rounds: settings.max_iter,
            };
            active_set::solve(prog, &settings, warm, budget, on_iteration)?
        }
    })
}

/// The solution with its negligible groups dropped: the largest threshold among
/// `10⁻³ … 10⁻⁹` of the largest group's norm below which groups can be zeroed while the
/// objective (the network's, for the ReLU model) rises by at most `tol / 10` relative. Interior
/// points leave every group slightly non-zero (measured: 17 units of norm² ≥ 5e-3 and 17 more of
/// norm² ≤ 3e-6 on a 2-D teacher); the first-order solver's zeros are exact.
fn sparsify(prog: &Program, u: &[f64], tol: f64) -> Vec<f64> {
    let dim = prog.dim();
    let norms = program::group_norms(u, dim);
    let top = norms.iter().copied().fold(0.0, f64::max);
    let objective = |v: &[f64]| prog.network_loss(v) + prog.penalty(v);
    let full = objective(u);
    for k in 3..=9 {
        let cut = top * 10f64.powi(-k);
        let mut v = u.to_vec();
        for (j, &nj) in norms.iter().enumerate() {
            if nj < cut {
                v[j * dim..(j + 1) * dim].iter_mut().for_each(|x| *x = 0.0);
            }
        }
        if objective(&v) <= full + 0.1 * tol * full.abs() {
            return v;
        }
    }
    u.to_vec()
}

/// The balanced ReLU units of a solution: `u = v/√‖v‖, α = ±√‖v‖` per non-zero group, units of
/// one sign and one direction merged (their sum has the same objective: the norms add). A gated
/// group is first split as `u = v − w` with `v, w` in its pattern's cone (`w = c g`, `g` the
/// gate, `c` the least step that puts `v = u + c g` in the cone).
fn read_off(prog: &Program, u: &[f64]) -> (Vec<Unit>, bool) {
    let dim = prog.dim();
    let norms = program::group_norms(u, dim);
    // (direction-carrying vector, sign) before balancing
    let mut parts: Vec<(Vec<f64>, f64)> = Vec::new();
    let mut exact = true;
    for (j, grp) in prog.groups.iter().enumerate() {
        if norms[j] == 0.0 {
            continue;
        }
        let uj = &u[j * dim..(j + 1) * dim];
        if prog.constrained {
            parts.push((uj.to_vec(), grp.sign));
            continue;
        }
        let gate = &prog.patterns.gates[grp.pattern];
        let mask = &prog.patterns.masks[grp.pattern];
        let mut c: f64 = 0.0;
        for i in 0..prog.n() {
            let x = prog.data.row(i);
            let s = if mask.on(i) { 1.0 } else { -1.0 };
            let xu = s * x.iter().zip(uj).map(|(a, b)| a * b).sum::<f64>();
            let xg = s * x.iter().zip(gate).map(|(a, b)| a * b).sum::<f64>();
            if xu < 0.0 {
                if xg > 0.0 {
                    c = c.max(-xu / xg);
                } else {
                    exact = false;
                }
            }
        }
        if c == 0.0 {
            parts.push((uj.to_vec(), 1.0));
        } else {
            let w: Vec<f64> = gate.iter().map(|g| c * g).collect();
            let v: Vec<f64> = uj.iter().zip(&w).map(|(a, b)| a + b).collect();
            parts.push((v, 1.0));
            parts.push((w, -1.0));
        }
    }
    let mut merged: Vec<(Vec<f64>, f64)> = Vec::new();
    for (v, sign) in parts {
        let nv = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        let same = merged.iter_mut().find(|(m, s)| {
            let nm = m.iter().map(|a| a * a).sum::<f64>().sqrt();
            *s == sign
                && v.iter().zip(m.iter()).map(|(a, b)| a * b).sum::<f64>()
                    >= (1.0 - 1e-12) * nv * nm
        });
        match same {
            Some((m, _)) => m.iter_mut().zip(&v).for_each(|(a, b)| *a += b),
            None => merged.push((v, sign)),
        }
    }
    let units = merged
        .into_iter()
        .map(|(v, sign)| {
            let s = v.iter().map(|a| a * a).sum::<f64>().sqrt().sqrt();
            Unit {
                input: v.iter().map(|a| a / s).collect(),
                output: sign * s,
            }
        })
        .collect();
    (units, exact)
}
