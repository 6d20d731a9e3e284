//! The exact convex reformulation of two-layer ReLU training as a [`Trainer`] (docs/convex.md):
//! one scalar convex model per output (one-vs-rest for one-hot targets), read off as one d-m-n_y
//! ReLU network, with a certificate that says whether its optimum is global.

use super::{Certificate, MethodSettings, Run, Stage, Trace, Trainer};
use crate::convex::{
    self, ConvexFit, ConvexSettings, Formulation, Loss, PathPoint, PatternChoice, Progress,
};
use crate::error::{Error, Result};
use crate::linalg::Matrix;
use crate::net::{Activation, Architecture, Mlp, Network};
use crate::train::{Monitor, Problem, Start, Stop};
use serde::Serialize;

/// The convex model's stage of a run: the solver's progress (each interior-point iteration with
/// Clarabel's own figures; each working-set round, and the first 200 then every 100th first-order
/// iteration, with certified figures) and how it ended.
#[derive(Clone, Debug, Serialize)]
pub struct ConvexTrace {
    pub progress: Vec<Progress>,
    /// The optima of `--weight-decay-path` before the run's β, per output.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub path: Vec<PathRow>,
    #[serde(rename = "final")]
    pub summary: ConvexSummary,
}

/// One β of the path for one output.
#[derive(Clone, Debug, Serialize)]
pub struct PathRow {
    pub output: usize,
    #[serde(flatten)]
    pub point: PathPoint,
}

#[derive(Clone, Debug, Serialize)]
pub struct ConvexSummary {
    /// Solver iterations (all outputs together).
    pub iterations: usize,
    pub stop_reason: Stop,
    pub seconds: f64,
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
    /// `global`: every activation pattern was enumerated (ReLU model), so `dual_bound` is a
    /// lower bound on every two-layer ReLU network's objective. `restricted`: sampled patterns,
    /// or the gated model; the bound holds for that restricted program only.
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

    pub fn describe(&self) -> String {
        let what = match (self.global(), self.formulation) {
            (true, _) => "global optimum".to_string(),
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

/// The convex model.
pub struct Convex {
    pub settings: ConvexSettings,
}

/// The two-layer shape this method trains: d-m-n_y with a linear output.
fn check_shape(arch: &Architecture) -> Result<()> {
    if arch.widths.len() != 3 || arch.output != Activation::Linear {
        return Err(Error::InvalidArgument(format!(
            "--method convex trains two-layer ReLU networks with a linear output (e.g. --arch \
             {}-8-1 --output-activation linear), got {} with {} output",
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

    fn settings(&self) -> MethodSettings {
        MethodSettings {
            convex: Some(self.settings.clone()),
            ..Default::default()
        }
    }

    fn check(&self, problem: &Problem) -> Result<()> {
        check_shape(problem.arch)?;
        self.settings.validate()
    }

    /// The classification losses take labels (0/1 or ±1), which standardisation leaves alone.
    fn predicts_labels(&self) -> bool {
        self.settings.loss.classifies()
    }

    fn train(&self, problem: &Problem, start: &Start, monitor: &mut Monitor) -> Result<Run> {
        let (x, y) = (&problem.data.x, &problem.data.y);
        let budget = monitor.budget().clone();
        let mut fits: Vec<ConvexFit> = Vec::new();
        let mut progress = Vec::new();
        let mut base = 0;
        for k in 0..y.rows() {
            let yk: Vec<f64> = (0..y.cols()).map(|j| y.get(k, j)).collect();
            let mut on = |p: &Progress| {
                // every interior-point iteration and working-set round; first-order ones sparsely
                if p.iteration < 200 || p.iteration.is_multiple_of(100) {
                    let mut at = p.clone();
                    at.iteration += base;
                    progress.push(at);
                }
                monitor.iteration("convex", base + p.iteration, None, f64::NAN, p)
            };
            let fit = convex::fit(x, &yk, &self.settings, &budget, &mut on)?;
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
            .then(|| self.certificate(&fits, network.as_ref(), x, y))
            .transpose()?;
        let detail = "no start (a convex program: the optimum does not depend on one)".to_string();
        let stage = Stage {
            method: "convex".into(),
            trace: Trace::Convex(ConvexTrace {
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
                summary: ConvexSummary {
                    iterations: fits.iter().map(|f| f.iterations).sum(),
                    stop_reason: stop,
                    seconds: budget.elapsed(),
                },
            }),
        };
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
                    "the optimum has {used} hidden units, more than the {asked} of --arch: it is \
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
        run.certificate = certificate.map(Certificate::Convex);
        Ok(run)
    }
}

impl Convex {
    fn certificate(
        &self,
        fits: &[ConvexFit],
        network: Option<&Mlp>,
        x: &Matrix,
        y: &Matrix,
    ) -> Result<ConvexCertificate> {
        let s = &self.settings;
        let relu = s.formulation == Formulation::Relu;
        let complete = fits.iter().all(|f| f.complete);
        let feasible = fits.iter().all(|f| f.feasible);
        let primal: f64 = fits.iter().map(|f| f.bound.primal).sum();
        let dual: f64 = fits.iter().map(|f| f.bound.dual).sum();
        let objective = match network {
            Some(net) => objective(net, x, y, s.loss, s.beta)?,
            None => f64::NAN,
        };
        let sign_accuracy = match network {
            Some(net) if s.loss.classifies() => Some(sign_accuracy(net, x, y)?),
            _ => None,
        };
        // the ReLU model's gap is the network's own objective against the bound
        let bound = convex::Bound::new(if relu { objective } else { primal }, dual);
        Ok(ConvexCertificate {
            formulation: s.formulation,
            solver: fits[0].solver.name(),
            loss: s.loss,
            beta: s.beta,
            scope: if relu && complete && matches!(s.patterns, PatternChoice::All { .. }) {
                "global"
            } else {
                "restricted"
            },
            patterns: fits.iter().map(|f| f.n_patterns).sum(),
            objective,
            gated_objective: (!relu).then_some(primal),
            dual_bound: dual,
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
/// Σ w²` (for the squared loss [`Mlp::weight_decay_objective`]).
pub fn objective(net: &Mlp, x: &Matrix, y: &Matrix, loss: Loss, beta: f64) -> Result<f64> {
    if loss == Loss::Squared {
        return net.weight_decay_objective(x, y, beta);
    }
    let f = net.forward(x)?;
    let n = x.cols().max(1) as f64;
    let mut total = 0.0;
    for k in 0..y.rows() {
        let labels = loss.targets(&(0..y.cols()).map(|i| y.get(k, i)).collect::<Vec<_>>())?;
        total += (0..y.cols())
            .map(|i| loss.value(f.get(k, i), labels[i]))
            .sum::<f64>()
            / n;
    }
    Ok(total + 0.5 * beta * net.decayed_squares())
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
