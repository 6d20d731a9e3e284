//! Exact training by MILP as a [`Trainer`]: the ReLU class with ±1 output weights, integer
//! weights, or threshold units under an AND; the run carries the certificate.

use super::{Certificate, MethodSettings, Run, Stage, Trace, Trainer};
use crate::error::{Error, Result};
use crate::gradient::{self, GradSettings, Optimizer};
use crate::linalg::Matrix;
use crate::milp::integer::{self, IntegerMilp};
use crate::milp::relu::{self, Loss, ReluMilp, Tightening};
use crate::milp::threshold::{self, ThresholdMilp};
use crate::milp::{MilpProgress, MilpSettings, MilpStatus};
use crate::net::{Activation, Mlp, Network, ThresholdNetwork};
use crate::train::{Monitor, Problem, Start, Stop};
use serde::Serialize;

/// Which exact program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Formulation {
    /// d-K-1 ReLU networks with output weights ±1 and first-layer weights in [−B, B].
    Relu,
    /// Any depth, every weight and bias an integer in [−P, P].
    Integer(u32),
    /// K threshold units under an AND output (0/1 targets).
    Threshold,
}

/// The loss of exact training.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LossKind {
    /// Sum of absolute errors (threshold networks: the number of errors).
    L1,
    /// Largest absolute error.
    Linf,
    /// Every error within the tolerance (a feasibility problem).
    Exact,
}

/// Every knob of exact training.
#[derive(Clone, Debug, Serialize)]
pub struct MilpOptions {
    pub formulation: Formulation,
    /// B: the bound on every first-layer weight and bias (ReLU, threshold).
    pub weight_bound: f64,
    pub loss: LossKind,
    /// The largest error `exact` allows.
    pub exact_tol: f64,
    /// How the big-M constants are set (ReLU).
    #[serde(serialize_with = "tightening_name")]
    pub tightening: Tightening,
    /// L-BFGS runs from the start whose best network in the class is the first incumbent.
    pub starts: usize,
    /// Relative and absolute gap at which the search stops.
    pub mip_gap: f64,
    /// Seconds, when the run itself has no time limit.
    pub time_limit: f64,
    /// HiGHS's random seed.
    pub seed: u64,
    /// Print HiGHS's log.
    pub verbose: bool,
}

fn tightening_name<S: serde::Serializer>(t: &Tightening, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(t.name())
}

impl Default for MilpOptions {
    fn default() -> Self {
        Self {
            formulation: Formulation::Relu,
            weight_bound: 10.0,
            loss: LossKind::L1,
            exact_tol: 1e-6,
            tightening: Tightening::Interval,
            starts: 4,
            mip_gap: 1e-6,
            time_limit: 60.0,
            seed: 1,
            verbose: false,
        }
    }
}

impl MilpOptions {
    fn relu_loss(&self) -> Loss {
        match self.loss {
            LossKind::L1 => Loss::L1,
            LossKind::Linf => Loss::Linf,
            LossKind::Exact => Loss::Exact {
                tol: self.exact_tol,
            },
        }
    }

    /// The gap below which a fit counts as certified.
    fn gap_tol(&self) -> f64 {
        self.mip_gap.max(1e-6)
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
    pub options: MilpOptions,
}

/// d-K-1, one target: the shape of the ReLU and threshold classes.
fn one_hidden_layer(problem: &Problem) -> Result<usize> {
    let w = &problem.arch.widths;
    if w.len() != 3 || w[2] != 1 {
        return Err(Error::InvalidArgument(format!(
            "--method milp trains one hidden layer and one output (e.g. --arch {}-3-1), got {}; \
             --integer-weights P covers any depth",
            problem.data.n_inputs(),
            problem.arch.spec()
        )));
    }
    Ok(w[1])
}

impl Milp {
    /// The branch and bound's settings: the run's remaining time (or the options' limit).
    fn settings(&self, monitor: &Monitor) -> MilpSettings {
        let o = &self.options;
        MilpSettings {
            time_limit: monitor
                .budget()
                .remaining()
                .unwrap_or(o.time_limit)
                .max(1e-3),
            rel_gap: o.mip_gap,
            abs_gap: o.mip_gap,
            seed: o.seed,
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
            Start::Random { scheme, seed } => (0..self.options.starts as u64)
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
    ) -> Result<(Option<Network>, Certificate, MilpTrace)> {
        let o = &self.options;
        let hidden = one_hidden_layer(problem)?;
        let spec = ReluMilp {
            hidden,
            weight_bound: o.weight_bound,
            loss: o.relu_loss(),
            tightening: o.tightening,
        };
        let (x, y) = (&problem.data.x, problem.data.y.as_slice());
        let first = if matches!(spec.loss, Loss::Exact { .. }) {
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
            return Err(Error::InvalidArgument(
                "--tighten lp needs a start network in the class (--milp-starts ≥ 1, a larger \
                 --weight-bound, and --loss l1 or linf)"
                    .into(),
            ));
        }
        let settings = self.settings(monitor);
        let (fit, progress, told) = watched(monitor, |on| {
            relu::train(x, y, &spec, &settings, first.as_ref().map(|(m, _)| m), on)
        })?;
        let mut cert = fit.certificate(&spec, x.rows(), o.gap_tol());
        cert.start_loss = first.as_ref().map(|(_, l)| *l);
        let trace = trace(
            progress,
            fit.nodes,
            fit.status,
            told,
            fit.seconds + fit.tighten_seconds,
        );
        Ok((fit.model.map(Network::Mlp), Certificate::Milp(cert), trace))
    }

    fn train_integer(
        &self,
        p: u32,
        problem: &Problem,
        start: &Start,
        monitor: &mut Monitor,
    ) -> Result<(Option<Network>, Certificate, MilpTrace)> {
        let o = &self.options;
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
        let settings = self.settings(monitor);
        let (fit, progress, told) = watched(monitor, |on| {
            integer::train(x, y, &spec, &settings, first.as_ref().map(|(m, _)| m), on)
        })?;
        let mut cert = fit.certificate(&spec, o.gap_tol());
        cert.start_loss = first.as_ref().map(|(_, l)| *l);
        let trace = trace(progress, fit.nodes, fit.status, told, fit.seconds);
        Ok((fit.model.map(Network::Mlp), Certificate::Milp(cert), trace))
    }

    fn train_threshold(
        &self,
        problem: &Problem,
        monitor: &mut Monitor,
    ) -> Result<(Option<Network>, Certificate, MilpTrace)> {
        let o = &self.options;
        let spec = ThresholdMilp {
            units: one_hidden_layer(problem)?,
            weight_bound: o.weight_bound,
            minimise_errors: match o.loss {
                LossKind::L1 => true,
                LossKind::Exact => false,
                LossKind::Linf => {
                    return Err(Error::InvalidArgument(
                        "threshold networks count errors: use --loss l1 or exact".into(),
                    ))
                }
            },
        };
        let settings = self.settings(monitor);
        let (fit, progress, told) = watched(monitor, |on| {
            threshold::train(problem.data, &spec, &settings, on)
        })?;
        let cert = fit.certificate(&spec, problem.data.n_inputs());
        let trace = trace(progress, fit.nodes, fit.status, told, fit.seconds);
        let model = fit
            .units
            .map(|units| Network::Threshold(ThresholdNetwork { units }));
        Ok((model, Certificate::Milp(cert), trace))
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

impl Trainer for Milp {
    fn name(&self) -> &str {
        "milp"
    }

    fn settings(&self) -> MethodSettings {
        MethodSettings {
            milp: Some(self.options.clone()),
            ..Default::default()
        }
    }

    fn check(&self, problem: &Problem) -> Result<()> {
        let o = &self.options;
        match o.formulation {
            Formulation::Integer(_) => {
                if problem.arch.output != Activation::Linear {
                    return Err(Error::InvalidArgument(
                        "integer-weight training has a linear output (use --output-activation \
                         linear)"
                            .into(),
                    ));
                }
            }
            Formulation::Relu | Formulation::Threshold => {
                one_hidden_layer(problem)?;
                crate::bounds::check_weight_bound(o.weight_bound)?;
            }
        }
        if o.formulation == Formulation::Relu && problem.arch.output != Activation::Linear {
            return Err(Error::InvalidArgument(
                "--method milp trains a linear output (use --output-activation linear)".into(),
            ));
        }
        if !crate::milp::AVAILABLE {
            return Err(Error::Unavailable(crate::milp::UNAVAILABLE.into()));
        }
        MilpSettings {
            time_limit: o.time_limit,
            rel_gap: o.mip_gap,
            abs_gap: o.mip_gap,
            ..Default::default()
        }
        .validate()?;
        o.relu_loss().validate()
    }

    fn predicts_labels(&self) -> bool {
        self.options.formulation == Formulation::Threshold
    }

    fn train(&self, problem: &Problem, start: &Start, monitor: &mut Monitor) -> Result<Run> {
        let (model, certificate, trace) = match self.options.formulation {
            Formulation::Relu => self.train_relu(problem, start, monitor)?,
            Formulation::Integer(p) => self.train_integer(p, problem, start, monitor)?,
            Formulation::Threshold => self.train_threshold(problem, monitor)?,
        };
        let detail = match start {
            Start::Zero => "no start network (the branch and bound starts from nothing)".into(),
            Start::Random { .. } => format!(
                "first incumbent: the best of {} L-BFGS run(s) from {}",
                self.options.starts,
                start.detail()
            ),
            Start::Model { .. } => format!("first incumbent: {}", start.detail()),
        };
        let stage = Stage {
            method: "milp".into(),
            trace: Trace::Milp(trace),
        };
        let mut run = Run::new(
            "milp",
            start,
            detail,
            model,
            problem,
            vec![stage],
            monitor.budget().elapsed(),
        )?;
        run.certificate = Some(certificate);
        Ok(run)
    }
}
