//! Progress on stderr: a bar redrawn in place on a terminal; otherwise (a log file, a pipe, a
//! batch job) one line every few seconds. Lines fit 80 columns.

use cvxnn::train::{Event, Observer, Stop};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Seconds between two lines when stderr is not a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(5);
/// Width of every progress line.
const WIDTH: usize = 80;

/// Cuts `s` to `n` characters.
fn fit(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Where progress goes: a bar, or plain lines.
enum Sink {
    Bar(ProgressBar),
    Plain { last: Option<Instant> },
}

impl Sink {
    fn new() -> Self {
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("[{elapsed_precise}] {msg}").expect("valid template"),
            );
            // keep the clock moving while one long iteration runs
            bar.enable_steady_tick(Duration::from_millis(500));
            Sink::Bar(bar)
        } else {
            Sink::Plain { last: None }
        }
    }

    /// Shows `line` (the bar at once; plain lines at the first call and then every few seconds).
    fn show(&mut self, seconds: f64, line: &str) {
        match self {
            Sink::Bar(bar) => bar.set_message(fit(line, WIDTH - 11)),
            Sink::Plain { last } => {
                if last.is_none_or(|t| t.elapsed() >= PLAIN_EVERY) {
                    *last = Some(Instant::now());
                    eprintln!("{}", fit(&format!("[{seconds:>8.1} s] {line}"), WIDTH));
                }
            }
        }
    }

    fn finish(&self) {
        if let Sink::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// The observer of a training run: `scr 12/50  out 4.7e-2  prod 1.2e-6  comp 7.8e-3`.
pub struct Progress {
    sink: Sink,
    /// Prefix of every line (the start's label, when a command runs several).
    label: String,
}

impl Progress {
    pub fn new(label: &str) -> Self {
        Self {
            sink: Sink::new(),
            label: label.to_string(),
        }
    }

    /// Clears the bar.
    pub fn finish(self) {
        self.sink.finish();
    }
}

impl Observer for Progress {
    fn observe(&mut self, e: &Event<'_>) -> Option<Stop> {
        let at = match e.max_iter {
            Some(m) => format!("{}/{m}", e.iteration),
            None => e.iteration.to_string(),
        };
        let out = if e.output_error.is_nan() {
            String::new()
        } else {
            format!("  out {:.1e}", e.output_error)
        };
        let line = format!("{}{} {at}{out}  {}", self.label, e.method, e.detail);
        self.sink.show(e.seconds, &line);
        None
    }
}

/// Progress of a batch of runs: `compare: 12/40 runs`.
pub struct Counter {
    sink: std::sync::Mutex<Sink>,
    started: Instant,
}

impl Counter {
    pub fn new() -> Self {
        Self {
            sink: std::sync::Mutex::new(Sink::new()),
            started: Instant::now(),
        }
    }

    /// `done` of `total` runs finished.
    pub fn done(&self, done: usize, total: usize) {
        if let Ok(mut s) = self.sink.lock() {
            let t = self.started.elapsed().as_secs_f64();
            s.show(t, &format!("compare: {done}/{total} runs"));
        }
    }

    pub fn finish(self) {
        if let Ok(s) = self.sink.into_inner() {
            s.finish();
        }
    }
}
