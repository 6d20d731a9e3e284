//! The training methods behind one interface. Every method implements [`Trainer`]; the table
//! ([`METHODS`], plus any method added with [`register`]) names them and builds them from their
//! [`Settings`]; [`run`] trains one from a start under an observer and limits and returns the
//! same [`Run`] record for all of them. A method owns its settings group, its [`Trace`] (what it
//! records per iteration) and its [`Certificate`] (what it proves), so adding one touches no
//! other file.
//!
//! ```
//! use cvxnn::data::planted_teacher;
//! use cvxnn::methods::{self, Context, Settings};
//! use cvxnn::net::{Activation, Architecture};
//! use cvxnn::train::{InitScheme, Limits, Problem, Quiet, Start};
//! let arch = Architecture::parse("3-3-2", Activation::Linear).unwrap();
//! let t = planted_teacher(&arch, 30, 1).unwrap();
//! let problem = Problem::new(&t.data, &arch).unwrap();
//! let mut settings = Settings::new();
//! settings.set("gradient.max_iter", 500.into()).unwrap();
//! let lbfgs = methods::method("lbfgs").unwrap();
//! let trainer = lbfgs.trainer(&settings, &Context::new(1, &t.data)).unwrap();
//! let start = Start::Random { scheme: InitScheme::He, seed: 7 };
//! let run = methods::run(trainer.as_ref(), &problem, &start, &mut Quiet, &Limits::none()).unwrap();
//! assert!(run.outcome.loss.is_finite() && run.model.is_some());
//! println!("{}: {} after {} iterations", run.method, run.outcome.stop_reason, run.outcome.iterations);
//! ```
//!
//! Adding a method: a file with its settings, trace, certificate and a `Trainer` impl, and a
//! row in [`METHODS`] or a call to [`register`] (see ARCHITECTURE.md).

mod convex;
mod glm;
mod gradient;
mod milp;
mod perceptron;
mod pipeline;
mod run;
mod scr;
mod settings;
mod table;

pub use convex::{
    Convex, ConvexCertificate, ConvexGroup, ConvexTrace, PathRow, PatternName, PatternSpec,
    AUTO_ENUMERATE, AUTO_SAMPLED,
};
pub use glm::{Glm, GlmCertificate, GlmFit, GlmGroup, GlmKind, GlmSolver, GlmTrace, Penalty};
pub use gradient::{GradTrace, Gradient, GradientGroup};
pub use milp::{Milp, MilpFormulation, MilpGroup, MilpLoss, MilpSummary, MilpTrace, TIGHTENINGS};
pub use perceptron::{Perceptron, PerceptronCertificate, PerceptronNode, PerceptronTrace};
pub use pipeline::Pipeline;
pub use run::{Outcome, Run, Stage};
pub use scr::{BackendName, Scr, ScrGroup, ScrTrace};
pub use settings::{kind, read_group, Settings};
pub use table::{
    method, method_names, methods, names_of, register, Context, Family, Method, METHODS,
};

use crate::data::{Dataset, TargetScaling};
use crate::error::Result;
use crate::linalg::Precision;
use crate::net::{Activation, Architecture, Link, Network};
use crate::train::{Limits, Monitor, Observer, Problem, Start, Stop};
use serde::{Deserialize, Serialize};
use std::any::Any;
use std::fmt;

/// A network-training method.
pub trait Trainer: Send + Sync {
    /// Its name in the table (`scr`, `adam`, `scr+lbfgs`, `milp`, …).
    fn name(&self) -> &str;

    /// Its settings groups with every default resolved, in the request schema's keys: what
    /// reports show, and what rebuilds the same trainer.
    fn settings(&self) -> Settings;

    /// Refuses, before any work, a problem this method cannot train: an architecture it does
    /// not cover, invalid settings, a solver this build lacks.
    fn check(&self, problem: &Problem) -> Result<()>;

    /// The network this method trains on `data`, when the method decides it (a linear model:
    /// inputs to outputs, no hidden layer); `None`: the request's `arch`.
    fn architecture(&self, _data: &Dataset, _output: Activation) -> Option<Architecture> {
        None
    }

    /// Its figures of a network on `data` (in the units it trained in): the mean squared error
    /// and the relative output error, or a method's own (accuracy, R², …).
    fn metrics(&self, net: &Network, data: &Dataset) -> Result<Metrics> {
        let (mse, output_error) = run::fit(net, &data.x, &data.y, data.weights.as_deref())?;
        Ok(Metrics::from([
            ("mse", mse),
            ("output_error", output_error),
        ]))
    }

    /// Whether its targets are class labels (left alone by standardisation).
    fn predicts_labels(&self) -> bool {
        false
    }

    /// Whether it trains a weighted loss on weighted data (`Dataset::weights`); one that does
    /// not is refused weighted data rather than ignoring the weights.
    fn takes_weights(&self) -> bool {
        false
    }

    /// What the outputs of the networks it trains mean (`n_outputs` of them): values, or the
    /// logits of class probabilities, which the model then predicts.
    fn link(&self, _n_outputs: usize) -> Link {
        Link::Identity
    }

    /// The precision of the networks it trains (and of their parameters): float64 unless the
    /// method runs in float32.
    fn precision(&self) -> Precision {
        Precision::F64
    }

    /// How `standardize` treats the targets of a network with output `output`: labels are
    /// left alone, a ReLU output's nonnegative targets are scaled without centring, other
    /// targets standardised.
    fn target_scaling(&self, output: Activation) -> TargetScaling {
        match (self.predicts_labels(), output) {
            (true, _) => TargetScaling::None,
            (false, Activation::Relu) => TargetScaling::ScaleOnly,
            (false, Activation::Linear) => TargetScaling::Standardize,
        }
    }

    /// Trains from `start`, reporting every iteration to `monitor` and stopping when it says so.
    fn train(&self, problem: &Problem, start: &Start, monitor: &mut Monitor) -> Result<Run>;
}

/// One stage's per-iteration history and final figures, in its method's own terms (serialised
/// into the report's stage entry).
pub trait Trace: erased_serde::Serialize + fmt::Debug + Send + Sync + Any {
    /// How the stage ended: why, after how many iterations, in how many seconds.
    fn summary(&self) -> StageSummary;

    /// Its lines on the report's plot; `offset` is where the stage starts on the x axis.
    fn lines(&self, offset: f64) -> Vec<Line>;

    /// The plot's axes when this stage is drawn.
    fn axes(&self) -> Axes {
        Axes::ITERATIONS
    }

    /// What a user should hear about how this stage ended, given the run's network.
    fn warnings(&self, _method: &str, _model: Option<&Network>) -> Vec<String> {
        Vec::new()
    }
}

erased_serde::serialize_trait_object!(Trace);

/// What a method proves about its answer (serialised with its `kind`).
pub trait Certificate: erased_serde::Serialize + fmt::Debug + Send + Sync + Any {
    /// `milp`, `convex`, … (the report's `kind`).
    fn kind(&self) -> &str;

    /// `optimal (certified)`, `global optimum (certified, gap 2e-9)`, ….
    fn describe(&self) -> String;

    /// Whether the gap closed.
    fn certified(&self) -> bool;

    /// What a user should hear when the proof is incomplete, given how the run stopped.
    fn warnings(&self, _stop: Stop) -> Vec<String> {
        Vec::new()
    }
}

erased_serde::serialize_trait_object!(Certificate);

/// A network's figures on some data, by name, in the order a table shows them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metrics(pub Vec<(String, f64)>);

impl<const N: usize> From<[(&str, f64); N]> for Metrics {
    fn from(pairs: [(&str, f64); N]) -> Self {
        Self(pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect())
    }
}

impl Metrics {
    /// The figure named `name`.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| *v)
    }
}

impl serde::Serialize for Metrics {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// One line of a report's plot.
#[derive(Clone, Debug)]
pub struct Line {
    pub label: String,
    /// SVG dash pattern (`""` solid).
    pub dash: &'static str,
    pub points: Vec<(f64, f64)>,
}

impl Line {
    pub fn new(label: &str, dash: &'static str, points: Vec<(f64, f64)>) -> Self {
        Self {
            label: label.into(),
            dash,
            points,
        }
    }

    /// The line through `(offset + i, v)` for each record's `(i, v) = point(record)`.
    pub fn through<R>(
        label: &str,
        dash: &'static str,
        records: &[R],
        offset: f64,
        point: impl Fn(&R) -> (usize, f64),
    ) -> Self {
        let points = records
            .iter()
            .map(|r| {
                let (i, v) = point(r);
                (offset + i as f64, v)
            })
            .collect();
        Self::new(label, dash, points)
    }
}

/// How a stage ended: its iterations (branch-and-bound nodes for the MILP), why it stopped, and
/// its seconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct StageSummary {
    pub iterations: usize,
    pub stop_reason: Stop,
    pub seconds: f64,
}

impl StageSummary {
    pub fn new(iterations: usize, stop_reason: Stop, seconds: f64) -> Self {
        Self {
            iterations,
            stop_reason,
            seconds,
        }
    }
}

/// A plot's title word and axis labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Axes {
    pub what: &'static str,
    pub x: &'static str,
    pub y: &'static str,
}

impl Axes {
    /// Iterations against violations, losses and errors: every iterative method's.
    pub const ITERATIONS: Axes = Axes {
        what: "history",
        x: "iteration",
        y: "violation, loss or relative error (log scale)",
    };
}

/// Trains `trainer` on `problem` from `start`: checks first, then runs under `observer` and
/// `limits` (the time limit counts from here), then adds the warnings every front end shows.
pub fn run(
    trainer: &dyn Trainer,
    problem: &Problem,
    start: &Start,
    observer: &mut dyn Observer,
    limits: &Limits,
) -> Result<Run> {
    limits.validate()?;
    if problem.data.weights.is_some() && !trainer.takes_weights() {
        return Err(crate::error::Error::setting(
            "data.weights",
            format!(
                "{} trains no weighted loss with these settings; sample weights are read by the \
                 gradient methods (gd, sgd, adam, lbfgs), the linear models and the convex model \
                 (its patterns enumerated, sampled or given, not generated)",
                trainer.name()
            ),
        ));
    }
    trainer.check(problem)?;
    let mut monitor = Monitor::new(observer, limits);
    let mut run = trainer.train(problem, start, &mut monitor)?;
    run.diagnose(problem)?;
    Ok(run)
}

/// A certificate as `{"kind": …, its fields}` (a run's record, a comparison's row).
pub fn tagged_certificate<S: serde::Serializer>(
    c: &Option<std::sync::Arc<dyn Certificate>>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    use serde::Serialize;
    #[derive(Serialize)]
    struct Tagged<'a> {
        kind: &'a str,
        #[serde(flatten)]
        body: &'a dyn Certificate,
    }
    match c {
        Some(c) => Tagged {
            kind: c.kind(),
            body: c.as_ref(),
        }
        .serialize(s),
        None => s.serialize_none(),
    }
}
