//! The exact convex reformulation of two-layer ReLU training as a [`Trainer`] (docs/convex.md):
//! one scalar convex model per output (one-vs-rest for one-hot targets), read off as one d-m-n_y
//! ReLU network, with a certificate that says whether its optimum is global.

use super::{Certificate, Context, Line, Run, Settings, Stage, StageSummary, Trace, Trainer};
use crate::convex::patterns::general_position_count;
use crate::convex::{
    self, ConvexFit, ConvexSettings, Formulation, Loss, PathPoint, PatternChoice, Progress,
    SolverKind,
};
use crate::data::Table;
use crate::error::{Error, Result};
use crate::global::columns::{self, Generation, Round};
use crate::global::{certify, BoundSettings};
use crate::linalg::Matrix;
use crate::net::{Activation, Architecture, Mlp, Network};
use crate::train::{Budget, Monitor, Problem, Start, Stop};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;

/// The settings group `convex`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConvexGroup {
    /// `relu` (the program whose optimum is that of ReLU training) or `gated` (fixed gates).
    pub formulation: Formulation,
    /// `squared`, or `logistic`/`hinge` on labels (one-vs-rest per output).
    pub loss: Loss,
    /// β of the weight-decay objective (required: the model needs β > 0).
    pub weight_decay: Option<f64>,
    /// β's solved first, in this order, each from the solution of the one before.
    pub weight_decay_path: Vec<f64>,
    /// `all` (enumerated: the optimum is global), a count K (K gates drawn from N(0, I)),
    /// `generate` (column generation: patterns added where the residual violates the dual
    /// constraint, the bound global at any dimension; docs/global.md), or `auto`: all up to
    /// [`AUTO_ENUMERATE`] patterns, else [`AUTO_SAMPLED`] gates.
    pub patterns: PatternSpec,
    /// `all` refuses data that may have more patterns than this.
    pub max_patterns: usize,
    /// Seed of the sampled gates (`None`: the run's seed).
    pub pattern_seed: Option<u64>,
    /// Gate vectors from a file (CSV or .npy, one per row: d weights, then the bias's), instead
    /// of `patterns`.
    pub gates: Option<String>,
    /// `auto`, `ipm`, `first-order` or `active-set`.
    pub solver: SolverKind,
    /// Relative duality gap to reach.
    pub gap_tol: f64,
    /// Iterations of the first-order solver, rounds of the active-set one.
    pub max_iter: usize,
}

/// The convex model's patterns as the schema writes them: `"all"`, `"auto"` or a count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum PatternSpec {
    Count(usize),
    Named(PatternName),
}

impl<'de> Deserialize<'de> for PatternSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let bad = |got: &str| {
            serde::de::Error::custom(format!("takes all, auto, generate or a count, got {got}"))
        };
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => match s.as_str() {
                "all" => Ok(PatternSpec::Named(PatternName::All)),
                "auto" => Ok(PatternSpec::Named(PatternName::Auto)),
                "generate" => Ok(PatternSpec::Named(PatternName::Generate)),
                other => Err(bad(other)),
            },
            serde_json::Value::Number(n) => match n.as_u64() {
                Some(k) => Ok(PatternSpec::Count(k as usize)),
                None => Err(bad(&n.to_string())),
            },
            other => Err(bad(&other.to_string())),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PatternName {
    All,
    Auto,
    Generate,
}

/// `auto` enumerates up to this general-position count. The interior-point solve of the
/// complete program grows steeply with it (measured, sin targets, one output): 259 patterns
/// (N = 10, d = 3) 0.1 s, 871 (N = 30, d = 2) 0.8 s, 2 319 (N = 20, d = 3) 2.3 s, 8 179 (N = 30,
/// d = 3) 12 s; a default should not take minutes on a small table.
pub const AUTO_ENUMERATE: u64 = 1_000;

/// Gates `auto` samples above [`AUTO_ENUMERATE`]. Measured (active set): 50 gates 0.3 s, 100
/// gates 0.8–1.1 s, 200 gates 1.3–1.5 s on uniform inputs with N = 40, d = 10 and N = 150, d = 4,
/// the objective 0.5–4 % above 200 gates'; on scikit-learn's standardised regression set
/// (N = 200, d = 10) 30 gates 1.5 s (R² 0.949), 100 gates 5.5 s (R² 0.979).
pub const AUTO_SAMPLED: usize = 100;

impl Default for ConvexGroup {
    fn default() -> Self {
        let s = ConvexSettings::default();
        Self {
            formulation: s.formulation,
            loss: s.loss,
            weight_decay: None,
            weight_decay_path: Vec::new(),
            patterns: PatternSpec::Named(PatternName::All),
            max_patterns: 20_000,
            pattern_seed: None,
            gates: None,
            solver: s.solver,
            gap_tol: s.tol,
            max_iter: s.max_iter,
        }
    }
}

impl ConvexGroup {
    /// The group with `auto` and the seeds resolved for data of `ctx`'s shape, the model's
    /// settings (the gates read from their file), and column generation's if asked for.
    pub fn resolve(&self, ctx: &Context) -> Result<(Self, ConvexSettings, Option<Generation>)> {
        let mut g = self.clone();
        let beta = g.weight_decay.ok_or_else(|| {
            Error::setting(
                "convex.weight_decay",
                "is required: the convex model needs weight decay β > 0 (e.g. 1e-3)",
            )
        })?;
        if g.patterns == PatternSpec::Named(PatternName::Auto) {
            let all = general_position_count(ctx.n_samples, ctx.n_inputs + 1) <= AUTO_ENUMERATE;
            g.patterns = if all {
                PatternSpec::Named(PatternName::All)
            } else {
                PatternSpec::Count(AUTO_SAMPLED)
            };
        }
        let mut generation = None;
        let patterns = match (&g.gates, g.patterns) {
            (Some(path), _) => {
                g.pattern_seed = None;
                let t = Table::load(Path::new(path))?;
                // one gate per row of the file; `leading` gives one per column
                let m = t.leading(t.n_cols());
                PatternChoice::Given {
                    gates: (0..m.cols()).map(|j| m.col(j).to_vec()).collect(),
                    source: path.clone(),
                }
            }
            (None, PatternSpec::Count(count)) => {
                let seed = g.pattern_seed.unwrap_or(ctx.seed);
                g.pattern_seed = Some(seed);
                PatternChoice::Sample { count, seed }
            }
            (None, PatternSpec::Named(PatternName::Generate)) => {
                let seed = g.pattern_seed.unwrap_or(ctx.seed);
                g.pattern_seed = Some(seed);
                if g.formulation != Formulation::Relu {
                    return Err(Error::setting(
                        "convex.patterns",
                        "generate prices ReLU units: it needs `convex.formulation` relu",
                    ));
                }
                generation = Some(Generation::new(seed));
                PatternChoice::Sample {
                    count: Generation::new(seed).start,
                    seed,
                }
            }
            (None, PatternSpec::Named(_)) => {
                g.pattern_seed = None;
                PatternChoice::All {
                    max: g.max_patterns,
                }
            }
        };
        let settings = ConvexSettings {
            formulation: g.formulation,
            loss: g.loss,
            beta,
            path: g.weight_decay_path.clone(),
            patterns,
            solver: g.solver,
            tol: g.gap_tol,
            max_iter: g.max_iter,
        };
        Ok((g, settings, generation))
    }
}

/// The convex model's stage of a run: the solver's progress (each interior-point iteration with
/// Clarabel's own figures; each working-set round, and the first 200 then every 100th first-order
/// iteration, with certified figures) and how it ended.
#[derive(Clone, Debug, Serialize)]
pub struct ConvexTrace {
    pub progress: Vec<Progress>,
    /// The optima of `--weight-decay-path` before the run's β, per output.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub path: Vec<PathRow>,
    /// Column generation's rounds, per output.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<ColumnRow>,
    #[serde(rename = "final")]
    pub summary: StageSummary,
}

/// One round of column generation for one output.
#[derive(Clone, Debug, Serialize)]
pub struct ColumnRow {
    pub output: usize,
    #[serde(flatten)]
    pub round: Round,
}

/// One β of the path for one output.
#[derive(Clone, Debug, Serialize)]
pub struct PathRow {
    pub output: usize,
    #[serde(flatten)]
    pub point: PathPoint,
}

/// What the convex model proves: a primal value (the returned network's objective), a dual
/// bound below every value of the convex program, and whether that program's optimum is the
/// global optimum of two-layer ReLU training with weight decay β.
#[derive(Clone, Debug, Serialize)]
pub struct ConvexCertificate {
    pub formulation: Formulation,
    /// The solver that ran (per output; `auto` resolved).
    pub solver: &'static str,
    /// ℓ of `(1/N) Σ_k Σ_i ℓ(f_k(x_i), y_ki) + (β/2)(‖W₁‖² + ‖b₁‖² + ‖W₂‖²)`.
    pub loss: Loss,
    /// β of that objective.
    pub beta: f64,
    /// `global`: every activation pattern was enumerated (ReLU model, one output), so
    /// `dual_bound` is a lower bound on every two-layer ReLU network's objective.
    /// `global-per-output`: the same with several outputs, where the program gives each output
    /// its own units: `dual_bound` bounds only networks whose hidden units each feed one output
    /// (a network whose outputs share units can go below it; `shared_bound` covers those).
    /// `restricted`: sampled patterns, or the gated model; the bound holds for that restricted
    /// program only.
    pub scope: &'static str,
    /// Patterns used (summed over outputs).
    pub patterns: usize,
    /// The returned network's objective (for the ReLU model the convex program's value at the
    /// solution, computed from the network itself).
    pub objective: f64,
    /// For the gated model: the gated program's value (its network is a cone decomposition whose
    /// objective is higher).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gated_objective: Option<f64>,
    pub dual_bound: f64,
    /// With scope `global-per-output`: a lower bound on every two-layer network, shared hidden
    /// units included, certified by the returned network's residual (docs/global.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared_bound: Option<f64>,
    /// `(objective − dual_bound) / objective` for the ReLU model; for the gated model the gap of
    /// its own program.
    pub rel_gap: f64,
    /// The solution is a point of the program (see `feasible`) and the gap is at most the
    /// tolerance.
    pub certified: bool,
    /// The solver's point satisfies the program's constraints (ReLU model, sampled patterns:
    /// cone violation ≤ 1e-9); otherwise the objective bounds nothing.
    pub feasible: bool,
    pub tol: f64,
    /// Hidden units of the network (the non-zero groups).
    pub units: usize,
    /// Largest cone violation of the solver's point, relative to its largest group (ReLU model).
    pub max_violation: f64,
    pub outputs: usize,
    /// Classification losses: the fraction of (sample, output) pairs whose score has the sign
    /// of its label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_accuracy: Option<f64>,
}

impl ConvexCertificate {
    /// Whether `dual_bound` bounds every two-layer network.
    pub fn global(&self) -> bool {
        self.scope == "global"
    }

    /// Whether `dual_bound` bounds every network whose hidden units each feed one output (every
    /// network, with one output).
    pub fn global_per_output(&self) -> bool {
        self.scope == "global" || self.scope == "global-per-output"
    }

    pub fn describe(&self) -> String {
        let what = match (self.global(), self.formulation) {
            (true, _) => "global optimum".to_string(),
            (false, Formulation::Relu) if self.global_per_output() => {
                "global optimum over networks whose hidden units each feed one output".to_string()
            }
            (false, Formulation::Relu) => {
                format!("optimum restricted to {} sampled patterns", self.patterns)
            }
            (false, Formulation::Gated) => format!("gated model on {} patterns", self.patterns),
        };
        if self.certified {
            format!("{what} (certified, gap {:.1e})", self.rel_gap)
        } else if !self.feasible {
            format!(
                "{what} not reached (cone violation {:.1e})",
                self.max_violation
            )
        } else {
            format!("{what} not reached (gap {:.1e})", self.rel_gap)
        }
    }
}

impl Trace for ConvexTrace {
    fn summary(&self) -> StageSummary {
        self.summary
    }

    fn lines(&self, offset: f64) -> Vec<Line> {
        vec![Line::through(
            "relative gap",
            "",
            &self.progress,
            offset,
            |r| (r.iteration, r.rel_gap),
        )]
    }
}

impl Certificate for ConvexCertificate {
    fn kind(&self) -> &str {
        "convex"
    }

    fn describe(&self) -> String {
        ConvexCertificate::describe(self)
    }

    fn certified(&self) -> bool {
        self.certified
    }

    fn warnings(&self, stop: Stop) -> Vec<String> {
        if self.certified {
            return Vec::new();
        }
        vec![format!(
            "not certified: the convex solver stopped ({stop}) at a relative gap of {:.1e}, \
             above the tolerance {:.0e}",
            self.rel_gap, self.tol
        )]
    }
}

/// The convex model.
pub struct Convex {
    group: ConvexGroup,
    pub settings: ConvexSettings,
    /// Column generation instead of the fixed patterns of `settings`.
    pub generation: Option<Generation>,
}

impl Convex {
    /// The convex model with the group `convex` of `settings`, resolved for `ctx`'s data.
    pub fn new(settings: &Settings, ctx: &Context) -> Result<Self> {
        let group: ConvexGroup = settings.group("convex")?;
        let (group, settings, generation) = group.resolve(ctx)?;
        Ok(Self {
            group,
            settings,
            generation,
        })
    }

    /// The convex model with the model's own settings (its group, for reports, read off them).
    pub fn with_settings(settings: ConvexSettings) -> Self {
        let mut group = ConvexGroup {
            formulation: settings.formulation,
            loss: settings.loss,
            weight_decay: Some(settings.beta),
            weight_decay_path: settings.path.clone(),
            solver: settings.solver,
            gap_tol: settings.tol,
            max_iter: settings.max_iter,
            ..Default::default()
        };
        match &settings.patterns {
            PatternChoice::All { max } => group.max_patterns = *max,
            PatternChoice::Sample { count, seed } => {
                group.patterns = PatternSpec::Count(*count);
                group.pattern_seed = Some(*seed);
            }
            PatternChoice::Given { source, .. } => group.gates = Some(source.clone()),
        }
        Self {
            group,
            settings,
            generation: None,
        }
    }
}

/// The two-layer shape this method trains: d-m-n_y with a linear output.
fn check_shape(arch: &Architecture) -> Result<()> {
    if arch.widths.len() != 3 || arch.output != Activation::Linear {
        return Err(Error::InvalidArgument(format!(
            "the convex model (`method` convex) trains two-layer ReLU networks with a linear \
             output (e.g. `arch` {}-8-1, `output` linear), got {} with {} output",
            arch.n_inputs(),
            arch.spec(),
            arch.output
        )));
    }
    Ok(())
}

impl Trainer for Convex {
    fn name(&self) -> &str {
        "convex"
    }

    fn check(&self, problem: &Problem) -> Result<()> {
        check_shape(problem.arch)?;
        self.settings.validate()
    }

    fn settings(&self) -> Settings {
        Settings::of("convex", &self.group)
    }

    /// Every loss weighted ([`convex::fit_weighted`]); not column generation (whose global
    /// bound reads unweighted data).
    fn takes_weights(&self) -> bool {
        self.generation.is_none()
    }

    /// The classification losses take labels (0/1 or ±1), which standardisation leaves alone.
    fn predicts_labels(&self) -> bool {
        self.settings.loss.classifies()
    }

    fn train(&self, problem: &Problem, start: &Start, monitor: &mut Monitor) -> Result<Run> {
        let (x, y) = (&problem.data.x, &problem.data.y);
        let weights = problem.data.weights.as_deref();
        let budget = monitor.budget().clone();
        let mut fits: Vec<ConvexFit> = Vec::new();
        let mut rounds = Vec::new();
        let mut progress = Vec::new();
        let mut base = 0;
        for k in 0..y.rows() {
            let yk = y.row(k);
            let mut on = |p: &Progress| {
                // every interior-point iteration and working-set round; first-order ones sparsely
                if p.iteration < 200 || p.iteration.is_multiple_of(100) {
                    let mut at = p.clone();
                    at.iteration += base;
                    progress.push(at);
                }
                monitor.iteration("convex", base + p.iteration, None, f64::NAN, p)
            };
            let fit = match &self.generation {
                Some(g) => {
                    let out = columns::generate(x, &yk, &self.settings, g, &budget, &mut on)?;
                    rounds.extend(
                        out.rounds
                            .into_iter()
                            .map(|round| ColumnRow { output: k, round }),
                    );
                    out.fit
                }
                None => convex::fit_weighted(x, &yk, weights, &self.settings, &budget, &mut on)?,
            };
            base += fit.iterations;
            let stopped = matches!(
                fit.stop,
                Stop::Interrupted | Stop::TimeLimit | Stop::StoppedByObserver
            );
            fits.push(fit);
            if stopped {
                break;
            }
        }
        let stop = fits
            .iter()
            .map(|f| f.stop)
            .find(|s| !matches!(s, Stop::Converged | Stop::Optimal))
            .unwrap_or(fits[0].stop);
        let complete = fits.len() == y.rows();
        let network = complete.then(|| network(x.rows(), &fits)).transpose()?;
        let exact_network = fits.iter().all(|f| f.exact_network);
        let width = network.as_ref().map(|n| n.arch.widths[1]);
        let certificate = complete
            .then(|| self.certificate(&fits, network.as_ref(), (x, y, weights), &budget))
            .transpose()?;
        let detail = "no start (a convex program: the optimum does not depend on one)".to_string();
        let stage = Stage::new(
            "convex",
            ConvexTrace {
                progress,
                path: fits
                    .iter()
                    .enumerate()
                    .flat_map(|(output, f)| {
                        f.path.iter().map(move |p| PathRow {
                            output,
                            point: p.clone(),
                        })
                    })
                    .collect(),
                columns: rounds,
                summary: StageSummary {
                    iterations: fits.iter().map(|f| f.iterations).sum(),
                    stop_reason: stop,
                    seconds: budget.elapsed(),
                },
            },
        );
        let mut run = Run::new(
            "convex",
            start,
            detail,
            network.map(Network::Mlp),
            problem,
            vec![stage],
            budget.elapsed(),
        )?;
        let certified = matches!(&certificate, Some(c) if c.certified);
        if let Some(used) = width.filter(|_| certified) {
            let asked = problem.arch.widths[1];
            if used > asked {
                let global = matches!(&certificate, Some(c) if c.global());
                run.warnings.push(format!(
                    "the optimum has {used} hidden units, more than the {asked} of `arch`: it is \
                     the optimum over networks of any width; the best network of width {asked} \
                     may be worse{}",
                    if global {
                        " (the dual bound holds for it too)"
                    } else {
                        ""
                    }
                ));
            }
        }
        if !exact_network {
            run.warnings.push(
                "a gated unit could not be split exactly into two ReLU units (a sample lies on \
                 its gate's hyperplane): the network differs from the gated model there"
                    .into(),
            );
        }
        run.certificate = certificate.map(|c| Arc::new(c) as Arc<dyn Certificate>);
        Ok(run)
    }
}

impl Convex {
    fn certificate(
        &self,
        fits: &[ConvexFit],
        network: Option<&Mlp>,
        (x, y, weights): (&Matrix, &Matrix, Option<&[f64]>),
        budget: &Budget,
    ) -> Result<ConvexCertificate> {
        let s = &self.settings;
        let relu = s.formulation == Formulation::Relu;
        let complete = fits.iter().all(|f| f.complete);
        let feasible = fits.iter().all(|f| f.feasible);
        let primal: f64 = fits.iter().map(|f| f.bound.primal).sum();
        let dual: f64 = fits.iter().map(|f| f.bound.dual).sum();
        let objective = match network {
            Some(net) => objective(net, (x, y, weights), s.loss, s.beta)?,
            None => f64::NAN,
        };
        let sign_accuracy = match network {
            Some(net) if s.loss.classifies() => Some(sign_accuracy(net, x, y)?),
            _ => None,
        };
        // the ReLU model's gap is the network's own objective against the bound
        let bound = convex::Bound::new(if relu { objective } else { primal }, dual);
        // every pattern enumerated, or priced by column generation: the bound is global
        let enumerated = relu
            && complete
            && (matches!(s.patterns, PatternChoice::All { .. }) || self.generation.is_some());
        // several outputs: the per-output optimum bounds only networks that share no unit, so
        // the network's residual certifies a bound for the others (docs/global.md)
        let shared_bound = match network {
            // (the global bound reads unweighted data: none for a weighted fit)
            Some(net) if enumerated && fits.len() > 1 && weights.is_none() => {
                let settings = BoundSettings::new(s.loss, s.beta);
                Some(certify(net, x, y, &settings, budget)?.bound.lower_bound)
            }
            _ => None,
        };
        Ok(ConvexCertificate {
            formulation: s.formulation,
            solver: fits[0].solver.name(),
            loss: s.loss,
            beta: s.beta,
            scope: match (enumerated, fits.len()) {
                (true, 1) => "global",
                (true, _) => "global-per-output",
                (false, _) => "restricted",
            },
            patterns: fits.iter().map(|f| f.n_patterns).sum(),
            objective,
            gated_objective: (!relu).then_some(primal),
            dual_bound: dual,
            shared_bound,
            rel_gap: bound.rel_gap,
            certified: feasible && bound.rel_gap.abs() <= s.tol,
            feasible,
            tol: s.tol,
            units: network.map_or(0, |n| n.arch.widths[1]),
            max_violation: fits.iter().map(|f| f.violation).fold(0.0, f64::max),
            outputs: fits.len(),
            sign_accuracy,
        })
    }
}

/// The network's objective under the model's loss: `(1/N) Σ_k Σ_i ℓ(f_k(x_i), y_ki) + (β/2)
/// Σ w²` (for the squared loss [`Mlp::weight_decay_objective`]); with `weights`
/// `Σ_k Σ_i w_i ℓ(f_k(x_i), y_ki) / Σ w + (β/2) Σ w²`, the program [`convex::fit_weighted`]
/// solves.
fn objective(
    net: &Mlp,
    (x, y, weights): (&Matrix, &Matrix, Option<&[f64]>),
    loss: Loss,
    beta: f64,
) -> Result<f64> {
    if loss == Loss::Squared && weights.is_none() {
        return net.weight_decay_objective(x, y, beta);
    }
    let f = net.forward(x)?;
    let weight = |i: usize| weights.map_or(1.0, |w| w[i]);
    let total: f64 = (0..y.cols()).map(weight).sum();
    let mut sum = 0.0;
    for k in 0..y.rows() {
        let labels = loss.targets(&y.row(k))?;
        sum += (0..y.cols())
            .map(|i| weight(i) * loss.value(f.get(k, i), labels[i]))
            .sum::<f64>();
    }
    Ok(sum / total + 0.5 * beta * net.decayed_squares())
}

/// The fraction of (sample, output) pairs whose score has the sign of its label (0 read as −1).
fn sign_accuracy(net: &Mlp, x: &Matrix, y: &Matrix) -> Result<f64> {
    let f = net.forward(x)?;
    let (rows, cols) = (y.rows(), y.cols());
    let right = (0..rows)
        .flat_map(|k| (0..cols).map(move |i| (k, i)))
        .filter(|&(k, i)| (f.get(k, i) > 0.0) == (y.get(k, i) > 0.0))
        .count();
    Ok(right as f64 / (rows * cols).max(1) as f64)
}

/// One d-m-n_y network from the per-output units (a unit feeds only its own output). A model
/// with no unit at all (β above the largest correlation) gets one zero unit.
fn network(d: usize, fits: &[ConvexFit]) -> Result<Mlp> {
    let m = fits.iter().map(|f| f.units.len()).sum::<usize>().max(1);
    let ny = fits.len();
    let arch = Architecture::new(vec![d, m, ny], Activation::Linear)?;
    let mut w1 = Matrix::zeros(m, d);
    let mut b1 = vec![0.0; m];
    let mut w2 = Matrix::zeros(ny, m);
    let mut unit = 0;
    for (k, f) in fits.iter().enumerate() {
        for u in &f.units {
            for c in 0..d {
                w1.set(unit, c, u.input[c]);
            }
            b1[unit] = u.input[d];
            w2.set(k, unit, u.output);
            unit += 1;
        }
    }
    Mlp::new(arch, vec![w1, w2], vec![b1, vec![0.0; ny]])
}
