//! SCR (either subproblem solver) as a [`Trainer`].

use super::{MethodSettings, Run, Stage, Trace, Trainer};
use crate::error::Result;
use crate::net::Network;
use crate::scr::{self, Backend, IterationRecord, RunSummary, ScrProblem, ScrSettings};
use crate::train::{Monitor, Problem, Start};
use serde::Serialize;

/// SCR's stage of a run: the backend, every iteration, the final figures.
#[derive(Clone, Debug, Serialize)]
pub struct ScrTrace {
    pub backend: String,
    pub iterations: Vec<IterationRecord>,
    #[serde(rename = "final")]
    pub summary: RunSummary,
}

/// SCR's settings as reports show them.
#[derive(Clone, Debug, Serialize)]
pub struct ScrReport {
    #[serde(flatten)]
    pub settings: ScrSettings,
    pub backend: String,
}

/// Sequential convex relaxation with a subproblem solver.
pub struct Scr {
    pub settings: ScrSettings,
    pub backend: Backend,
}

impl Scr {
    fn problem(problem: &Problem) -> Result<ScrProblem> {
        ScrProblem::new(&problem.data.x, &problem.data.y, problem.arch)
    }
}

impl Trainer for Scr {
    fn name(&self) -> &str {
        "scr"
    }

    fn settings(&self) -> MethodSettings {
        MethodSettings {
            scr: Some(ScrReport {
                settings: self.settings.clone(),
                backend: self.backend.name().into(),
            }),
            ..Default::default()
        }
    }

    fn check(&self, problem: &Problem) -> Result<()> {
        self.settings.validate()?;
        self.settings
            .layer_weights(problem.arch.n_hidden_layers())?;
        self.backend.make()?;
        Self::problem(problem).map(|_| ())
    }

    fn train(&self, problem: &Problem, start: &Start, monitor: &mut Monitor) -> Result<Run> {
        let p = Self::problem(problem)?;
        let mut backend = self.backend.make()?;
        let run = scr::run(&p, start, &self.settings, backend.as_mut(), monitor)?;
        let stage = Stage {
            method: "scr".into(),
            trace: Trace::Scr(ScrTrace {
                backend: run.backend,
                iterations: run.history,
                summary: run.summary,
            }),
        };
        Run::new(
            "scr",
            start,
            scr::start_detail(start),
            Some(Network::Mlp(run.model)),
            problem,
            vec![stage],
            monitor.budget().elapsed(),
        )
    }
}
