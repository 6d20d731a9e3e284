//! Exact training by MILP as a [`Trainer`]: the ReLU class with ±1 output weights, integer
//! weights, or threshold units under an AND; the run carries the certificate.

use super::{Axes, Certificate, Line, Run, Settings, Stage, StageSummary, Trace, Trainer};
use crate::error::{Error, Result};
use crate::gradient::{self, GradSettings, Optimizer};
use crate::linalg::Matrix;
use crate::milp::integer::{self, IntegerMilp};
use crate::milp::relu::{self, ReluMilp};
use crate::milp::threshold::{self, ThresholdMilp};
use crate::milp::{ErrorMeasure, Tightening};
use crate::milp::{MilpCertificate, MilpProgress, MilpSettings, MilpStatus};
use crate::net::{Activation, Mlp, Network, ThresholdNetwork};
use crate::train::{Monitor, Problem, Start, Stop};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Which exact program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MilpFormulation {
    /// d-K-1 ReLU networks with output weights ±1 and first-layer weights in [−B, B].
    Relu,
    /// Any depth, every weight and bias an integer in [−P, P] (`integer_weights` = P).
    Integer,
    /// K threshold units under an AND output (0/1 targets).
    Threshold,
}

/// The loss of exact training.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MilpLoss {
    /// Sum of absolute errors (threshold networks: the number of errors).
    L1,
    /// Largest absolute error.
    Linf,
    /// Every error within the tolerance (a feasibility problem).
    Exact,
}

impl MilpLoss {
    /// Every value with a line of help.
    pub const CHOICES: &[(&str, &str)] = &[
        (
            "l1",
            "MILP: sum of absolute errors (threshold units: the number of errors)",
        ),
        ("linf", "MILP: largest absolute error"),
        (
            "exact",
            "MILP: fit every target to the exact-fit tolerance (infeasible is a proof that no \
             network of the class fits)",
        ),
    ];
}

/// The values of [`Tightening`] with a line of help.
pub const TIGHTENINGS: &[(&str, &str)] = &[
    ("global", "One big-M for all samples"),
    ("interval", "Per-sample interval bounds B(‖x‖₁ + 1)"),
    (
        "lp",
        "Interval bounds, then LP bound tightening capped by the start network's loss",
    ),
];

/// The settings group `milp`: every knob of exact training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MilpGroup {
    pub formulation: MilpFormulation,
    /// P of the integer formulation (required by it, refused by the others).
    pub integer_weights: Option<u32>,
    /// B: the bound on every first-layer weight and bias (ReLU, threshold).
    pub weight_bound: f64,
    pub loss: MilpLoss,
    /// The largest error `exact` allows.
    pub exact_tol: f64,
    /// How the big-M constants are set (ReLU).
    pub tighten: Tightening,
    /// L-BFGS runs from the start whose best network in the class is the first incumbent.
    pub starts: usize,
    /// Relative and absolute gap at which the search stops.
    pub mip_gap: f64,
    /// Seconds, when the run itself has no time limit.
    pub time_limit: f64,
    /// HiGHS's random seed (`None`: the run's seed).
    pub seed: Option<u64>,
    /// Print HiGHS's log.
    pub verbose: bool,
}

impl Default for MilpGroup {
    fn default() -> Self {
        Self {
            formulation: MilpFormulation::Relu,
            integer_weights: None,
            weight_bound: 10.0,
            loss: MilpLoss::L1,
            exact_tol: 1e-6,
            tighten: Tightening::Interval,
            starts: 4,
            mip_gap: 1e-6,
            time_limit: 60.0,
            seed: None,
            verbose: false,
        }
    }
}

impl MilpGroup {
    fn relu_loss(&self) -> ErrorMeasure {
        match self.loss {
            MilpLoss::L1 => ErrorMeasure::L1,
            MilpLoss::Linf => ErrorMeasure::Linf,
            MilpLoss::Exact => ErrorMeasure::Exact {
                tol: self.exact_tol,
            },
        }
    }

    /// The gap below which a fit counts as certified.
    fn gap_tol(&self) -> f64 {
        self.mip_gap.max(1e-6)
    }

    fn seed(&self) -> u64 {
        self.seed.unwrap_or(1)
    }

    /// Refuses settings that contradict each other or are out of range.
    pub fn validate(&self) -> Result<()> {
        match (self.formulation, self.integer_weights) {
            (MilpFormulation::Integer, None) => {
                return Err(Error::setting(
                    "milp.integer_weights",
                    "is required by `milp.formulation` = integer (the weights' range [−P, P])",
                ))
            }
            (MilpFormulation::Relu | MilpFormulation::Threshold, Some(_)) => {
                return Err(Error::setting(
                    "milp.integer_weights",
                    "applies to `milp.formulation` = integer only",
                ))
            }
            _ => {}
        }
        if self.formulation == MilpFormulation::Threshold && self.loss == MilpLoss::Linf {
            return Err(Error::setting(
                "milp.loss",
                "of threshold networks counts errors: l1 or exact",
            ));
        }
        for (key, v, positive) in [
            ("milp.time_limit", self.time_limit, true),
            ("milp.weight_bound", self.weight_bound, true),
            ("milp.mip_gap", self.mip_gap, false),
            ("milp.exact_tol", self.exact_tol, false),
        ] {
            if !(v.is_finite() && (v > 0.0 || !positive && v == 0.0)) {
                let what = if positive { "positive" } else { "nonnegative" };
                return Err(Error::setting(
                    key,
                    format!("must be {what} and finite, got {v}"),
                ));
            }
        }
        Ok(())
    }
}

/// The branch and bound's stage of a run: its progress and how it ended.
#[derive(Clone, Debug, Serialize)]
pub struct MilpTrace {
    pub progress: Vec<MilpProgress>,
    #[serde(rename = "final")]
    pub summary: MilpSummary,
}

#[derive(Clone, Debug, Serialize)]
pub struct MilpSummary {
    pub nodes: u64,
    pub stop_reason: Stop,
    /// Branch and bound (and bound tightening).
    pub seconds: f64,
}

/// Exact training.
pub struct Milp {
    pub group: MilpGroup,
}

impl Milp {
    /// Exact training with the group `milp` of `settings`; HiGHS's seed is `seed` unless the
    /// group sets one.
    pub fn new(settings: &Settings, seed: u64) -> Result<Self> {
        let mut group: MilpGroup = settings.group("milp")?;
        group.seed = Some(group.seed.unwrap_or(seed));
        Ok(Self { group })
    }
}

/// d-K-1, one target: the shape of the ReLU and threshold classes.
fn one_hidden_layer(problem: &Problem) -> Result<usize> {
    let w = &problem.arch.widths;
    if w.len() != 3 || w[2] != 1 {
        return Err(Error::InvalidArgument(format!(
            "exact training (`method` milp) trains one hidden layer and one output (e.g. `arch` \
             {}-3-1), got {}; `milp.formulation` = integer covers any depth",
            problem.data.n_inputs(),
            problem.arch.spec()
        )));
    }
    Ok(w[1])
}

impl Milp {
    /// The branch and bound's settings: the run's remaining time (or the group's limit).
    fn branch_and_bound(&self, monitor: &Monitor) -> MilpSettings {
        let o = &self.group;
        MilpSettings {
            time_limit: monitor
                .budget()
                .remaining()
                .unwrap_or(o.time_limit)
                .max(1e-3),
            rel_gap: o.mip_gap,
            abs_gap: o.mip_gap,
            seed: o.seed(),
            verbose: o.verbose,
            interrupt: monitor.budget().interrupt().cloned(),
        }
    }

    /// Networks to offer as the first incumbent: L-BFGS from `options.starts` random draws of
    /// the start's scheme (seeds `seed, seed + 1, …`), the start's own network, or none.
    fn start_networks(
        &self,
        problem: &Problem,
        start: &Start,
        monitor: &mut Monitor,
    ) -> Result<Vec<Mlp>> {
        match start {
            Start::Zero => Ok(Vec::new()),
            Start::Model { .. } => Ok(vec![start.network(problem.arch)?]),
            Start::Random { scheme, seed } => (0..self.group.starts as u64)
                .map(|s| {
                    let from = Start::Random {
                        scheme: *scheme,
                        seed: seed.wrapping_add(s),
                    };
                    let mut st = GradSettings::new(Optimizer::Lbfgs { memory: 10 });
                    st.max_iter = 2000;
                    st.seed = *seed;
                    let net = from.network(problem.arch)?;
                    let data = problem.data;
                    Ok(gradient::train(&data.x, &data.y, &net, &st, monitor)?.model)
                })
                .collect(),
        }
    }

    fn train_relu(
        &self,
        problem: &Problem,
        start: &Start,
        monitor: &mut Monitor,
    ) -> Result<(Option<Network>, MilpCertificate, MilpTrace)> {
        let o = &self.group;
        let hidden = one_hidden_layer(problem)?;
        let spec = ReluMilp {
            hidden,
            weight_bound: o.weight_bound,
            loss: o.relu_loss(),
            tightening: o.tighten,
        };
        let (x, y) = (&problem.data.x, problem.data.y.as_slice());
        let first = if matches!(spec.loss, ErrorMeasure::Exact { .. }) {
            None
        } else {
            let mut in_class = Vec::new();
            for net in self.start_networks(problem, start, monitor)? {
                if relu::class_bound(&net)? <= o.weight_bound {
                    in_class.push(net);
                }
            }
            best_by(in_class, |yhat| spec.loss.value(yhat.as_slice(), y), x)?
        };
        if spec.tightening == Tightening::Lp && first.is_none() {
            return Err(Error::setting(
                "milp.tighten",
                "= lp needs a start network in the class (`milp.starts` ≥ 1, a larger \
                 `milp.weight_bound`, and `milp.loss` l1 or linf)",
            ));
        }
        let settings = self.branch_and_bound(monitor);
        let (fit, progress, told) = watched(monitor, |on| {
            relu::train(x, y, &spec, &settings, first.as_ref().map(|(m, _)| m), on)
        })?;
        let mut cert = fit.certificate(&spec, x.rows(), o.gap_tol());
        cert.start_loss = first.as_ref().map(|(_, l)| *l);
        let network = fit.network;
        let seconds = network.seconds + fit.tighten_seconds;
        let trace = trace(progress, network.nodes, network.status, told, seconds);
        Ok((network.model.map(Network::Mlp), cert, trace))
    }

    fn train_integer(
        &self,
        p: u32,
        problem: &Problem,
        start: &Start,
        monitor: &mut Monitor,
    ) -> Result<(Option<Network>, MilpCertificate, MilpTrace)> {
        let o = &self.group;
        let spec = IntegerMilp {
            arch: problem.arch.clone(),
            weight_bound: p,
            loss: o.relu_loss(),
        };
        let (x, y) = (&problem.data.x, &problem.data.y);
        // every integer network is in the class: rounding any network gives a first incumbent
        let rounded = self
            .start_networks(problem, start, monitor)?
            .iter()
            .map(|n| integer::round_into_class(n, p))
            .collect();
        let first = best_by(
            rounded,
            |yhat| spec.loss.value(yhat.as_slice(), y.as_slice()),
            x,
        )?;
        let settings = self.branch_and_bound(monitor);
        let (fit, progress, told) = watched(monitor, |on| {
            integer::train(x, y, &spec, &settings, first.as_ref().map(|(m, _)| m), on)
        })?;
        let mut cert = spec.certificate(&fit, o.gap_tol());
        cert.start_loss = first.as_ref().map(|(_, l)| *l);
        let trace = trace(progress, fit.nodes, fit.status, told, fit.seconds);
        Ok((fit.model.map(Network::Mlp), cert, trace))
    }

    fn train_threshold(
        &self,
        problem: &Problem,
        monitor: &mut Monitor,
    ) -> Result<(Option<Network>, MilpCertificate, MilpTrace)> {
        let o = &self.group;
        let spec = ThresholdMilp {
            units: one_hidden_layer(problem)?,
            weight_bound: o.weight_bound,
            // validate() refuses linf
            minimise_errors: o.loss != MilpLoss::Exact,
        };
        let settings = self.branch_and_bound(monitor);
        let (fit, progress, told) = watched(monitor, |on| {
            threshold::train(problem.data, &spec, &settings, on)
        })?;
        let cert = fit.certificate(&spec, problem.data.n_inputs());
        let trace = trace(progress, fit.nodes, fit.status, told, fit.seconds);
        let model = fit
            .units
            .map(|units| Network::Threshold(ThresholdNetwork { units }));
        Ok((model, cert, trace))
    }
}

/// Runs `solve` with a progress callback that records the branch and bound's progress and
/// reports it to the monitor; returns what `solve` returned, the progress, and the stop the
/// monitor asked for, if any. The run's deadline is HiGHS's own time limit, so a `TimeLimit`
/// answer of the monitor is left to HiGHS (which then reports the time limit, not an interrupt).
fn watched<T>(
    monitor: &mut Monitor,
    solve: impl FnOnce(crate::milp::OnProgress) -> Result<T>,
) -> Result<(T, Vec<MilpProgress>, Option<Stop>)> {
    let mut progress = Vec::new();
    let mut told = None;
    let mut on = |p: &MilpProgress| {
        progress.push(p.clone());
        match monitor.iteration("milp", p.nodes as usize, None, f64::NAN, p) {
            None | Some(Stop::TimeLimit) => false,
            Some(stop) => {
                told = Some(stop);
                true
            }
        }
    };
    let out = solve(Some(&mut on))?;
    Ok((out, progress, told))
}

fn trace(
    progress: Vec<MilpProgress>,
    nodes: u64,
    status: MilpStatus,
    told: Option<Stop>,
    seconds: f64,
) -> MilpTrace {
    let stop_reason = match status {
        MilpStatus::Optimal => Stop::Optimal,
        MilpStatus::Infeasible => Stop::Infeasible,
        MilpStatus::TimeLimit => Stop::TimeLimit,
        MilpStatus::Interrupted => told.unwrap_or(Stop::Interrupted),
    };
    MilpTrace {
        progress,
        summary: MilpSummary {
            nodes,
            stop_reason,
            seconds,
        },
    }
}

/// The network of lowest `loss` (of its predictions) among `nets`, with that loss.
fn best_by(
    nets: Vec<Mlp>,
    loss: impl Fn(&Matrix) -> f64,
    x: &Matrix,
) -> Result<Option<(Mlp, f64)>> {
    let mut best: Option<(Mlp, f64)> = None;
    for net in nets {
        let l = loss(&net.forward(x)?);
        if l.is_finite() && best.as_ref().is_none_or(|(_, b)| l < *b) {
            best = Some((net, l));
        }
    }
    Ok(best)
}

impl Trace for MilpTrace {
    fn summary(&self) -> StageSummary {
        let s = &self.summary;
        StageSummary::new(s.nodes as usize, s.stop_reason, s.seconds)
    }

    /// The incumbent and the bound per node (nodes are the x axis, whatever the offset).
    fn lines(&self, _offset: f64) -> Vec<Line> {
        let p = &self.progress;
        vec![
            Line::new(
                "incumbent",
                "",
                p.iter()
                    .map(|r| (r.nodes as f64, r.incumbent.unwrap_or(f64::NAN)))
                    .collect(),
            ),
            Line::new(
                "lower bound",
                "6 3",
                p.iter().map(|r| (r.nodes as f64, r.bound)).collect(),
            ),
        ]
    }

    fn axes(&self) -> Axes {
        Axes {
            what: "incumbent and bound",
            x: "branch-and-bound nodes",
            y: "loss (log scale)",
        }
    }
}

impl Certificate for MilpCertificate {
    fn kind(&self) -> &str {
        "milp"
    }

    fn describe(&self) -> String {
        MilpCertificate::describe(self).to_string()
    }

    fn certified(&self) -> bool {
        self.certified
    }

    fn warnings(&self, _stop: Stop) -> Vec<String> {
        if self.certified {
            return Vec::new();
        }
        vec![format!(
            "not proven optimal: the branch and bound stopped ({}) with a gap of {:.2e}; the \
             network is the best it found",
            self.status.name(),
            self.abs_gap.unwrap_or(f64::INFINITY)
        )]
    }
}

impl Trainer for Milp {
    fn name(&self) -> &str {
        "milp"
    }

    fn check(&self, problem: &Problem) -> Result<()> {
        let o = &self.group;
        o.validate()?;
        match o.formulation {
            MilpFormulation::Integer => {
                if problem.arch.output != Activation::Linear {
                    return Err(Error::setting(
                        "output",
                        "must be linear for integer-weight training",
                    ));
                }
            }
            MilpFormulation::Relu | MilpFormulation::Threshold => {
                one_hidden_layer(problem)?;
            }
        }
        if o.formulation == MilpFormulation::Relu && problem.arch.output != Activation::Linear {
            return Err(Error::setting(
                "output",
                "must be linear for exact training of the ReLU class",
            ));
        }
        if !crate::milp::AVAILABLE {
            return Err(crate::milp::unavailable());
        }
        Ok(())
    }

    fn settings(&self) -> Settings {
        Settings::of("milp", &self.group)
    }

    fn predicts_labels(&self) -> bool {
        self.group.formulation == MilpFormulation::Threshold
    }

    fn train(&self, problem: &Problem, start: &Start, monitor: &mut Monitor) -> Result<Run> {
        let (model, certificate, trace) = match self.group.formulation {
            MilpFormulation::Relu => self.train_relu(problem, start, monitor)?,
            MilpFormulation::Integer => {
                let p = self.group.integer_weights.unwrap_or(1);
                self.train_integer(p, problem, start, monitor)?
            }
            MilpFormulation::Threshold => self.train_threshold(problem, monitor)?,
        };
        let detail = match start {
            Start::Zero => "no start network (the branch and bound starts from nothing)".into(),
            Start::Random { .. } => format!(
                "first incumbent: the best of {} L-BFGS run(s) from {}",
                self.group.starts,
                start.detail()
            ),
            Start::Model { .. } => format!("first incumbent: {}", start.detail()),
        };
        let mut run = Run::new(
            "milp",
            start,
            detail,
            model,
            problem,
            vec![Stage::new("milp", trace)],
            monitor.budget().elapsed(),
        )?;
        run.certificate = Some(Arc::new(certificate));
        Ok(run)
    }
}
