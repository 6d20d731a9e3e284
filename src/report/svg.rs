//! Every SVG cvxnn draws, dependency-free: a line plot with a log-scale y axis, and a log-scale
//! strip plot.

use std::fmt::Write as _;

/// Colours of successive runs or methods.
pub const PALETTE: [&str; 6] = [
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

/// A labelled vertical line (where one stage of a pipeline ends and the next begins).
pub struct Divider {
    pub x: f64,
    pub label: String,
}

/// Markers drawn per series at most: more merge into bands (1 000 recorded gradient iterations).
const MAX_MARKERS: usize = 40;

/// The plot area of a figure with a log-scale y axis spanning the decades `lo..hi` (exponents).
struct Canvas {
    w: f64,
    h: f64,
    left: f64,
    top: f64,
    pw: f64,
    ph: f64,
    lo: f64,
    hi: f64,
}

impl Canvas {
    /// A `w × h` figure with margins (left, right, top, bottom) whose y axis covers the decades
    /// of `logs` (log10 values; one decade around 1 when there are none).
    fn new(w: f64, h: f64, margins: [f64; 4], logs: impl Iterator<Item = f64>) -> Self {
        let [left, right, top, bottom] = margins;
        let (lo, hi) = logs
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            });
        let (lo, hi) = if lo.is_finite() {
            (lo.floor(), hi.ceil().max(lo.floor() + 1.0))
        } else {
            (-1.0, 1.0)
        };
        Self {
            w,
            h,
            left,
            top,
            pw: w - left - right,
            ph: h - top - bottom,
            lo,
            hi,
        }
    }

    /// The y coordinate of `log10 v`.
    fn y(&self, log: f64) -> f64 {
        self.top + (self.hi - log) / (self.hi - self.lo) * self.ph
    }

    /// The SVG header, a white background, the title, one grid line per decade.
    fn open(&self, title: &str) -> String {
        let (w, h, left, pw) = (self.w, self.h, self.left, self.pw);
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
        let step = ((self.hi - self.lo) / 12.0).ceil().max(1.0);
        let mut d = self.lo;
        while d <= self.hi + 1e-9 {
            let y = self.y(d);
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
        s
    }

    /// The frame of the plot area and the y axis label.
    fn frame(&self, s: &mut String, ylabel: &str) {
        let (left, top, pw, ph) = (self.left, self.top, self.pw, self.ph);
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
    }
}

/// A line plot with a log-scale y axis. Zeros (an exactly satisfied constraint) are drawn on the
/// bottom edge and the legend says so; other nonpositive or non-finite values are left out of a
/// line. The x axis spans the points (iteration 0 included).
pub fn log_plot_svg(
    title: &str,
    xlabel: &str,
    ylabel: &str,
    series: &[Series],
    dividers: &[Divider],
) -> String {
    let c = Canvas::new(
        960.0,
        560.0,
        [85.0, 360.0, 40.0, 50.0],
        series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter(|&&(_, y)| y > 0.0)
            .map(|&(_, y)| y.log10()),
    );
    let (h, left, top, pw, ph) = (c.h, c.left, c.top, c.pw, c.ph);
    let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let (xmin, xmax) = xs
        .chain(dividers.iter().map(|d| d.x))
        .filter(|x| x.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
    let (xmin, xmax) = if xmin.is_finite() {
        (xmin, xmax)
    } else {
        (0.0, 1.0)
    };
    let sx = |x: f64| {
        left + if xmax > xmin {
            (x - xmin) / (xmax - xmin) * pw
        } else {
            pw / 2.0
        }
    };
    // zeros sit on the bottom edge
    let sy = |y: f64| if y == 0.0 { top + ph } else { c.y(y.log10()) };
    let mut s = c.open(title);
    // x ticks at whole numbers
    let xstep = ((xmax - xmin) / 10.0).ceil().max(1.0);
    let mut x = xmin.ceil();
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
    c.frame(&mut s, ylabel);
    for dv in dividers {
        let px = sx(dv.x);
        let _ = writeln!(
            s,
            r##"<line x1="{px:.1}" y1="{top}" x2="{px:.1}" y2="{}" stroke="#555" stroke-dasharray="4 4"/><text x="{:.1}" y="{}" font-size="11">{}</text>"##,
            top + ph,
            px + 4.0,
            top + 14.0,
            xml_escape(&dv.label)
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        left + pw / 2.0,
        h - 12.0,
        xml_escape(xlabel)
    );
    for (k, ser) in series.iter().enumerate() {
        // split into polylines at missing points
        let mut segs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for &(x, y) in &ser.points {
            if y.is_finite() && y >= 0.0 {
                segs.last_mut().expect("nonempty").push((sx(x), sy(y)));
            } else if !segs.last().expect("nonempty").is_empty() {
                segs.push(Vec::new());
            }
        }
        let drawn: usize = segs.iter().map(Vec::len).sum();
        let every = drawn.div_ceil(MAX_MARKERS).max(1);
        let mut count = 0;
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
                if count % every == 0 {
                    let _ = writeln!(
                        s,
                        r#"<circle cx="{x:.1}" cy="{y:.1}" r="2" fill="{}"/>"#,
                        ser.color
                    );
                }
                count += 1;
            }
        }
        let zeros = ser.points.iter().any(|&(_, y)| y == 0.0);
        let label = if zeros {
            format!("{} (0 at the bottom)", ser.label)
        } else {
            ser.label.clone()
        };
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
            xml_escape(&label)
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

/// A labelled horizontal reference line of a strip plot.
pub struct Reference {
    pub value: f64,
    pub label: String,
}

/// Values per category on a log scale, one column of points per strip (jittered
/// deterministically), with labelled dashed reference lines at `refs`. Values ≤ 1e-16 (and exact
/// zeros) are drawn at 1e-16; NaN (failed runs) are counted in the label.
pub fn log_strip_svg(title: &str, ylabel: &str, strips: &[Strip], refs: &[Reference]) -> String {
    const FLOOR: f64 = 1e-16;
    let shown = |v: f64| v.max(FLOOR);
    let c = Canvas::new(
        900.0,
        520.0,
        [85.0, 30.0, 40.0, 70.0],
        strips
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .filter(|v| v.is_finite())
            .map(|v| shown(v).log10())
            .chain(refs.iter().map(|r| r.value.log10())),
    );
    let (left, top, pw, ph) = (c.left, c.top, c.pw, c.ph);
    let sy = |v: f64| c.y(shown(v).log10());
    let ncat = strips.len().max(1) as f64;
    let cx = |k: usize| left + (k as f64 + 0.5) * pw / ncat;
    let mut s = c.open(title);
    for r in refs {
        let y = sy(r.value);
        let _ = writeln!(
            s,
            r##"<line x1="{left}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#c33" stroke-dasharray="5 4"/><text x="{}" y="{:.1}" text-anchor="end" fill="#c33" font-size="11">{}</text>"##,
            left + pw,
            left + pw - 4.0,
            y - 4.0,
            xml_escape(&r.label)
        );
    }
    c.frame(&mut s, ylabel);
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
