//! The training methods behind one interface. Every method implements [`Trainer`]; the table
//! [`METHODS`] names them and builds them from [`Options`]; [`run`] trains one from a start under
//! an observer and limits and returns the same [`Run`] record for all of them.
//!
//! ```
//! use cvxnn::data::planted_teacher;
//! use cvxnn::methods::{self, Options};
//! use cvxnn::net::{Activation, Architecture};
//! use cvxnn::train::{InitScheme, Limits, Problem, Quiet, Start};
//! let arch = Architecture::parse("3-3-2", Activation::Linear).unwrap();
//! let t = planted_teacher(&arch, 30, 1).unwrap();
//! let problem = Problem::new(&t.data, &arch).unwrap();
//! let trainer = methods::method("lbfgs").unwrap().trainer(&Options::default()).unwrap();
//! let start = Start::Random { scheme: InitScheme::He, seed: 7 };
//! let run = methods::run(trainer.as_ref(), &problem, &start, &mut Quiet, &Limits::none()).unwrap();
//! assert!(run.outcome.loss.is_finite() && run.model.is_some());
//! println!("{}: {} after {} iterations", run.method, run.outcome.stop_reason, run.outcome.iterations);
//! ```
//!
//! Adding a method: a file here with its settings and a `Trainer` impl, and a row in
//! [`METHODS`] (see ARCHITECTURE.md).

mod convex;
mod gradient;
mod milp;
mod pipeline;
mod run;
mod scr;
mod table;

pub use convex::{Convex, ConvexCertificate, ConvexSummary, ConvexTrace, PathRow};
pub use gradient::{GradTrace, Gradient};
pub use milp::{Formulation, LossKind, Milp, MilpOptions, MilpSummary, MilpTrace};
pub use pipeline::Pipeline;
pub use run::{Certificate, Outcome, Run, Stage, Trace};
pub use scr::{Scr, ScrReport, ScrTrace};
pub use table::{method, method_names, Group, Method, Options, METHODS};

use crate::data::TargetScaling;
use crate::error::Result;
use crate::gradient::GradSettings;
use crate::net::Activation;
use crate::train::{Limits, Monitor, Observer, Problem, Start};
use serde::Serialize;

/// A network-training method.
pub trait Trainer: Send + Sync {
    /// Its name in the table (`scr`, `adam`, `scr+lbfgs`, `milp`, …).
    fn name(&self) -> &str;

    /// Its settings, as reports show them.
    fn settings(&self) -> MethodSettings;

    /// Refuses, before any work, a problem this method cannot train: an architecture it does
    /// not cover, invalid settings, a solver this build lacks.
    fn check(&self, problem: &Problem) -> Result<()>;

    /// Whether its targets are class labels (left alone by standardisation).
    fn predicts_labels(&self) -> bool {
        false
    }

    /// How `--standardize` treats the targets of a network with output `output`: labels are
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

/// A method's settings as a report shows them: one entry per family it uses.
#[derive(Clone, Debug, Default, Serialize)]
pub struct MethodSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scr: Option<ScrReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gradient: Option<GradSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub milp: Option<MilpOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub convex: Option<crate::convex::ConvexSettings>,
}

impl MethodSettings {
    /// Both methods' settings (a pipeline's).
    pub fn merge(self, other: MethodSettings) -> Self {
        Self {
            scr: self.scr.or(other.scr),
            gradient: self.gradient.or(other.gradient),
            milp: self.milp.or(other.milp),
            convex: self.convex.or(other.convex),
        }
    }
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
    trainer.check(problem)?;
    let mut monitor = Monitor::new(observer, limits);
    let mut run = trainer.train(problem, start, &mut monitor)?;
    run.diagnose(problem)?;
    Ok(run)
}
