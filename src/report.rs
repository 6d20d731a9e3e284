//! The JSON report (a user-facing format, documented in the README) and SVG plots.

use crate::error::{Error, Result};
use crate::gradient::{GradRecord, GradRun, GradSettings, GradSummary};
use crate::scr::{IterationRecord, RunSummary, ScrRun, ScrSettings};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;

/// Version of the report format; bumped on any incompatible change.
pub const REPORT_VERSION: u32 = 2;

/// What was trained on.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProblemInfo {
    /// `"3-3-2"`.
    pub architecture: String,
    /// `"linear"` or `"relu"`.
    pub output_activation: String,
    pub n_samples: usize,
    /// File path or generator description.
    pub data: String,
}

/// Writes `value` as pretty JSON with a final newline (non-finite numbers as `null`).
fn save_json<T: Serialize>(value: &T, path: &Path) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::parse(path, format!("cannot serialise report: {e}")))?;
    std::fs::write(path, text + "\n").map_err(|e| Error::io(path, e))
}

/// One run in a report.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunReport {
    /// `perturbed`, `random`, `zero` or `model`.
    pub init: String,
    /// How the start was made (seed, σ, …).
    pub init_detail: String,
    pub backend: String,
    pub iterations: Vec<IterationRecord>,
    #[serde(rename = "final")]
    pub final_: RunSummary,
}

impl From<&ScrRun> for RunReport {
    fn from(r: &ScrRun) -> Self {
        Self {
            init: r.init.clone(),
            init_detail: r.init_detail.clone(),
            backend: r.backend.clone(),
            iterations: r.history.clone(),
            final_: r.summary.clone(),
        }
    }
}

/// One gradient run in a report; `scr` holds the first stage of a pipeline such as `scr+lbfgs`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GradRunReport {
    pub init: String,
    pub init_detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scr: Option<RunReport>,
    pub iterations: Vec<GradRecord>,
    #[serde(rename = "final")]
    pub final_: GradSummary,
}

impl GradRunReport {
    pub fn new(init: String, init_detail: String, scr: Option<&ScrRun>, run: &GradRun) -> Self {
        Self {
            init,
            init_detail,
            scr: scr.map(RunReport::from),
            iterations: run.history.clone(),
            final_: run.summary.clone(),
        }
    }
}

/// The report of a gradient method (`gd`, `sgd`, `adam`, `lbfgs`, `lm`) or of a pipeline that
/// ends with one (`scr+lbfgs`: then `scr_settings` and each run's `scr` are set).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GradReport {
    pub format: String,
    pub version: u32,
    pub cvxnn_version: String,
    pub method: String,
    pub problem: ProblemInfo,
    pub settings: GradSettings,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scr_settings: Option<ScrSettings>,
    pub runs: Vec<GradRunReport>,
}

impl GradReport {
    pub fn new(
        method: &str,
        problem: ProblemInfo,
        settings: GradSettings,
        scr_settings: Option<ScrSettings>,
        runs: Vec<GradRunReport>,
    ) -> Self {
        Self {
            format: "cvxnn-report".into(),
            version: REPORT_VERSION,
            cvxnn_version: env!("CARGO_PKG_VERSION").into(),
            method: method.into(),
            problem,
            settings,
            scr_settings,
            runs,
        }
    }

    /// Writes pretty JSON (non-finite numbers as `null`).
    pub fn save(&self, path: &Path) -> Result<()> {
        save_json(self, path)
    }

    /// Loss and output error per iteration, log scale, as SVG.
    pub fn loss_svg(&self) -> String {
        let mut series = Vec::new();
        for (k, run) in self.runs.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let pick = |f: fn(&GradRecord) -> f64| -> Vec<(f64, f64)> {
                run.iterations
                    .iter()
                    .map(|r| (r.iteration as f64, f(r)))
                    .collect()
            };
            series.push(Series {
                label: format!("{}: loss (MSE)", run.init),
                color,
                dash: "",
                points: pick(|r| r.loss),
            });
            series.push(Series {
                label: format!("{}: output error", run.init),
                color,
                dash: "1 3",
                points: pick(|r| r.output_error),
            });
        }
        log_plot_svg(
            &format!(
                "{} {} ({} output), N = {}: loss per iteration",
                self.method,
                self.problem.architecture,
                self.problem.output_activation,
                self.problem.n_samples
            ),
            "iteration",
            "MSE / relative error (log scale)",
            &series,
        )
    }
}

/// `{"format": "cvxnn-report", "version": 2, "method": "scr", "problem": …, "settings": …, "runs": […]}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    pub format: String,
    pub version: u32,
    pub cvxnn_version: String,
    pub method: String,
    pub problem: ProblemInfo,
    pub settings: ScrSettings,
    pub runs: Vec<RunReport>,
}

impl Report {
    pub fn new(problem: ProblemInfo, settings: ScrSettings, runs: &[ScrRun]) -> Self {
        Self {
            format: "cvxnn-report".into(),
            version: REPORT_VERSION,
            cvxnn_version: env!("CARGO_PKG_VERSION").into(),
            method: "scr".into(),
            problem,
            settings,
            runs: runs.iter().map(RunReport::from).collect(),
        }
    }

    /// Writes pretty JSON. Non-finite numbers (a failed iteration) are written as `null`.
    pub fn save(&self, path: &Path) -> Result<()> {
        save_json(self, path)
    }

    /// The violations of every run per iteration, log scale, as SVG.
    pub fn violations_svg(&self) -> String {
        let mut series = Vec::new();
        for (k, run) in self.runs.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let pick = |f: fn(&IterationRecord) -> f64| -> Vec<(f64, f64)> {
                run.iterations
                    .iter()
                    .map(|r| (r.iteration as f64, f(r)))
                    .collect()
            };
            series.push(Series {
                label: format!("{}: product ‖W₂H − C‖", run.init),
                color,
                dash: "",
                points: pick(|r| r.product_violation),
            });
            series.push(Series {
                label: format!("{}: complementarity ‖H∘S₁‖", run.init),
                color,
                dash: "6 3",
                points: pick(|r| r.complementarity_violation),
            });
            series.push(Series {
                label: format!("{}: output error", run.init),
                color,
                dash: "1 3",
                points: pick(|r| r.output_error),
            });
        }
        log_plot_svg(
            &format!(
                "SCR {} ({} output), N = {}: violations per iteration",
                self.problem.architecture, self.problem.output_activation, self.problem.n_samples
            ),
            "iteration",
            "Frobenius norm / relative error (log scale)",
            &series,
        )
    }
}

const PALETTE: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];

/// One line of a plot.
pub struct Series {
    pub label: String,
    pub color: &'static str,
    /// SVG `stroke-dasharray` ("" for solid).
    pub dash: &'static str,
    pub points: Vec<(f64, f64)>,
}

/// A line plot with a log-scale y axis. Nonpositive or non-finite values are left out of a line.
pub fn log_plot_svg(title: &str, xlabel: &str, ylabel: &str, series: &[Series]) -> String {
    let (w, h) = (900.0, 560.0);
    let (left, right, top, bottom) = (85.0, 300.0, 40.0, 50.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let finite: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .filter(|&(_, y)| y.is_finite() && y > 0.0)
        .collect();
    let xmax = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold(1.0_f64, f64::max);
    let xmin = 1.0_f64.min(xmax);
    let (mut lo, mut hi) = finite
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &(_, y)| {
            (a.min(y.log10()), b.max(y.log10()))
        });
    if !lo.is_finite() {
        (lo, hi) = (-1.0, 1.0);
    }
    let (lo, hi) = (lo.floor(), hi.ceil().max(lo.floor() + 1.0));
    let sx = |x: f64| {
        left + if xmax > xmin {
            (x - xmin) / (xmax - xmin) * pw
        } else {
            pw / 2.0
        }
    };
    let sy = |y: f64| top + (hi - y.log10()) / (hi - lo) * ph;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#,
        left + pw / 2.0,
        xml_escape(title)
    );
    // y grid: one line per decade
    let step = ((hi - lo) / 12.0).ceil().max(1.0);
    let mut d = lo;
    while d <= hi + 1e-9 {
        let y = top + (hi - d) / (hi - lo) * ph;
        let _ = writeln!(
            s,
            r##"<line x1="{left}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">1e{}</text>"##,
            left + pw,
            left - 6.0,
            y + 4.0,
            d as i64
        );
        d += step;
    }
    // x ticks
    let xstep = ((xmax - xmin) / 10.0).ceil().max(1.0);
    let mut x = xmin;
    while x <= xmax + 1e-9 {
        let px = sx(x);
        let _ = writeln!(
            s,
            r##"<line x1="{px:.1}" y1="{}" x2="{px:.1}" y2="{}" stroke="#999"/><text x="{px:.1}" y="{}" text-anchor="middle">{}</text>"##,
            top + ph,
            top + ph + 5.0,
            top + ph + 18.0,
            x as i64
        );
        x += xstep;
    }
    let _ = writeln!(
        s,
        r##"<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>"##
    );
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        left + pw / 2.0,
        h - 12.0,
        xml_escape(xlabel)
    );
    let _ = writeln!(
        s,
        r#"<text transform="translate(18 {}) rotate(-90)" text-anchor="middle">{}</text>"#,
        top + ph / 2.0,
        xml_escape(ylabel)
    );
    for (k, ser) in series.iter().enumerate() {
        // split into polylines at missing points
        let mut segs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for &(x, y) in &ser.points {
            if y.is_finite() && y > 0.0 {
                segs.last_mut().expect("nonempty").push((sx(x), sy(y)));
            } else if !segs.last().expect("nonempty").is_empty() {
                segs.push(Vec::new());
            }
        }
        for seg in segs.iter().filter(|g| !g.is_empty()) {
            let pts: Vec<String> = seg.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
            let _ = writeln!(
                s,
                r#"<polyline fill="none" stroke="{}" stroke-width="1.8" stroke-dasharray="{}" points="{}"/>"#,
                ser.color,
                ser.dash,
                pts.join(" ")
            );
            for (x, y) in seg {
                let _ = writeln!(
                    s,
                    r#"<circle cx="{x:.1}" cy="{y:.1}" r="2" fill="{}"/>"#,
                    ser.color
                );
            }
        }
        let ly = top + 10.0 + 18.0 * k as f64;
        let lx = left + pw + 15.0;
        let _ = writeln!(
            s,
            r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{}" stroke-width="2" stroke-dasharray="{}"/><text x="{}" y="{}">{}</text>"#,
            lx + 28.0,
            ser.color,
            ser.dash,
            lx + 34.0,
            ly + 4.0,
            xml_escape(&ser.label)
        );
    }
    s.push_str("</svg>\n");
    s
}

fn xml_escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One column of a strip plot: a label and its values.
pub struct Strip {
    pub label: String,
    pub values: Vec<f64>,
}

/// Values per category on a log scale, one column of points per strip (jittered
/// deterministically), with dashed reference lines at `refs`. Values ≤ 1e-16 (and exact zeros)
/// are drawn at 1e-16; NaN (failed runs) are counted in the label.
pub fn log_strip_svg(title: &str, ylabel: &str, strips: &[Strip], refs: &[f64]) -> String {
    const FLOOR: f64 = 1e-16;
    let (w, h) = (900.0, 520.0);
    let (left, right, top, bottom) = (85.0, 30.0, 40.0, 70.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let shown = |v: f64| v.max(FLOOR);
    let logs: Vec<f64> = strips
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .filter(|v| v.is_finite())
        .map(|v| shown(v).log10())
        .chain(refs.iter().map(|r| r.log10()))
        .collect();
    let lo = logs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if lo.is_finite() {
        (lo.floor(), hi.ceil().max(lo.floor() + 1.0))
    } else {
        (-1.0, 1.0)
    };
    let sy = |v: f64| top + (hi - shown(v).log10()) / (hi - lo) * ph;
    let ncat = strips.len().max(1) as f64;
    let cx = |k: usize| left + (k as f64 + 0.5) * pw / ncat;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#,
        left + pw / 2.0,
        xml_escape(title)
    );
    let step = ((hi - lo) / 12.0).ceil().max(1.0);
    let mut d = lo;
    while d <= hi + 1e-9 {
        let y = top + (hi - d) / (hi - lo) * ph;
        let _ = writeln!(
            s,
            r##"<line x1="{left}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">1e{}</text>"##,
            left + pw,
            left - 6.0,
            y + 4.0,
            d as i64
        );
        d += step;
    }
    for &r in refs {
        let y = sy(r);
        let _ = writeln!(
            s,
            r##"<line x1="{left}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#c33" stroke-dasharray="5 4"/>"##,
            left + pw
        );
    }
    let _ = writeln!(
        s,
        r##"<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>"##
    );
    let _ = writeln!(
        s,
        r#"<text transform="translate(18 {}) rotate(-90)" text-anchor="middle">{}</text>"#,
        top + ph / 2.0,
        xml_escape(ylabel)
    );
    for (k, strip) in strips.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let half = 0.3 * pw / ncat;
        let n = strip.values.len().max(1) as f64;
        let mut failed = 0;
        for (i, &v) in strip.values.iter().enumerate() {
            if !v.is_finite() {
                failed += 1;
                continue;
            }
            // deterministic jitter: spread the points evenly across the column
            let x = cx(k) - half + 2.0 * half * (i as f64 + 0.5) / n;
            let _ = writeln!(
                s,
                r#"<circle cx="{x:.1}" cy="{:.1}" r="3" fill="{color}" fill-opacity="0.7"/>"#,
                sy(v)
            );
        }
        let label = if failed > 0 {
            format!("{} ({failed} failed)", strip.label)
        } else {
            strip.label.clone()
        };
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
            cx(k),
            top + ph + 20.0,
            xml_escape(&label)
        );
    }
    s.push_str("</svg>\n");
    s
}
