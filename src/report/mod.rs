//! What a training command writes: the JSON report of its runs (a typed, versioned format,
//! documented in docs/formats.md) and its plot. Every SVG is drawn by [`svg`].

pub mod svg;

use crate::data::{Dataset, Scaling};
use crate::error::{Error, Result};
use crate::methods::{MethodSettings, Run, Trace};
use crate::net::Architecture;
use serde::Serialize;
use std::path::Path;
use svg::{Divider, Series, PALETTE};

/// The report's format tag and version (3: one layout for every method, each run's stages).
pub const REPORT_FORMAT: &str = "cvxnn-report";
pub const REPORT_VERSION: u32 = 3;

/// What was trained on.
#[derive(Clone, Debug, Serialize)]
pub struct ProblemInfo {
    /// `"3-3-2"`.
    pub architecture: String,
    /// `"linear"` or `"relu"`.
    pub output_activation: String,
    pub n_samples: usize,
    /// File path or generator description.
    pub data: String,
    /// The input and target columns, by name.
    pub inputs: Vec<String>,
    pub targets: Vec<String>,
    /// The standardisation the networks were trained under (their figures are in its units).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling: Option<Scaling>,
}

impl ProblemInfo {
    pub fn new(arch: &Architecture, data: &Dataset, scaling: Option<&Scaling>) -> Self {
        Self {
            architecture: arch.spec(),
            output_activation: arch.output.to_string(),
            n_samples: data.n_samples(),
            data: data.source.clone(),
            inputs: data.input_names.clone(),
            targets: data.target_names.clone(),
            scaling: scaling.cloned(),
        }
    }
}

/// `{"format": "cvxnn-report", "version": 3, "method": …, "problem": …, "settings": …,
/// "time_limit": …, "runs": […]}`: one or several runs of one method on one problem.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub format: String,
    pub version: u32,
    pub cvxnn_version: String,
    pub method: String,
    pub problem: ProblemInfo,
    pub settings: MethodSettings,
    /// Seconds per run, if limited.
    pub time_limit: Option<f64>,
    pub runs: Vec<Run>,
}

/// Writes `value` as pretty JSON with a final newline (non-finite numbers as `null`).
pub fn save_json<T: Serialize>(value: &T, path: &Path) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::parse(path, format!("cannot serialise: {e}")))?;
    std::fs::write(path, text + "\n").map_err(|e| Error::io(path, e))
}

impl Report {
    pub fn new(
        method: &str,
        problem: ProblemInfo,
        settings: MethodSettings,
        time_limit: Option<f64>,
        runs: Vec<Run>,
    ) -> Self {
        Self {
            format: REPORT_FORMAT.into(),
            version: REPORT_VERSION,
            cvxnn_version: env!("CARGO_PKG_VERSION").into(),
            method: method.into(),
            problem,
            settings,
            time_limit,
            runs,
        }
    }

    /// Writes pretty JSON (non-finite numbers, e.g. of a failed iteration, as `null`).
    pub fn save(&self, path: &Path) -> Result<()> {
        save_json(self, path)
    }

    /// Every run's history per iteration, log scale, as SVG: SCR's violations and output error,
    /// a gradient method's loss and output error, the MILP's incumbent and bound per node. The
    /// stages of a pipeline follow each other on one axis, divided by a labelled line.
    pub fn plot(&self) -> String {
        let mut series = Vec::new();
        let mut dividers = Vec::new();
        let several_runs = self.runs.len() > 1;
        let milp = self
            .runs
            .iter()
            .flat_map(|r| &r.stages)
            .any(|s| matches!(s.trace, Trace::Milp(_)));
        for (k, run) in self.runs.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let several_stages = run.stages.len() > 1;
            let mut offset = 0.0;
            for (i, stage) in run.stages.iter().enumerate() {
                let name = |what: &str| match (several_runs, several_stages) {
                    (true, true) => format!("{} {}: {what}", run.init, stage.method),
                    (true, false) => format!("{}: {what}", run.init),
                    (false, true) => format!("{}: {what}", stage.method),
                    (false, false) => what.to_string(),
                };
                let mut line = |what: &str, dash: &'static str, points: Vec<(f64, f64)>| {
                    series.push(Series {
                        label: name(what),
                        color,
                        dash,
                        points,
                    })
                };
                match &stage.trace {
                    Trace::Scr(t) => {
                        let at = |f: fn(&crate::scr::IterationRecord) -> f64| {
                            t.iterations
                                .iter()
                                .map(|r| (offset + r.iteration as f64, f(r)))
                                .collect()
                        };
                        line("product ‖WH − C‖", "", at(|r| r.product_violation));
                        line(
                            "complementarity ‖H∘S‖",
                            "6 3",
                            at(|r| r.complementarity_violation),
                        );
                        line("output error", "1 3", at(|r| r.output_error));
                    }
                    Trace::Gradient(t) => {
                        let at = |f: fn(&crate::gradient::GradRecord) -> f64| {
                            t.iterations
                                .iter()
                                .map(|r| (offset + r.iteration as f64, f(r)))
                                .collect()
                        };
                        line("loss (MSE)", "", at(|r| r.loss));
                        line("output error", "1 3", at(|r| r.output_error));
                    }
                    Trace::Convex(t) => {
                        let p = &t.progress;
                        line(
                            "relative gap",
                            "",
                            p.iter()
                                .map(|r| (offset + r.iteration as f64, r.rel_gap))
                                .collect(),
                        );
                    }
                    Trace::Milp(t) => {
                        let p = &t.progress;
                        line(
                            "incumbent",
                            "",
                            p.iter()
                                .map(|r| (r.nodes as f64, r.incumbent.unwrap_or(f64::NAN)))
                                .collect(),
                        );
                        line(
                            "lower bound",
                            "6 3",
                            p.iter().map(|r| (r.nodes as f64, r.bound)).collect(),
                        );
                    }
                }
                offset += stage.iterations() as f64;
                if let Some(next) = run.stages.get(i + 1) {
                    if k == 0 {
                        dividers.push(Divider {
                            x: offset,
                            label: format!("{} → {}", stage.method, next.method),
                        });
                    }
                }
            }
        }
        let p = &self.problem;
        let (what, xlabel, ylabel) = if milp {
            (
                "incumbent and bound",
                "branch-and-bound nodes",
                "loss (log scale)",
            )
        } else {
            (
                "history",
                "iteration",
                "violation, loss or relative error (log scale)",
            )
        };
        svg::log_plot_svg(
            &format!(
                "{} {} ({} output), N = {}: {what}",
                self.method, p.architecture, p.output_activation, p.n_samples
            ),
            xlabel,
            ylabel,
            &series,
            &dividers,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::planted_teacher;
    use crate::methods::{self, Options};
    use crate::net::Activation;
    use crate::train::{InitScheme, Limits, Problem, Quiet, Start};

    fn report(method: &str, starts: &[Start], options: &Options) -> Report {
        let arch = Architecture::parse("3-3-2", Activation::Relu).unwrap();
        let t = planted_teacher(&arch, 30, 1).unwrap();
        let p = Problem::new(&t.data, &arch).unwrap();
        let trainer = methods::method(method).unwrap().trainer(options).unwrap();
        let runs = starts
            .iter()
            .map(|s| methods::run(trainer.as_ref(), &p, s, &mut Quiet, &Limits::none()).unwrap())
            .collect();
        Report::new(
            method,
            ProblemInfo::new(&arch, &t.data, None),
            trainer.settings(),
            None,
            runs,
        )
    }

    /// Every marker and line point lies inside the plot area (x from 85 to 600, y from 40 to
    /// 510).
    fn inside(svg: &str) -> bool {
        let num = |s: &str, key: &str| -> Vec<f64> {
            s.split(key)
                .skip(1)
                .map(|t| t.split('"').next().unwrap().parse().unwrap())
                .collect()
        };
        let cx = num(svg, "cx=\"");
        let cy = num(svg, "cy=\"");
        cx.iter().all(|x| (85.0..=600.0).contains(x))
            && cy.iter().all(|y| (40.0..=510.0).contains(y))
    }

    #[test]
    fn plots_keep_every_point_inside_thin_markers_and_show_stages_and_zeros() {
        // a gradient method: iteration 0 inside the axes, ≤ 40 markers per line though 2 000
        // iterations are recorded
        let mut o = Options::default();
        o.gradient.steps = Some(2000);
        o.gradient.output_tol = Some(0.0);
        let start = Start::Random {
            scheme: InitScheme::He,
            seed: 3,
        };
        let r = report("gd", std::slice::from_ref(&start), &o);
        let svg = r.plot();
        assert!(inside(&svg));
        assert!(svg.matches("<circle").count() <= 2 * 40);
        assert!(svg.matches("<polyline").count() >= 2);
        // a pipeline: both stages on one axis, divided and labelled
        o.scr.max_iter = 5;
        let svg = report("scr+lbfgs", &[start], &o).plot();
        assert!(inside(&svg));
        assert!(svg.contains("scr → lbfgs"));
        assert!(svg.contains("scr: product") && svg.contains("lbfgs: loss (MSE)"));
        // the zero start's exactly-zero complementarity is drawn, and the legend says where
        let svg = report("scr", &[Start::Zero], &o).plot();
        assert!(inside(&svg));
        assert!(svg.contains("complementarity ‖H∘S‖ (0 at the bottom)"));
    }
}
