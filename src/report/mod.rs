//! What a training command writes: the JSON report of its runs (a typed, versioned format,
//! documented in docs/formats.md) and its plot. Every SVG is drawn by [`svg`].

pub mod svg;

use crate::data::Scaling;
use crate::error::{Error, Result};
use crate::methods::{Axes, Run, Settings};
use crate::net::Architecture;
use crate::request::{DataInfo, Evaluation, Prepared, RunRequest, Trained};
use serde::Serialize;
use std::path::Path;
use svg::{Divider, Series, PALETTE};

/// The report's format tag and version (4: each run with its request and its model's hash, the
/// data's hash; 3: one layout for every method, each run's stages).
pub const REPORT_FORMAT: &str = "cvxnn-report";
pub const REPORT_VERSION: u32 = 4;

/// What every report begins with: its format, the format's version and the cvxnn that wrote
/// it.
#[derive(Clone, Debug, Serialize)]
pub struct Stamp {
    pub format: String,
    pub version: u32,
    pub cvxnn_version: String,
}

impl Stamp {
    pub fn new(format: &str, version: u32) -> Self {
        Self {
            format: format.into(),
            version,
            cvxnn_version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// The network trained and the units it was trained in (the data themselves: [`DataInfo`]).
#[derive(Clone, Debug, Serialize)]
pub struct ProblemInfo {
    /// `"3-3-2"`.
    pub architecture: String,
    /// `"linear"` or `"relu"`.
    pub output_activation: String,
    /// The standardisation the networks were trained under (their figures are in its units).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling: Option<Scaling>,
}

impl ProblemInfo {
    pub fn new(arch: &Architecture, scaling: Option<&Scaling>) -> Self {
        Self {
            architecture: arch.spec(),
            output_activation: arch.output.to_string(),
            scaling: scaling.cloned(),
        }
    }
}

/// `{"format": "cvxnn-report", "version": 4, "method": …, "problem": …, "data": …,
/// "settings": …, "time_limit": …, "runs": […]}`: one or several runs of one method on one
/// problem, each with the request that reruns it.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    #[serde(flatten)]
    pub stamp: Stamp,
    pub method: String,
    pub problem: ProblemInfo,
    /// The data's shape, columns and content hash.
    pub data: DataInfo,
    /// The method's settings, every default resolved.
    pub settings: Settings,
    /// Seconds per run, if limited.
    pub time_limit: Option<f64>,
    pub runs: Vec<ReportRun>,
}

/// One run of a report: its request (every default resolved), its model's hash, its figures and
/// its record.
#[derive(Clone, Debug, Serialize)]
pub struct ReportRun {
    pub request: RunRequest,
    /// SHA-256 of the model's file (`null` without a model).
    pub model_sha256: Option<String>,
    /// The method's figures on the training data and the held-out test part.
    pub metrics: Evaluation,
    #[serde(flatten)]
    pub run: Run,
}

/// Writes `value` as pretty JSON with a final newline (non-finite numbers as `null`).
pub fn save_json<T: Serialize>(value: &T, path: &Path) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::parse(path, format!("cannot serialise: {e}")))?;
    std::fs::write(path, text + "\n").map_err(|e| Error::io(path, e))
}

impl Report {
    /// The report of `runs`, all prepared like `prepared` (the same data and method; their
    /// starts may differ).
    pub fn new(prepared: &Prepared, runs: Vec<Trained>) -> Self {
        let request = &prepared.request;
        Self {
            stamp: Stamp::new(REPORT_FORMAT, REPORT_VERSION),
            method: request.method.clone(),
            problem: ProblemInfo::new(&prepared.arch, prepared.scaling.as_ref()),
            data: prepared.info.clone(),
            settings: request.settings.clone(),
            time_limit: request.time_limit,
            runs: runs
                .into_iter()
                .map(|t| ReportRun {
                    model_sha256: t.model_sha256(),
                    request: t.request,
                    metrics: t.metrics,
                    run: t.run,
                })
                .collect(),
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
        let mut axes = Axes::ITERATIONS;
        for (k, run) in self.runs.iter().map(|r| &r.run).enumerate() {
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
                if stage.trace.axes() != Axes::ITERATIONS {
                    axes = stage.trace.axes();
                }
                for line in stage.trace.lines(offset) {
                    series.push(Series {
                        label: name(&line.label),
                        color,
                        dash: line.dash,
                        points: line.points,
                    });
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
        svg::log_plot_svg(
            &format!(
                "{} {} ({} output), N = {}: {}",
                self.method, p.architecture, p.output_activation, self.data.n_samples, axes.what
            ),
            axes.x,
            axes.y,
            &series,
            &dividers,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Init;

    fn report(method: &str, starts: &[Init], settings: &str) -> Report {
        let text = format!(
            "method = \"{method}\"\noutput = \"relu\"\nseed = 3\n[data]\nteacher = \"3-3-2\"\n{settings}"
        );
        let mut request = RunRequest::from_toml(&text).unwrap();
        let mut runs = Vec::new();
        let mut first = None;
        for &init in starts {
            request.start.init = init;
            let p = request.prepare(None).unwrap();
            runs.push(p.run_quietly().unwrap());
            first.get_or_insert(p);
        }
        Report::new(&first.unwrap(), runs)
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
        let gradient = "[gradient]\nmax_iter = 2000\noutput_tol = 0.0\n";
        let r = report("gd", &[Init::Random], gradient);
        let svg = r.plot();
        assert!(inside(&svg));
        assert!(svg.matches("<circle").count() <= 2 * 40);
        assert!(svg.matches("<polyline").count() >= 2);
        // a pipeline: both stages on one axis, divided and labelled
        let both = format!("{gradient}[scr]\nmax_iter = 5\n");
        let svg = report("scr+lbfgs", &[Init::Random], &both).plot();
        assert!(inside(&svg));
        assert!(svg.contains("scr → lbfgs"));
        assert!(svg.contains("scr: product") && svg.contains("lbfgs: loss (MSE)"));
        // the zero start's exactly-zero complementarity is drawn, and the legend says where
        let svg = report("scr", &[Init::Zero], "[scr]\nmax_iter = 5\n").plot();
        assert!(inside(&svg));
        assert!(svg.contains("complementarity ‖H∘S‖ (0 at the bottom)"));
    }
}
