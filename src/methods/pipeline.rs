//! One method after another (`scr+lbfgs`): the second starts from the first one's network, and
//! the run keeps both stages.

use super::{Metrics, Run, Settings, Trainer};
use crate::data::Dataset;
use crate::error::Result;
use crate::linalg::Precision;
use crate::net::{Link, Network};
use crate::train::{Monitor, Problem, Start, Stop};

/// `first`, then `then` from `first`'s network, under one monitor (the time limit covers both).
pub struct Pipeline {
    pub name: String,
    pub first: Box<dyn Trainer>,
    pub then: Box<dyn Trainer>,
}

impl Trainer for Pipeline {
    fn name(&self) -> &str {
        &self.name
    }

    fn settings(&self) -> Settings {
        self.first.settings().merge(self.then.settings())
    }

    fn check(&self, problem: &Problem) -> Result<()> {
        self.first.check(problem)?;
        self.then.check(problem)
    }

    // the network is the second stage's: its figures, targets and outputs are read its way
    fn metrics(&self, net: &Network, data: &Dataset) -> Result<Metrics> {
        self.then.metrics(net, data)
    }

    fn predicts_labels(&self) -> bool {
        self.then.predicts_labels()
    }

    fn link(&self, n_outputs: usize) -> Link {
        self.then.link(n_outputs)
    }

    fn precision(&self) -> Precision {
        self.then.precision()
    }

    fn train(&self, problem: &Problem, start: &Start, monitor: &mut Monitor) -> Result<Run> {
        let mut first = self.first.train(problem, start, monitor)?;
        first.method.clone_from(&self.name);
        // the second stage needs a network, and a run stopped from outside or by a failure ends
        // here
        let stop = first.outcome.stop_reason;
        let Some(Network::Mlp(net)) = first.model.clone() else {
            return Ok(first);
        };
        if stop.cut_short() || matches!(stop, Stop::SolverFailed | Stop::Diverged) {
            return Ok(first);
        }
        let from = Start::Model {
            model: net,
            label: first.init.clone(),
            detail: format!("the {} network", self.first.name()),
        };
        let second = self.then.train(problem, &from, monitor)?;
        let mut stages = first.stages;
        stages.extend(second.stages);
        let mut run = Run::new(
            &self.name,
            start,
            first.init_detail,
            second.model,
            problem,
            stages,
            monitor.budget().elapsed(),
        )?;
        run.certificate = second.certificate;
        Ok(run)
    }
}
