//! The gradient methods (gd, sgd, adam, lbfgs, lm) as a [`Trainer`].

use super::{MethodSettings, Run, Stage, Trace, Trainer};
use crate::error::Result;
use crate::gradient::{self, GradRecord, GradSettings, GradSummary};
use crate::net::Network;
use crate::train::{Monitor, Problem, Start};
use serde::Serialize;

/// A gradient method's stage of a run: its recorded iterations and final figures.
#[derive(Clone, Debug, Serialize)]
pub struct GradTrace {
    pub iterations: Vec<GradRecord>,
    #[serde(rename = "final")]
    pub summary: GradSummary,
}

/// A gradient method with its settings, starting from the start's network.
pub struct Gradient {
    pub settings: GradSettings,
}

impl Trainer for Gradient {
    fn name(&self) -> &str {
        self.settings.optimizer.name()
    }

    fn settings(&self) -> MethodSettings {
        MethodSettings {
            gradient: Some(self.settings.clone()),
            ..Default::default()
        }
    }

    fn check(&self, problem: &Problem) -> Result<()> {
        self.settings.validate()?;
        gradient::check_size(&self.settings, problem.arch, problem.data.n_samples())
    }

    fn train(&self, problem: &Problem, start: &Start, monitor: &mut Monitor) -> Result<Run> {
        let net = start.network(problem.arch)?;
        let run = gradient::train(
            &problem.data.x,
            &problem.data.y,
            &net,
            &self.settings,
            monitor,
        )?;
        let stage = Stage {
            method: self.name().into(),
            trace: Trace::Gradient(GradTrace {
                iterations: run.history,
                summary: run.summary,
            }),
        };
        Run::new(
            self.name(),
            start,
            start.detail(),
            Some(Network::Mlp(run.model)),
            problem,
            vec![stage],
            monitor.budget().elapsed(),
        )
    }
}
