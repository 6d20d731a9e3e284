//! `cvxnn compare`: several methods on the same problems (a data set, or K seeded teachers) from
//! several random starts each; one row per run, a summary per method, and a plot.

use crate::error::{Error, Result};
use crate::gradient::{self, GradSettings, InitScheme};
use crate::linalg::Matrix;
use crate::net::{Architecture, Mlp};
use crate::report::{log_strip_svg, Strip};
use crate::scr::{self, Init, ScrProblem, ScrSettings, SubproblemSolver};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// What one method of a comparison runs.
#[derive(Clone, Debug)]
pub enum MethodSpec {
    /// SCR from a random start (ADMM backend).
    Scr(ScrSettings),
    /// A gradient method from a seeded random network.
    Grad(GradSettings),
    /// SCR from a random start, then the gradient method from SCR's network.
    ScrThen(ScrSettings, GradSettings),
}

/// A named method.
#[derive(Clone, Debug)]
pub struct Method {
    pub name: String,
    pub spec: MethodSpec,
}

/// One training problem.
pub struct Problem {
    /// `teacher seed 3`, or the data file.
    pub name: String,
    pub teacher_seed: Option<u64>,
    pub x: Matrix,
    pub y: Matrix,
}

/// One run: a method on a problem from one start.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CompareRow {
    pub method: String,
    pub problem: String,
    pub teacher_seed: Option<u64>,
    /// Index of the start (0-based) and the seed of its first attempt.
    pub start: usize,
    pub init_seed: u64,
    /// Attempts made for this row, and which one (0-based) gave the reported network.
    pub restarts: usize,
    pub best_restart: Option<usize>,
    /// Final mean squared error and relative output error `‖f(X) − Y‖_F / ‖Y‖_F`.
    pub loss: f64,
    pub output_error: f64,
    pub seconds: f64,
    /// Iterations of the last stage (SCR iterations, or the gradient method's).
    pub iterations: usize,
    /// Why the last stage stopped.
    pub stop: String,
    /// The error message if the run failed (then loss and output error are NaN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// For one hidden layer and one linear output (the MILP's networks): the sum of absolute
    /// errors, and the smallest weight bound B whose class holds the network
    /// ([`crate::milp::relu::class_bound`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l1_loss: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_bound: Option<f64>,
}

/// A method's figures over all its runs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MethodSummary {
    pub method: String,
    pub runs: usize,
    /// Runs with output error below 1e-6 and below 1e-2.
    pub exact: usize,
    pub close: usize,
    pub failed: usize,
    pub median_loss: f64,
    pub median_output_error: f64,
    pub median_seconds: f64,
}

/// The seed of start `s` on problem `p` (distinct for every pair, independent of the method, so
/// that every method gets the same seeds).
pub fn init_seed(base: u64, problem: usize, start: usize) -> u64 {
    base.wrapping_mul(1_000_003)
        .wrapping_add(problem as u64 * 1_000)
        .wrapping_add(start as u64)
}

/// The serde name of a stop reason (`iteration_limit`, …), for tables.
pub fn stop_name<T: Serialize>(s: &T) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Makes a fresh SCR subproblem solver for each run.
pub type BackendFactory<'a> = &'a (dyn Fn() -> Result<Box<dyn SubproblemSolver>> + Sync);

/// Where SCR starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScrStart {
    /// Gaussian N(0, 1) parameters (`Init::Random`).
    Params,
    /// Minus the lifted point of a He-initialised network (the gradient methods' start).
    Network,
    /// Restart r: `params` for even r, `network` for odd r.
    Alternate,
}

/// How each run is made: best of `restarts` attempts (by final loss), SCR's start.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct RunPlan {
    pub restarts: usize,
    pub scr_start: ScrStart,
}

impl Default for RunPlan {
    fn default() -> Self {
        Self {
            restarts: 1,
            scr_start: ScrStart::Params,
        }
    }
}

/// One attempt: the trained network, the last stage's iterations and stop reason.
fn attempt(
    backend: BackendFactory,
    arch: &Architecture,
    spec: &MethodSpec,
    problem: &Problem,
    seed: u64,
    network_start: bool,
) -> Result<(Mlp, usize, String)> {
    let (ss, then) = match spec {
        MethodSpec::Grad(gs) => {
            let m0 = gradient::init_model(arch, InitScheme::He, seed);
            let run = gradient::train(&problem.x, &problem.y, &m0, gs, &mut |_| {})?;
            let stop = stop_name(&run.summary.stop_reason);
            return Ok((run.model, run.summary.iterations, stop));
        }
        MethodSpec::Scr(ss) => (ss, None),
        MethodSpec::ScrThen(ss, gs) => (ss, Some(gs)),
    };
    let p = ScrProblem::new(&problem.x, &problem.y, arch)?;
    let mut backend = backend()?;
    let init = if network_start {
        Init::Model {
            model: gradient::init_model(arch, InitScheme::He, seed),
            label: "network".into(),
            detail: format!("He initialisation, seed {seed}"),
        }
    } else {
        Init::Random { seed }
    };
    let run = scr::run(&p, &init, ss, backend.as_mut(), &mut |_| {})?;
    if run.summary.stop_reason == scr::StopReason::SolverFailed {
        return Err(Error::Solver("the SCR subproblem solver failed".into()));
    }
    let Some(gs) = then else {
        let stop = stop_name(&run.summary.stop_reason);
        return Ok((run.model, run.summary.iterations, stop));
    };
    let g = gradient::train(&problem.x, &problem.y, &run.model, gs, &mut |_| {})?;
    let stop = stop_name(&g.summary.stop_reason);
    Ok((g.model, g.summary.iterations, stop))
}

/// The L1 loss and class bound of a d-K-1 network with a linear output (`None` otherwise).
fn l1_and_class(m: &Mlp, problem: &Problem) -> Option<(f64, f64)> {
    let b = crate::milp::relu::class_bound(m).ok()?;
    let yhat = m.forward(&problem.x).ok()?;
    let l1 = crate::milp::relu::Loss::L1.value(yhat.as_slice(), problem.y.as_slice());
    Some((l1, b))
}

/// Runs `method` on `problem` from start `start`: the best (lowest final loss) of
/// `plan.restarts` attempts, attempt r seeded by `init_seed(base, problem_index, start·R + r)`.
/// An attempt that fails is skipped; the row reports an error only if all fail.
#[allow(clippy::too_many_arguments)]
pub fn run_one(
    backend: BackendFactory,
    arch: &Architecture,
    method: &Method,
    problem: &Problem,
    problem_index: usize,
    start: usize,
    base_seed: u64,
    plan: RunPlan,
) -> CompareRow {
    let t0 = Instant::now();
    let restarts = plan.restarts.max(1);
    let first_seed = init_seed(base_seed, problem_index, start * restarts);
    // (mse, output error, iterations, stop, restart, (L1 loss, class bound))
    type Scored = (f64, f64, usize, String, usize, Option<(f64, f64)>);
    let mut best: Option<Scored> = None;
    let mut last_error = None;
    for r in 0..restarts {
        let seed = init_seed(base_seed, problem_index, start * restarts + r);
        let network = match plan.scr_start {
            ScrStart::Params => false,
            ScrStart::Network => true,
            ScrStart::Alternate => r % 2 == 1,
        };
        let scored = attempt(backend, arch, &method.spec, problem, seed, network).and_then(
            |(m, it, stop)| {
                Ok((
                    m.mse(&problem.x, &problem.y)?,
                    m.relative_error(&problem.x, &problem.y)?,
                    it,
                    stop,
                    l1_and_class(&m, problem),
                ))
            },
        );
        match scored {
            Ok((loss, out, it, stop, l1)) => {
                if best.as_ref().is_none_or(|b| loss < b.0) {
                    best = Some((loss, out, it, stop, r, l1));
                }
            }
            Err(e) => last_error = Some(e.to_string()),
        }
    }
    let base = CompareRow {
        method: method.name.clone(),
        problem: problem.name.clone(),
        teacher_seed: problem.teacher_seed,
        start,
        init_seed: first_seed,
        restarts,
        best_restart: None,
        loss: f64::NAN,
        output_error: f64::NAN,
        seconds: t0.elapsed().as_secs_f64(),
        iterations: 0,
        stop: String::new(),
        error: None,
        l1_loss: None,
        class_bound: None,
    };
    match best {
        Some((loss, output_error, iterations, stop, r, l1)) => CompareRow {
            loss,
            output_error,
            iterations,
            stop,
            best_restart: Some(r),
            l1_loss: l1.map(|v| v.0),
            class_bound: l1.map(|v| v.1),
            ..base
        },
        None => CompareRow {
            error: last_error,
            stop: "error".into(),
            ..base
        },
    }
}

/// Every method on every problem from `starts` starts, on `jobs` threads. The rows come back in
/// a fixed order (problem, start, method) whatever the thread count; `progress` is called after
/// each run with the number done and the total.
#[allow(clippy::too_many_arguments)]
pub fn run_all(
    backend: BackendFactory,
    arch: &Architecture,
    methods: &[Method],
    problems: &[Problem],
    starts: usize,
    seed: u64,
    plan: RunPlan,
    jobs: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<CompareRow>> {
    if methods.is_empty() || problems.is_empty() || starts == 0 {
        return Err(Error::InvalidArgument(
            "a comparison needs at least one method, one problem and one start".into(),
        ));
    }
    let mut tasks = Vec::new();
    for (pi, _) in problems.iter().enumerate() {
        for s in 0..starts {
            for (mi, _) in methods.iter().enumerate() {
                tasks.push((pi, s, mi));
            }
        }
    }
    let total = tasks.len();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<Option<CompareRow>>> =
        (0..total).map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|sc| {
        for _ in 0..jobs.clamp(1, total) {
            sc.spawn(|| loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if k >= total {
                    break;
                }
                let (pi, s, mi) = tasks[k];
                let row = run_one(
                    backend,
                    arch,
                    &methods[mi],
                    &problems[pi],
                    pi,
                    s,
                    seed,
                    plan,
                );
                *slots[k].lock().expect("no poisoned slot") = Some(row);
                let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                progress(d, total);
            });
        }
    });
    Ok(slots
        .into_iter()
        .map(|m| {
            m.into_inner()
                .expect("no poisoned slot")
                .expect("every task ran")
        })
        .collect())
}

/// The median of the non-NaN values (NaN if there are none).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| !x.is_nan());
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// The per-method summary, in the order of `methods`.
pub fn summarize(methods: &[Method], rows: &[CompareRow]) -> Vec<MethodSummary> {
    methods
        .iter()
        .map(|m| {
            let r: Vec<&CompareRow> = rows.iter().filter(|r| r.method == m.name).collect();
            let count = |tol: f64| r.iter().filter(|r| r.output_error < tol).count();
            MethodSummary {
                method: m.name.clone(),
                runs: r.len(),
                exact: count(1e-6),
                close: count(1e-2),
                failed: r.iter().filter(|r| r.error.is_some()).count(),
                median_loss: median(r.iter().map(|r| r.loss).collect()),
                median_output_error: median(r.iter().map(|r| r.output_error).collect()),
                median_seconds: median(r.iter().map(|r| r.seconds).collect()),
            }
        })
        .collect()
}

/// The final output error of every run, one strip per method, log scale.
pub fn plot(title: &str, methods: &[Method], rows: &[CompareRow]) -> String {
    let strips: Vec<Strip> = methods
        .iter()
        .map(|m| Strip {
            label: m.name.clone(),
            values: rows
                .iter()
                .filter(|r| r.method == m.name)
                .map(|r| r.output_error)
                .collect(),
        })
        .collect();
    log_strip_svg(
        title,
        "final relative output error (log scale)",
        &strips,
        &[1e-6, 1e-2],
    )
}
