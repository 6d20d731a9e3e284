//! Progress on stderr: a status line redrawn in place on a terminal; otherwise (a log file, a
//! pipe, a batch job) one line every few seconds, also while one long iteration runs. Lines fit
//! 80 columns.

use cvxnn::train::{Event, Observer, Stop};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Time between two lines when stderr is not a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(5);
/// Iterations closer together than this are not formatted: a gradient step can take 2 µs, and
/// formatting every one made a 50 000-step Adam run on the 3-3-2 teacher about 1.5× slower.
const REDRAW_EVERY: Duration = Duration::from_millis(100);
/// Width of every progress line.
const WIDTH: usize = 80;

/// Cuts `s` to `n` characters.
fn fit(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// What the plain printer knows: the latest line and when it last printed.
struct Latest {
    started: Instant,
    line: Option<String>,
    printed: Option<Instant>,
}

impl Latest {
    fn print(&mut self, line: &str, suffix: &str) {
        let t = self.started.elapsed().as_secs_f64();
        eprintln!("{}", fit(&format!("[{t:>8.1} s] {line}{suffix}"), WIDTH));
        self.printed = Some(Instant::now());
    }
}

/// Where progress goes: a redrawn line, or plain lines with a heartbeat thread that repeats the
/// latest one while nothing new arrives.
enum Sink {
    Bar(ProgressBar),
    Plain {
        latest: Arc<Mutex<Latest>>,
        stop: Arc<AtomicBool>,
        ticker: Option<JoinHandle<()>>,
    },
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
            return Sink::Bar(bar);
        }
        let latest = Arc::new(Mutex::new(Latest {
            started: Instant::now(),
            line: None,
            printed: None,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (l, s) = (latest.clone(), stop.clone());
        let ticker = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                let Ok(mut l) = l.lock() else { return };
                let due = match l.printed {
                    Some(t) => t.elapsed() >= PLAIN_EVERY,
                    None => l.started.elapsed() >= PLAIN_EVERY,
                };
                if due {
                    match l.line.clone() {
                        Some(line) => l.print(&line, "  (next iteration running)"),
                        None => l.print("first iteration running", ""),
                    }
                }
            }
        });
        Sink::Plain {
            latest,
            stop,
            ticker: Some(ticker),
        }
    }

    /// Shows `line`: the bar at once; a plain line at once when none was printed for a while.
    fn show(&self, line: &str) {
        match self {
            Sink::Bar(bar) => bar.set_message(fit(line, WIDTH - 11)),
            Sink::Plain { latest, .. } => {
                if let Ok(mut l) = latest.lock() {
                    l.line = Some(line.to_string());
                    if l.printed.is_none_or(|t| t.elapsed() >= PLAIN_EVERY) {
                        l.print(line, "");
                    }
                }
            }
        }
    }

    fn finish(&mut self) {
        match self {
            Sink::Bar(bar) => bar.finish_and_clear(),
            Sink::Plain { stop, ticker, .. } => {
                stop.store(true, Ordering::Relaxed);
                if let Some(t) = ticker.take() {
                    let _ = t.join();
                }
            }
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The observer of a training run: `scr 12/50  out 4.7e-2  prod 1.2e-6  comp 7.8e-3`.
pub struct Progress {
    sink: Sink,
    /// Prefix of every line (the start's label, when a command runs several).
    label: String,
    /// When the last line was formatted.
    shown: Option<Instant>,
}

impl Progress {
    pub fn new(label: &str) -> Self {
        Self {
            sink: Sink::new(),
            label: label.to_string(),
            shown: None,
        }
    }

    /// Clears the line (or stops the heartbeat).
    pub fn finish(mut self) {
        self.sink.finish();
    }
}

impl Observer for Progress {
    fn observe(&mut self, e: &Event<'_>) -> Option<Stop> {
        if self.shown.is_some_and(|t| t.elapsed() < REDRAW_EVERY) {
            return None;
        }
        self.shown = Some(Instant::now());
        let at = match e.max_iter {
            Some(m) => format!("{}/{m}", e.iteration),
            None => e.iteration.to_string(),
        };
        let out = if e.output_error.is_nan() {
            String::new()
        } else {
            format!("  out {:.1e}", e.output_error)
        };
        self.sink.show(&format!(
            "{}{} {at}{out}  {}",
            self.label, e.method, e.detail
        ));
        None
    }
}

/// Progress of a batch of runs: `compare: 12/40 runs`.
pub struct Counter {
    sink: Sink,
}

impl Counter {
    pub fn new() -> Self {
        Self { sink: Sink::new() }
    }

    /// `done` of `total` runs finished.
    pub fn done(&self, done: usize, total: usize) {
        self.sink.show(&format!("compare: {done}/{total} runs"));
    }

    pub fn finish(mut self) {
        self.sink.finish();
    }
}
