//! The convex linear models as methods of the table (docs/glm in the README): ridge, lasso,
//! elastic net, logistic regression and the linear SVM, with scikit-learn's objectives, by
//! interior point or the first-order path ([`crate::glm`]). Each is a network without a hidden
//! layer, d inputs to k linear outputs: one model per target column (regression, the SVM,
//! binary logistic regression), or one softmax model over the ±1 class columns of
//! `data.classes` (logistic regression with more than two classes). Its settings group is
//! `glm`; it trains on standardised inputs only, so its objective is in the targets' own units.

use super::{Certificate, Line, Metrics, Run, Settings, Stage, StageSummary, Trace, Trainer};
use crate::data::{Dataset, TargetScaling};
use crate::error::{Error, Result};
use crate::glm::softmax::{self, Softmax, SoftmaxFit};
use crate::glm::svm::{self, LinearSvm};
use crate::glm::{
    first_order, fit_least_squares, fit_logistic, softplus, FirstOrderSettings, Fitting, IpmLimits,
    LeastSquares, LinearFit, Logistic,
};
use crate::linalg::Matrix;
use crate::net::{Activation, Architecture, Mlp, Network};
use crate::train::{Monitor, Problem, Start, Stop};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// The five models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GlmKind {
    Ridge,
    Lasso,
    ElasticNet,
    Logistic,
    Svm,
}

impl GlmKind {
    pub fn name(self) -> &'static str {
        match self {
            GlmKind::Ridge => "ridge",
            GlmKind::Lasso => "lasso",
            GlmKind::ElasticNet => "elastic-net",
            GlmKind::Logistic => "logistic",
            GlmKind::Svm => "svm",
        }
    }

    /// Logistic regression and the SVM fit class labels (±1 columns).
    pub fn classifies(self) -> bool {
        matches!(self, GlmKind::Logistic | GlmKind::Svm)
    }
}

/// Logistic regression's penalty.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Penalty {
    L2,
    L1,
}

/// Interior point or the first-order path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GlmSolver {
    Ipm,
    FirstOrder,
}

impl GlmSolver {
    /// Every value with a line of help.
    pub const CHOICES: &[(&str, &str)] = &[
        (
            "ipm",
            "Interior point (Clarabel): ridge, lasso and elastic net as QPs, logistic regression \
             with exponential cones, the SVM as a QP",
        ),
        (
            "first-order",
            "Coordinate descent (least squares), L-BFGS (ℓ₂ logistic), FISTA (ℓ₁ logistic), dual \
             accelerated projected gradient (SVM)",
        ),
    ];
}

/// The settings group `glm` (each model reads its own keys).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GlmGroup {
    /// α of ridge, lasso and elastic net (scikit-learn's `alpha`).
    pub alpha: f64,
    /// Elastic net's ρ (scikit-learn's `l1_ratio`).
    pub l1_ratio: f64,
    /// C of logistic regression and the SVM (inverse regularisation, as in scikit-learn).
    pub c: f64,
    /// Logistic regression's penalty, `l2` or `l1`.
    pub penalty: Penalty,
    pub solver: GlmSolver,
    /// The first-order path's tolerance: relative duality gap (coordinate descent, SVM), or the
    /// smallest subgradient relative to the loss gradient at zero (L-BFGS, FISTA).
    pub tol: f64,
    /// The first-order path's iteration cap (sweeps for coordinate descent).
    pub max_iter: usize,
    /// The interior point's relative tolerance (duality gap and feasibility).
    pub ipm_tol: f64,
    /// The interior point's iteration cap.
    pub ipm_max_iter: u32,
    /// Fit an unpenalised intercept (scikit-learn's `fit_intercept`); `false`: the intercept is
    /// 0 (the interior point only).
    pub fit_intercept: bool,
}

impl Default for GlmGroup {
    fn default() -> Self {
        let fo = FirstOrderSettings::default();
        Self {
            alpha: 1.0,
            l1_ratio: 0.5,
            c: 1.0,
            penalty: Penalty::L2,
            solver: GlmSolver::Ipm,
            tol: fo.tol,
            max_iter: fo.max_iter,
            ipm_tol: IpmLimits::default().tol,
            ipm_max_iter: IpmLimits::default().max_iter,
            fit_intercept: true,
        }
    }
}

impl GlmGroup {
    fn validate(&self) -> Result<()> {
        let bad = |key: &str, what: &str, v: f64| {
            Err(Error::setting(key, format!("must be {what}, got {v}")))
        };
        if !(self.alpha.is_finite() && self.alpha >= 0.0) {
            return bad("glm.alpha", "finite and ≥ 0", self.alpha);
        }
        if !(0.0..=1.0).contains(&self.l1_ratio) {
            return bad("glm.l1_ratio", "in [0, 1]", self.l1_ratio);
        }
        if !(self.c.is_finite() && self.c > 0.0) {
            return bad("glm.c", "positive and finite", self.c);
        }
        if !(self.tol.is_finite() && self.tol > 0.0 && self.tol < 1.0) {
            return bad("glm.tol", "in (0, 1) (the first-order tolerance)", self.tol);
        }
        if self.max_iter == 0 {
            return Err(Error::setting("glm.max_iter", "must be at least 1"));
        }
        // Clarabel's factorisations reach about 1e-12 on these programs, not below
        if !(self.ipm_tol.is_finite() && (1e-12..1.0).contains(&self.ipm_tol)) {
            return bad(
                "glm.ipm_tol",
                "in [1e-12, 1) (the interior point's tolerance)",
                self.ipm_tol,
            );
        }
        if self.ipm_max_iter == 0 {
            return Err(Error::setting("glm.ipm_max_iter", "must be at least 1"));
        }
        Ok(())
    }

    /// The samples' fitting: `weights`, the intercept, the interior point's limits.
    fn fitting<'w>(&self, weights: Option<&'w [f64]>) -> Fitting<'w> {
        Fitting {
            weights,
            intercept: self.fit_intercept,
            ipm: IpmLimits {
                tol: self.ipm_tol,
                max_iter: self.ipm_max_iter,
            },
        }
    }

    fn first_order(&self) -> FirstOrderSettings {
        FirstOrderSettings {
            tol: self.tol,
            max_iter: self.max_iter,
        }
    }

    fn least_squares(&self, kind: GlmKind) -> LeastSquares {
        match kind {
            GlmKind::Ridge => LeastSquares::Ridge { alpha: self.alpha },
            GlmKind::Lasso => LeastSquares::Lasso { alpha: self.alpha },
            _ => LeastSquares::ElasticNet {
                alpha: self.alpha,
                l1_ratio: self.l1_ratio,
            },
        }
    }
}

/// One model's fit: the target column it fits (all of them for softmax), how its solver ended.
#[derive(Clone, Debug, Serialize)]
pub struct GlmFit {
    pub output: usize,
    pub objective: f64,
    /// `solved`, `almost_solved` (interior point), `converged`, `precision_limit`,
    /// `iteration_limit` (first order), or the stop that cut it short.
    pub status: String,
    pub iterations: u32,
    pub seconds: f64,
}

/// The fits' progress: every interior-point iteration, and the first-order path's first 200
/// then every 100th.
#[derive(Clone, Debug, Serialize)]
pub struct GlmProgress {
    pub output: usize,
    pub iteration: usize,
    pub objective: f64,
}

/// A linear model's stage of a run.
#[derive(Clone, Debug, Serialize)]
pub struct GlmTrace {
    pub fits: Vec<GlmFit>,
    pub progress: Vec<GlmProgress>,
    #[serde(rename = "final")]
    pub summary: StageSummary,
}

impl Trace for GlmTrace {
    fn summary(&self) -> StageSummary {
        self.summary
    }

    fn lines(&self, offset: f64) -> Vec<Line> {
        vec![Line::through(
            "objective",
            "",
            &self.progress,
            offset,
            |p| (p.iteration, p.objective),
        )]
    }
}

/// What a linear model's solver proves: each fit's objective and whether it stopped on its
/// optimality test — a duality gap (interior point: `glm.ipm_tol`; coordinate descent and the SVM's dual
/// method: `glm.tol`) or the first-order path's subgradient test (L-BFGS, FISTA).
#[derive(Clone, Debug, Serialize)]
pub struct GlmCertificate {
    pub model: GlmKind,
    /// The solver that ran, in words.
    pub solver: String,
    /// The objective (summed over the fits), in scikit-learn's scaling.
    pub objective: f64,
    pub objectives: Vec<f64>,
    pub status: Vec<String>,
    /// Every fit stopped on its optimality test.
    pub certified: bool,
    /// What the test is.
    pub evidence: String,
}

impl Certificate for GlmCertificate {
    fn kind(&self) -> &str {
        "glm"
    }

    fn describe(&self) -> String {
        if self.certified {
            format!("optimal ({})", self.evidence)
        } else {
            format!("not certified (status {})", self.status.join(", "))
        }
    }

    fn certified(&self) -> bool {
        self.certified
    }

    fn warnings(&self, _stop: Stop) -> Vec<String> {
        self.status
            .iter()
            .filter(|s| !matches!(s.as_str(), "solved" | "converged"))
            .map(|s| match s.as_str() {
                "precision_limit" => "L-BFGS stopped where no step lowers the objective in \
                                      floating point, before `glm.tol` was met: the objective \
                                      is optimal to rounding, the gradient is not below the \
                                      tolerance"
                    .to_string(),
                "time_limit" | "interrupted" | "stopped_by_observer" => format!(
                    "the {} stopped the solver (status {s}): the coefficients are its last \
                     iterate, not the optimum, and the objective is above the optimal one",
                    if s == "time_limit" {
                        "time limit"
                    } else {
                        "interruption"
                    }
                ),
                // Clarabel's default reduced tolerances: gap 5e-5, feasibility 1e-4
                "almost_solved" => "the interior point met only its reduced tolerances (status \
                                    almost_solved: duality gap within 5e-5 relative, not \
                                    `glm.ipm_tol`): the objective is near, not at, the optimum"
                    .to_string(),
                "iteration_limit" if self.solver.starts_with("interior") => {
                    "the interior point reached `glm.ipm_max_iter` before its tolerance: the \
                     coefficients are its last iterate, and the objective is above the optimal \
                     one"
                    .to_string()
                }
                s => format!(
                    "the solver stopped with status {s}: the objective may not be optimal \
                     (raise `glm.max_iter` or `glm.tol` for the first-order path)"
                ),
            })
            .collect()
    }
}

/// A linear model of the table.
pub struct Glm {
    pub kind: GlmKind,
    pub group: GlmGroup,
}

impl Glm {
    pub fn new(kind: GlmKind, settings: &Settings) -> Result<Self> {
        Ok(Self {
            kind,
            group: settings.group("glm")?,
        })
    }

    fn solver_name(&self) -> &'static str {
        match (self.group.solver, self.kind) {
            (GlmSolver::Ipm, _) => "interior point (Clarabel)",
            (_, GlmKind::Ridge | GlmKind::Lasso | GlmKind::ElasticNet) => "coordinate descent",
            (_, GlmKind::Svm) => "dual accelerated projected gradient",
            (_, GlmKind::Logistic) if self.group.penalty == Penalty::L1 => "FISTA",
            _ => "L-BFGS",
        }
    }

    fn evidence(&self) -> String {
        match (self.group.solver, self.kind) {
            (GlmSolver::Ipm, _) => {
                format!("duality gap ≤ {:.0e}, interior point", self.group.ipm_tol)
            }
            (_, GlmKind::Logistic) => format!(
                "smallest subgradient ≤ {:.0e} of the gradient at zero, {}",
                self.group.tol,
                self.solver_name()
            ),
            _ => format!(
                "relative duality gap ≤ {:.0e}, {}",
                self.group.tol,
                self.solver_name()
            ),
        }
    }

    /// Whether the ±1 columns are one-vs-rest classes: exactly one +1 per sample.
    fn one_class_each(y: &Matrix) -> bool {
        (0..y.cols()).all(|j| (0..y.rows()).filter(|&k| y.get(k, j) > 0.0).count() == 1)
    }

    /// Softmax regression: the ±1 columns of several classes.
    fn softmax(&self, y: &Matrix) -> bool {
        self.kind == GlmKind::Logistic && y.rows() > 1
    }

    /// The class of each sample: the column of its +1.
    fn class_indices(y: &Matrix) -> Vec<usize> {
        (0..y.cols())
            .map(|j| {
                (0..y.rows())
                    .find(|&k| y.get(k, j) > 0.0)
                    .unwrap_or(y.rows())
            })
            .collect()
    }

    /// The fits on `x` with targets `y` (k × N), each reporting to `watch(output, iteration,
    /// objective)`: k coefficient rows, their intercepts, and each fit's figures.
    #[allow(clippy::type_complexity)]
    fn fits(
        &self,
        (x, y, sw): (&Matrix, &Matrix, Fitting),
        watch: &mut dyn FnMut(usize, usize, f64) -> Option<Stop>,
    ) -> Result<(Vec<Vec<f64>>, Vec<f64>, Vec<GlmFit>)> {
        let g = &self.group;
        let fo = g.first_order();
        let ipm = g.solver == GlmSolver::Ipm;
        if sw.weights.is_some() && !ipm {
            return Err(Error::setting(
                "glm.solver",
                "the first-order solvers take no sample weights; the interior point (`ipm`, the \
                 default) does",
            ));
        }
        if !sw.intercept && !ipm {
            return Err(Error::setting(
                "glm.fit_intercept",
                "(no intercept) is for the interior point only (`glm.solver` ipm, the default): \
                 the first-order solvers always fit the intercept",
            ));
        }
        let l1 = g.penalty == Penalty::L1;
        if self.softmax(y) {
            let m = Softmax { c: g.c, l1 };
            let idx = Self::class_indices(y);
            let k = y.rows();
            let w = &mut |it: usize, v: f64| watch(0, it, v);
            let fit: SoftmaxFit = if ipm {
                softmax::fit(x, (&idx, sw), k, m, w)?
            } else {
                softmax::fit_first_order(x, &idx, k, m, &fo, w)?
            };
            let record = GlmFit {
                output: 0,
                objective: fit.objective,
                status: fit.status.clone(),
                iterations: fit.iterations,
                seconds: fit.seconds,
            };
            return Ok((fit.coef, fit.intercept, vec![record]));
        }
        let (mut coef, mut intercept, mut records) = (Vec::new(), Vec::new(), Vec::new());
        for k in 0..y.rows() {
            let yk = y.row(k);
            let w = &mut |it: usize, v: f64| watch(k, it, v);
            let fit: LinearFit = match self.kind {
                GlmKind::Logistic => {
                    let m = Logistic { c: g.c, l1 };
                    if ipm {
                        fit_logistic(x, &yk, sw, m, w)?
                    } else {
                        first_order::logistic(x, &yk, m, &fo, w)?
                    }
                }
                GlmKind::Svm => {
                    let m = LinearSvm { c: g.c };
                    if ipm {
                        svm::fit(x, &yk, sw, m, w)?
                    } else {
                        svm::fit_first_order(x, &yk, m, &fo, w)?
                    }
                }
                kind => {
                    let m = g.least_squares(kind);
                    if ipm {
                        fit_least_squares(x, &yk, sw, m, w)?
                    } else {
                        first_order::least_squares(x, &yk, m, &fo, w)?
                    }
                }
            };
            let stopped = cut_short(&fit.status);
            records.push(GlmFit {
                output: k,
                objective: fit.objective,
                status: fit.status,
                iterations: fit.iterations,
                seconds: fit.seconds,
            });
            coef.push(fit.coef);
            intercept.push(fit.intercept);
            if stopped {
                break;
            }
        }
        Ok((coef, intercept, records))
    }
}

/// A status that a watcher's stop wrote.
fn cut_short(status: &str) -> bool {
    matches!(status, "time_limit" | "interrupted" | "stopped_by_observer")
}

/// How a fit's status ends a run.
fn stop_of(status: &str) -> Stop {
    match status {
        "solved" | "almost_solved" => Stop::Optimal,
        "converged" => Stop::Converged,
        "precision_limit" => Stop::Stalled,
        "time_limit" => Stop::TimeLimit,
        "interrupted" => Stop::Interrupted,
        "stopped_by_observer" => Stop::StoppedByObserver,
        "diverged" => Stop::Diverged,
        _ => Stop::IterationLimit,
    }
}

/// An objective, printed only when an observer shows it.
struct Objective(f64);

impl fmt::Display for Objective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "objective {:.6e}", self.0)
    }
}

/// `wᵀx_j + b` for every sample, summed as the linear models' own predictions are.
fn scores(x: &Matrix, w: &[f64], b: f64) -> Vec<f64> {
    LinearFit {
        coef: w.to_vec(),
        intercept: b,
        objective: 0.0,
        status: String::new(),
        iterations: 0,
        seconds: 0.0,
    }
    .predict(x)
}

/// The rows of the network's only layer.
fn layer(net: &Network) -> Result<(&Mlp, Vec<Vec<f64>>)> {
    let Network::Mlp(m) = net else {
        return Err(Error::InvalidArgument("a linear model is an MLP".into()));
    };
    let w = &m.weights[0];
    let rows = (0..w.rows())
        .map(|k| (0..w.cols()).map(|i| w.get(k, i)).collect())
        .collect();
    Ok((m, rows))
}

impl Trainer for Glm {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn architecture(&self, data: &Dataset, output: Activation) -> Option<Architecture> {
        Architecture::new(vec![data.n_inputs(), data.n_outputs()], output).ok()
    }

    fn check(&self, problem: &Problem) -> Result<()> {
        self.group.validate()?;
        let arch = problem.arch;
        if arch.n_hidden_layers() > 0 || arch.output != Activation::Linear {
            return Err(Error::setting(
                "arch",
                format!(
                    "of a linear model is its inputs and outputs with a linear output (here {}-{}), \
                     got {} with a {} output",
                    arch.n_inputs(),
                    arch.n_outputs(),
                    arch.spec(),
                    arch.output
                ),
            ));
        }
        let y = &problem.data.y;
        if self.kind.classifies() {
            if let Some(v) = y.as_slice().iter().find(|&&v| v != 1.0 && v != -1.0) {
                return Err(Error::setting(
                    "data.classes",
                    format!(
                        "is needed: {} fits class labels, encoded as ±1 columns; the targets \
                         hold {v}",
                        self.kind.name()
                    ),
                ));
            }
            if self.kind == GlmKind::Svm && y.rows() > 1 {
                return Err(Error::setting(
                    "data.positive_class",
                    format!(
                        "is needed: the linear SVM is binary and the target has {} classes; \
                         choose one against the rest",
                        y.rows()
                    ),
                ));
            }
            if self.softmax(y) && !Self::one_class_each(y) {
                return Err(Error::InvalidArgument(
                    "softmax regression needs one class per sample: exactly one +1 in each \
                     sample's class columns"
                        .into(),
                ));
            }
        }
        Ok(())
    }

    fn settings(&self) -> Settings {
        Settings::of("glm", &self.group)
    }

    /// Sample weights weigh each sample's loss, as scikit-learn's `sample_weight` (by the
    /// interior point).
    fn takes_weights(&self) -> bool {
        true
    }

    fn predicts_labels(&self) -> bool {
        self.kind.classifies()
    }

    /// Inputs only, as scikit-learn's models with a `StandardScaler` before them: the objective
    /// stays in the targets' own units.
    fn target_scaling(&self, _output: Activation) -> TargetScaling {
        TargetScaling::None
    }

    /// Accuracy and the loss (classifiers) or MSE and R² (regressions), each a mean weighted
    /// by the data's sample weights where it has them.
    fn metrics(&self, net: &Network, data: &Dataset) -> Result<Metrics> {
        let (m, rows) = layer(net)?;
        let (x, y) = (&data.x, &data.y);
        let sw = self.group.fitting(data.weights.as_deref());
        let n = sw.total(y.cols());
        let b = &m.biases[0];
        if self.softmax(y) {
            let fit = SoftmaxFit {
                coef: rows,
                intercept: b.clone(),
                objective: 0.0,
                status: String::new(),
                iterations: 0,
                seconds: 0.0,
            };
            let (acc, ce) = fit.metrics(x, &Self::class_indices(y), sw);
            return Ok(Metrics::from([("accuracy", acc), ("log_loss", ce)]));
        }
        let (mut first, mut second, mut sst) = (0.0, 0.0, 0.0);
        for (k, w) in rows.iter().enumerate() {
            let p = scores(x, w, b[k]);
            let t = y.row(k);
            let pairs = || {
                t.iter()
                    .zip(&p)
                    .enumerate()
                    .map(|(j, (t, p))| (sw.weight(j), *t, *p))
            };
            match self.kind {
                GlmKind::Logistic | GlmKind::Svm => {
                    first += pairs()
                        .filter(|(_, t, p)| (*p > 0.0) == (*t > 0.0))
                        .map(|(w, _, _)| w)
                        .sum::<f64>();
                    second += if self.kind == GlmKind::Svm {
                        pairs()
                            .map(|(w, t, p)| w * (1.0 - t * p).max(0.0))
                            .sum::<f64>()
                    } else {
                        pairs().map(|(w, t, p)| w * softplus(-t * p)).sum::<f64>()
                    };
                }
                _ => {
                    let mean = pairs().map(|(w, t, _)| w * t).sum::<f64>() / n;
                    first += pairs().map(|(w, t, p)| w * (t - p).powi(2)).sum::<f64>();
                    sst += pairs().map(|(w, t, _)| w * (t - mean).powi(2)).sum::<f64>();
                }
            }
        }
        let cells = n * rows.len() as f64;
        Ok(match self.kind {
            GlmKind::Logistic => {
                Metrics::from([("accuracy", first / cells), ("log_loss", second / cells)])
            }
            GlmKind::Svm => Metrics::from([("accuracy", first / cells), ("hinge", second / cells)]),
            _ => {
                let r2 = if sst > 0.0 {
                    1.0 - first / sst
                } else {
                    f64::NAN
                };
                Metrics::from([("mse", first / cells), ("r2", r2)])
            }
        })
    }

    fn train(&self, problem: &Problem, start: &Start, monitor: &mut Monitor) -> Result<Run> {
        let (x, y) = (&problem.data.x, &problem.data.y);
        let name = self.kind.name();
        let mut progress = Vec::new();
        let mut total = 0;
        let sw = self.group.fitting(problem.data.weights.as_deref());
        let (coef, intercept, fits) =
            self.fits((x, y, sw), &mut |output, iteration, objective| {
                if iteration < 200 || iteration.is_multiple_of(100) {
                    progress.push(GlmProgress {
                        output,
                        iteration,
                        objective,
                    });
                }
                total += 1;
                monitor.iteration(name, total, None, f64::NAN, &Objective(objective))
            })?;
        let complete = fits.len() == y.rows() || self.softmax(y);
        let stop = fits
            .iter()
            .map(|f| stop_of(&f.status))
            .find(|s| !matches!(s, Stop::Optimal | Stop::Converged))
            .unwrap_or_else(|| stop_of(&fits[0].status));
        let network = complete
            .then(|| {
                let (d, k) = (x.rows(), coef.len());
                let arch = Architecture::new(vec![d, k], Activation::Linear)?;
                let w = Matrix::from_fn(k, d, |r, c| coef[r][c]);
                Mlp::new(arch, vec![w], vec![intercept.clone()])
            })
            .transpose()?;
        let certificate = GlmCertificate {
            model: self.kind,
            solver: self.solver_name().into(),
            objective: fits.iter().map(|f| f.objective).sum(),
            objectives: fits.iter().map(|f| f.objective).collect(),
            status: fits.iter().map(|f| f.status.clone()).collect(),
            certified: complete
                && fits
                    .iter()
                    .all(|f| matches!(f.status.as_str(), "solved" | "converged")),
            evidence: self.evidence(),
        };
        let seconds = monitor.budget().elapsed();
        let trace = GlmTrace {
            summary: StageSummary {
                iterations: fits.iter().map(|f| f.iterations as usize).sum(),
                stop_reason: stop,
                seconds,
            },
            fits,
            progress,
        };
        let mut run = Run::new(
            name,
            start,
            "no start (a convex program)".into(),
            network.map(Network::Mlp),
            problem,
            vec![Stage::new(name, trace)],
            seconds,
        )?;
        run.certificate = Some(Arc::new(certificate));
        Ok(run)
    }
}
