//! Why a training run ended: one list for every method.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a run (or one stage of a pipeline) ended. Every method reports one of these; the JSON
/// name is the snake_case form (`iteration_limit`, `time_limit`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// SCR: both constraint violations at most the tolerance (a feasible fixed point).
    Converged,
    /// The relative output error `‖f(X) − Y‖_F / ‖Y‖_F` reached its tolerance.
    OutputTolerance,
    /// The gradient norm reached its tolerance.
    GradientTolerance,
    /// L-BFGS: no step satisfies the line search (a ReLU kink, or the limits of floating point).
    LineSearchFailed,
    /// Levenberg–Marquardt: the step or the decrease fell below machine precision.
    Stalled,
    /// The iteration cap was reached.
    IterationLimit,
    /// The loss became NaN or infinite; the run keeps its last finite network.
    Diverged,
    /// A subproblem solver gave no usable answer; the run keeps the previous iterate.
    SolverFailed,
    /// Exact training: the network is optimal over its class, with a proof (the gap closed).
    Optimal,
    /// Exact training: no network of the class meets the constraints (a proof).
    Infeasible,
    /// The time limit was reached; the run keeps the best it had.
    TimeLimit,
    /// The user interrupted the run (Ctrl-C); it keeps the best it had.
    Interrupted,
    /// An observer asked the run to stop.
    StoppedByObserver,
    /// Early stopping: the loss on the held-out validation part stopped improving; the run keeps
    /// its best network there.
    EarlyStopped,
}

impl Stop {
    /// The JSON name, for tables.
    pub fn name(self) -> &'static str {
        match self {
            Stop::Converged => "converged",
            Stop::OutputTolerance => "output_tolerance",
            Stop::GradientTolerance => "gradient_tolerance",
            Stop::LineSearchFailed => "line_search_failed",
            Stop::Stalled => "stalled",
            Stop::IterationLimit => "iteration_limit",
            Stop::Diverged => "diverged",
            Stop::SolverFailed => "solver_failed",
            Stop::Optimal => "optimal",
            Stop::Infeasible => "infeasible",
            Stop::TimeLimit => "time_limit",
            Stop::Interrupted => "interrupted",
            Stop::StoppedByObserver => "stopped_by_observer",
            Stop::EarlyStopped => "early_stopped",
        }
    }

    /// Stopped from outside (time limit, interrupt, observer) rather than by the method.
    pub fn cut_short(self) -> bool {
        matches!(
            self,
            Stop::TimeLimit | Stop::Interrupted | Stop::StoppedByObserver
        )
    }
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_json_names() {
        for s in [
            Stop::Converged,
            Stop::OutputTolerance,
            Stop::GradientTolerance,
            Stop::LineSearchFailed,
            Stop::Stalled,
            Stop::IterationLimit,
            Stop::Diverged,
            Stop::SolverFailed,
            Stop::Optimal,
            Stop::Infeasible,
            Stop::TimeLimit,
            Stop::Interrupted,
            Stop::StoppedByObserver,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.name());
            assert_eq!(serde_json::from_value::<Stop>(s.name().into()).unwrap(), s);
        }
    }
}
