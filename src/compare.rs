//! `compare`: several methods of the table on the same problems (a data set, or K seeded
//! teachers) from the same seeded starts; one row per (problem, start, method), a summary per
//! method, optionally every problem's certified optimum, and a plot. Every run goes through the
//! one training interface ([`crate::methods::run`]).

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::global::{dual::BoundStatus, BoundSettings, OutputBias, Units};
use crate::methods::{
    self, Certificate, ConvexCertificate, Method, MilpFormulation, MilpGroup, MilpLoss, Settings,
    Trainer,
};
use crate::milp::MilpCertificate;
use crate::net::{Architecture, Mlp};
use crate::report::svg::{log_strip_svg, Reference, Strip};
use crate::report::Stamp;
use crate::train::{InitScheme, Limits, Problem, Quiet, Start, Stop};
use serde::{Deserialize, Serialize, Serializer};
use std::sync::Arc;
use std::time::Instant;

/// One training problem of a comparison.
pub struct Case {
    /// `teacher seed 3`, or the data file.
    pub name: String,
    pub teacher_seed: Option<u64>,
    pub data: Dataset,
}

/// A method of the table with its settings.
pub struct Entry {
    pub method: &'static Method,
    pub trainer: Box<dyn Trainer>,
}

impl Entry {
    pub fn name(&self) -> &str {
        self.method.name
    }
}

/// Where SCR starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScrStart {
    /// Gaussian N(0, 1) parameters (the seed's random start).
    Params,
    /// Minus the lifted point of a random network (of `--init-scheme`, He by default: the
    /// gradient methods' start).
    Network,
    /// Restart r: `params` for even r, `network` for odd r.
    Alternate,
}

impl ScrStart {
    /// Every value with a line of help.
    pub const CHOICES: &[(&str, &str)] = &[
        ("params", "Gaussian N(0, 1) parameters"),
        (
            "network",
            "Minus the lifted point of a random network (the start scheme, default he)",
        ),
        ("alternate", "Even attempts params, odd attempts network"),
    ];
}

/// How each row is made.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    /// Starts per problem; every method gets the same start seeds.
    pub starts: usize,
    /// Attempts per start: the row reports the best (lowest final loss).
    pub restarts: usize,
    /// Base of the start seeds.
    pub seed: u64,
    /// The random starts' scheme for every method (`None`: each method's own).
    pub init_scheme: Option<InitScheme>,
    /// SCR-family methods' start (`None`: `init_scheme`, or Gaussian parameters).
    pub scr_start: Option<ScrStart>,
    /// Seconds per run (each attempt).
    pub time_limit: Option<f64>,
    /// β: every row's network is also scored on the weight-decay objective
    /// ([`Mlp::weight_decay_objective`]).
    pub weight_decay: Option<f64>,
    #[serde(skip)]
    pub interrupt: Option<crate::train::Interrupt>,
}

impl Default for Plan {
    fn default() -> Self {
        Self {
            starts: 1,
            restarts: 1,
            seed: 1,
            init_scheme: None,
            scr_start: None,
            time_limit: None,
            weight_decay: None,
            interrupt: None,
        }
    }
}

impl Plan {
    /// The random start's scheme of `method` in attempt `r`.
    pub fn scheme(&self, method: &Method, r: usize) -> InitScheme {
        let own = self.init_scheme.unwrap_or(method.default_scheme);
        if !method.reads("scr") {
            return own;
        }
        let network = self.init_scheme.unwrap_or(InitScheme::He);
        match self.scr_start {
            None => own,
            Some(ScrStart::Params) => InitScheme::Gaussian,
            Some(ScrStart::Network) => network,
            Some(ScrStart::Alternate) if r.is_multiple_of(2) => InitScheme::Gaussian,
            Some(ScrStart::Alternate) => network,
        }
    }

    fn limits(&self) -> Limits {
        Limits {
            time_limit: self.time_limit,
            interrupt: self.interrupt.clone(),
        }
    }
}

/// One run: a method on a problem from one start.
#[derive(Clone, Debug, Serialize)]
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
    /// Iterations of all stages of the best attempt.
    pub iterations: usize,
    /// Why the best attempt stopped.
    pub stop: String,
    /// The error message if every attempt failed (then loss and output error are NaN).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// For one hidden layer and one linear output (the MILP's networks): the sum of absolute
    /// errors, and the smallest weight bound B whose class holds the network
    /// ([`crate::milp::relu::class_bound`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub l1_loss: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_bound: Option<f64>,
    /// The weight-decay objective of the network (with [`Plan::weight_decay`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objective: Option<f64>,
    /// What the best attempt proves (exact training, the convex model).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "tagged_certificate"
    )]
    pub certificate: Option<Arc<dyn Certificate>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The best attempt's ReLU network: what a global bound is certified from.
    #[serde(skip)]
    pub network: Option<Arc<Mlp>>,
}

/// A certificate as `{"kind": …, its fields}`, as in a run's record.
fn tagged_certificate<S: Serializer>(
    c: &Option<Arc<dyn Certificate>>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    methods::tagged_certificate(c, s)
}

impl CompareRow {
    /// The certificate as the method's own type, if it is `T`.
    pub fn certificate_as<T: Certificate>(&self) -> Option<&T> {
        let any: &dyn std::any::Any = self.certificate.as_deref()?;
        any.downcast_ref::<T>()
    }
}

/// A method's figures over all its runs.
#[derive(Clone, Debug, Serialize)]
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

/// The L1 loss and class bound of a d-K-1 network with a linear output (`None` otherwise).
fn l1_and_class(m: &Mlp, data: &Dataset) -> Option<(f64, f64)> {
    let b = crate::milp::relu::class_bound(m).ok()?;
    let yhat = m.forward(&data.x).ok()?;
    let l1 = crate::milp::ErrorMeasure::L1.value(yhat.as_slice(), data.y.as_slice());
    Some((l1, b))
}

/// One task of a comparison: the best of `plan.restarts` attempts of `entry` on case `pi` (its
/// index among the problems) from start `s`. Its seeds depend only on `(plan.seed, pi, s)`, so the
/// row is the same whichever thread or machine runs it ([`run_all`] runs them all here).
pub fn run_task(
    arch: &Architecture,
    entry: &Entry,
    case: &Case,
    pi: usize,
    s: usize,
    plan: &Plan,
) -> CompareRow {
    let t0 = Instant::now();
    let restarts = plan.restarts.max(1);
    let mut best: Option<(methods::Run, usize)> = None;
    let mut last_error = None;
    for r in 0..restarts {
        let seed = init_seed(plan.seed, pi, s * restarts + r);
        let start = Start::Random {
            scheme: plan.scheme(entry.method, r),
            seed,
        };
        let attempt = Problem::new(&case.data, arch).and_then(|p| {
            methods::run(
                entry.trainer.as_ref(),
                &p,
                &start,
                &mut Quiet,
                &plan.limits(),
            )
        });
        match attempt {
            Ok(run) if run.outcome.stop_reason == Stop::SolverFailed => {
                last_error = Some("the SCR subproblem solver failed".to_string())
            }
            Ok(run) if run.model.is_none() => {
                last_error = Some(format!("no network ({})", run.outcome.stop_reason))
            }
            Ok(run) => {
                if best
                    .as_ref()
                    .is_none_or(|(b, _)| run.outcome.loss < b.outcome.loss)
                {
                    best = Some((run, r));
                }
            }
            Err(e) => last_error = Some(e.to_string()),
        }
        if plan.interrupt.as_ref().is_some_and(|i| i.is_triggered()) {
            break;
        }
    }
    let mut row = CompareRow {
        method: entry.name().to_string(),
        problem: case.name.clone(),
        teacher_seed: case.teacher_seed,
        start: s,
        init_seed: init_seed(plan.seed, pi, s * restarts),
        restarts,
        best_restart: None,
        loss: f64::NAN,
        output_error: f64::NAN,
        seconds: t0.elapsed().as_secs_f64(),
        iterations: 0,
        stop: "error".into(),
        error: last_error,
        l1_loss: None,
        class_bound: None,
        objective: None,
        certificate: None,
        warnings: Vec::new(),
        network: None,
    };
    if let Some((run, r)) = best {
        let l1 = run.mlp().ok().and_then(|m| l1_and_class(m, &case.data));
        row.best_restart = Some(r);
        row.loss = run.outcome.loss;
        row.output_error = run.outcome.output_error;
        row.iterations = run.outcome.iterations;
        row.stop = run.outcome.stop_reason.name().into();
        row.error = None;
        row.l1_loss = l1.map(|v| v.0);
        row.class_bound = l1.map(|v| v.1);
        row.objective = plan.weight_decay.and_then(|beta| {
            run.mlp().ok().and_then(|m| {
                m.weight_decay_objective(&case.data.x, &case.data.y, beta)
                    .ok()
            })
        });
        row.network = run.mlp().ok().map(|m| Arc::new(m.clone()));
        row.certificate = run.certificate;
        row.warnings = run.warnings;
    }
    row
}

/// Every method on every case from `plan.starts` starts, on `jobs` threads. The rows come back in
/// a fixed order (case, start, method) whatever the thread count; `progress` is called after each
/// run with the number done and the total. After an interrupt the runs in flight stop at their
/// next iteration and no new run starts: only the rows of started runs are returned.
pub fn run_all(
    arch: &Architecture,
    entries: &[Entry],
    cases: &[Case],
    plan: &Plan,
    jobs: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<CompareRow>> {
    if entries.is_empty() || cases.is_empty() || plan.starts == 0 || plan.restarts == 0 {
        return Err(Error::InvalidArgument(
            "a comparison needs at least one method, one problem, one start and one attempt".into(),
        ));
    }
    plan.limits().validate()?;
    for case in cases {
        let p = Problem::new(&case.data, arch)?;
        for e in entries {
            e.trainer.check(&p)?;
        }
    }
    let mut tasks = Vec::new();
    for pi in 0..cases.len() {
        for s in 0..plan.starts {
            for mi in 0..entries.len() {
                tasks.push((pi, s, mi));
            }
        }
    }
    let total = tasks.len();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<Option<CompareRow>>> =
        (0..total).map(|_| std::sync::Mutex::new(None)).collect();
    let interrupted = || plan.interrupt.as_ref().is_some_and(|i| i.is_triggered());
    std::thread::scope(|sc| {
        for _ in 0..jobs.clamp(1, total) {
            sc.spawn(|| loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if k >= total || interrupted() {
                    break;
                }
                let (pi, s, mi) = tasks[k];
                let row = run_task(arch, &entries[mi], &cases[pi], pi, s, plan);
                *slots[k].lock().expect("no poisoned slot") = Some(row);
                let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                progress(d, total);
            });
        }
    });
    Ok(slots
        .into_iter()
        .filter_map(|m| m.into_inner().expect("no poisoned slot"))
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

/// The per-method summary, in the order of `names`.
pub fn summarize(names: &[&str], rows: &[CompareRow]) -> Vec<MethodSummary> {
    names
        .iter()
        .map(|&m| {
            let r: Vec<&CompareRow> = rows.iter().filter(|r| r.method == m).collect();
            let count = |tol: f64| r.iter().filter(|r| r.output_error < tol).count();
            MethodSummary {
                method: m.to_string(),
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

/// The final output error of every run, one strip per method, log scale, with the success
/// thresholds drawn and labelled.
pub fn plot(title: &str, names: &[&str], rows: &[CompareRow]) -> String {
    let strips: Vec<Strip> = names
        .iter()
        .map(|&m| Strip {
            label: m.to_string(),
            values: rows
                .iter()
                .filter(|r| r.method == m)
                .map(|r| r.output_error)
                .collect(),
        })
        .collect();
    let refs = [
        Reference {
            value: 1e-6,
            label: "1e-6: exact".into(),
        },
        Reference {
            value: 1e-2,
            label: "1e-2: close".into(),
        },
    ];
    log_strip_svg(
        title,
        "final relative output error (log scale)",
        &strips,
        &refs,
    )
}

/// One problem's certified L1 optimum over the MILP's class.
#[derive(Clone, Debug, Serialize)]
pub struct ProblemOptimum {
    pub problem: String,
    pub status: crate::milp::MilpStatus,
    pub certified: bool,
    pub incumbent: Option<f64>,
    pub lower_bound: Option<f64>,
    pub abs_gap: Option<f64>,
    pub seconds: f64,
}

/// One method's runs against the certified optima.
#[derive(Clone, Debug, Serialize)]
pub struct AgainstOptimum {
    pub method: String,
    pub runs: usize,
    /// Runs whose network lies in the class.
    pub in_class: usize,
    /// In-class runs whose L1 loss reaches the bound.
    pub at_optimum: usize,
    pub median_l1_minus_bound: Option<f64>,
}

/// `--global-optimum`: every problem trained exactly (MILP, L1, no start) and every run's L1
/// loss set against the bound.
#[derive(Clone, Debug, Serialize)]
pub struct GlobalOptimum {
    pub loss: String,
    pub weight_bound: f64,
    pub time_limit: f64,
    pub problems: Vec<ProblemOptimum>,
    pub methods: Vec<AgainstOptimum>,
}

/// The MILP of `global_optimum`: the ReLU class with bound `weight_bound`, L1 loss.
pub fn optimum_trainer(weight_bound: f64, time_limit: f64, seed: u64) -> methods::Milp {
    methods::Milp {
        group: MilpGroup {
            formulation: MilpFormulation::Relu,
            weight_bound,
            loss: MilpLoss::L1,
            time_limit,
            seed: Some(seed),
            ..Default::default()
        },
    }
}

/// A finished comparison's problems and rows: what its optima are set against.
#[derive(Clone, Copy)]
pub struct Finished<'a> {
    pub arch: &'a Architecture,
    pub cases: &'a [Case],
    /// The methods, in the rows' order.
    pub names: &'a [&'a str],
    pub rows: &'a [CompareRow],
}

/// The certified L1 optimum of each case over the networks with
/// `|v_k|·max(‖w_k‖_∞, |b_k|) ≤ weight_bound`, and how each method's in-class runs stand against
/// it. `report` sees each problem's optimum as it is certified.
pub fn global_optimum(
    done: &Finished,
    trainer: &methods::Milp,
    limits: &Limits,
    report: &mut dyn FnMut(&ProblemOptimum),
) -> Result<GlobalOptimum> {
    let (arch, names, rows) = (done.arch, done.names, done.rows);
    let bound = trainer.group.weight_bound;
    let mut optima = Vec::new();
    for case in done.cases {
        let p = Problem::new(&case.data, arch)?;
        let run = methods::run(trainer, &p, &Start::Zero, &mut Quiet, limits)?;
        let Some(c) = run.certificate_as::<MilpCertificate>() else {
            return Err(Error::Solver("exact training gave no certificate".into()));
        };
        let o = ProblemOptimum {
            problem: case.name.clone(),
            status: c.status,
            certified: c.certified,
            incumbent: c.incumbent,
            lower_bound: c.lower_bound,
            abs_gap: c.abs_gap,
            seconds: c.seconds,
        };
        report(&o);
        optima.push(o);
    }
    let mut per_method = Vec::new();
    for &m in names {
        let mine: Vec<&CompareRow> = rows.iter().filter(|r| r.method == m).collect();
        let mut excess = Vec::new();
        let (mut in_class, mut at_opt) = (0, 0);
        for r in &mine {
            let (Some(l1), Some(cb)) = (r.l1_loss, r.class_bound) else {
                continue;
            };
            let Some(lb) = optima
                .iter()
                .find(|o| o.problem == r.problem)
                .and_then(|o| o.lower_bound)
            else {
                continue;
            };
            if cb > bound {
                continue;
            }
            in_class += 1;
            let gap = l1 - lb;
            if gap < -1e-6 * (1.0 + l1) {
                return Err(Error::Numerical(format!(
                    "{m} on {} has L1 loss {l1} below the MILP's certified bound {lb}: a bug, \
                     please report it",
                    r.problem
                )));
            }
            if gap <= 1e-6 * (1.0 + lb) {
                at_opt += 1;
            }
            excess.push(gap);
        }
        let med = median(excess);
        per_method.push(AgainstOptimum {
            method: m.to_string(),
            runs: mine.len(),
            in_class,
            at_optimum: at_opt,
            median_l1_minus_bound: med.is_finite().then_some(med),
        });
    }
    Ok(GlobalOptimum {
        loss: "l1".into(),
        weight_bound: bound,
        time_limit: limits.time_limit.unwrap_or(trainer.group.time_limit),
        problems: optima,
        methods: per_method,
    })
}

/// One problem's convex optimum (docs/convex.md): the certified optimum of two-layer ReLU
/// training with weight decay when every pattern was enumerated (`global`), else that of a
/// restricted model.
#[derive(Clone, Debug, Serialize)]
pub struct ProblemConvexOptimum {
    pub problem: String,
    /// `global` or `restricted`.
    pub scope: String,
    pub certified: bool,
    /// The optimal network's objective and the dual bound below it.
    pub objective: f64,
    pub dual_bound: f64,
    pub rel_gap: f64,
    pub units: usize,
    pub seconds: f64,
    /// Where the optimum is not global: a proven lower bound over every two-layer ReLU network
    /// of any width, certified from the comparison's best network.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global_bound: Option<ComparedBound>,
}

/// A global lower bound on the weight-decay objective of every two-layer ReLU network of any
/// width (outputs sharing hidden units; an unpenalised output bias when `output_bias` is
/// `free`), certified by dual scaling of the residual of the comparison's best network on the
/// problem (docs/global.md). It holds whenever its search stopped; `status` says how far the
/// search went, and a looser search gives a lower bound.
#[derive(Clone, Debug, Serialize)]
pub struct ComparedBound {
    pub lower_bound: f64,
    pub status: BoundStatus,
    pub output_bias: OutputBias,
    /// The row whose network certified it.
    pub method: String,
    pub start: usize,
    pub seconds: f64,
}

/// One method's runs against the convex optima, on the weight-decay objective.
#[derive(Clone, Debug, Serialize)]
pub struct AgainstConvex {
    pub method: String,
    pub runs: usize,
    /// Runs whose objective is within 1e-6 (relative) of the optimum.
    pub at_optimum: usize,
    /// Runs below the optimum by more than 1e-6: they beat a restricted model (sampled
    /// patterns); below a global bound would be a bug, and is reported as an error.
    pub below: usize,
    /// Median of `(objective − optimum) / optimum`.
    pub median_excess: Option<f64>,
    /// Median of `(objective − bound) / bound` over the runs on problems with a global bound:
    /// each run is at most this far above the best two-layer network.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median_above_bound: Option<f64>,
}

/// `compare --weight-decay β`: every problem's convex optimum and every method against it.
#[derive(Clone, Debug, Serialize)]
pub struct ConvexOptimum {
    pub beta: f64,
    pub problems: Vec<ProblemConvexOptimum>,
    pub methods: Vec<AgainstConvex>,
}

/// Relative distance below which a run counts as at the optimum.
pub const AT_OPTIMUM: f64 = 1e-6;

/// Each case's convex optimum (from the convex model's row of start 0 when `convex` is among
/// the methods, else by solving it with `trainer`), where it is not global a global lower bound
/// certified in at most `bound_seconds` (0: none), and each method's runs against both.
/// `report` sees each problem's optimum as it is known.
pub fn convex_optimum(
    done: &Finished,
    trainer: &methods::Convex,
    limits: &Limits,
    bound_seconds: f64,
    report: &mut dyn FnMut(&ProblemConvexOptimum),
) -> Result<ConvexOptimum> {
    let (arch, names, rows) = (done.arch, done.names, done.rows);
    let beta = trainer.settings.beta;
    let mut optima = Vec::new();
    for case in done.cases {
        let t0 = Instant::now();
        let from_row = rows
            .iter()
            .find(|r| r.method == "convex" && r.problem == case.name && r.start == 0)
            .and_then(|r| Some((r.certificate_as::<ConvexCertificate>()?.clone(), r.seconds)));
        let mut seconds = None;
        let c = match from_row {
            Some((c, s)) => {
                seconds = Some(s);
                c
            }
            None => {
                let p = Problem::new(&case.data, arch)?;
                let run = methods::run(trainer, &p, &Start::Zero, &mut Quiet, limits)?;
                run.certificate_as::<ConvexCertificate>()
                    .cloned()
                    .ok_or_else(|| Error::Solver("the convex model gave no certificate".into()))?
            }
        };
        let o = ProblemConvexOptimum {
            problem: case.name.clone(),
            scope: c.scope.to_string(),
            certified: c.certified,
            objective: c.objective,
            dual_bound: c.dual_bound,
            rel_gap: c.rel_gap,
            units: c.units,
            seconds: seconds.unwrap_or_else(|| t0.elapsed().as_secs_f64()),
            global_bound: if !c.global() && bound_seconds > 0.0 {
                global_bound(case, rows, beta, bound_seconds, limits)?
            } else {
                None
            },
        };
        report(&o);
        optima.push(o);
    }
    let mut per_method = Vec::new();
    for &m in names {
        let mine: Vec<&CompareRow> = rows.iter().filter(|r| r.method == m).collect();
        let (mut at, mut below, mut excess, mut above) = (0, 0, Vec::new(), Vec::new());
        for r in &mine {
            let (Some(obj), Some(o)) =
                (r.objective, optima.iter().find(|o| o.problem == r.problem))
            else {
                continue;
            };
            if o.scope == "global" && obj < o.dual_bound * (1.0 - AT_OPTIMUM) {
                return Err(Error::Numerical(format!(
                    "{m} on {} has objective {obj} below the certified global bound {}: a bug, \
                     please report it",
                    r.problem, o.dual_bound
                )));
            }
            if let Some(b) = &o.global_bound {
                if obj < b.lower_bound * (1.0 - AT_OPTIMUM) {
                    return Err(Error::Numerical(format!(
                        "{m} on {} has objective {obj} below the global lower bound {}: a bug, \
                         please report it",
                        r.problem, b.lower_bound
                    )));
                }
                if b.lower_bound > 0.0 {
                    above.push((obj - b.lower_bound) / b.lower_bound);
                }
            }
            let rel = (obj - o.objective) / o.objective.abs().max(f64::MIN_POSITIVE);
            if rel.abs() <= AT_OPTIMUM {
                at += 1;
            } else if rel < 0.0 {
                below += 1;
            }
            excess.push(rel);
        }
        let med = median(excess);
        let above = median(above);
        per_method.push(AgainstConvex {
            method: m.to_string(),
            runs: mine.len(),
            at_optimum: at,
            below,
            median_excess: med.is_finite().then_some(med),
            median_above_bound: above.is_finite().then_some(above),
        });
    }
    Ok(ConvexOptimum {
        beta,
        problems: optima,
        methods: per_method,
    })
}

/// The global lower bound certified by the residual of the best network among `rows` on
/// `case` (the lowest weight-decay objective), searched for at most `seconds`; `None` when no
/// row has a network. The bound covers networks with an output bias when any row's network has
/// one, so that it covers every row.
fn global_bound(
    case: &Case,
    rows: &[CompareRow],
    beta: f64,
    seconds: f64,
    limits: &Limits,
) -> Result<Option<ComparedBound>> {
    let mine: Vec<(&CompareRow, &Mlp, f64)> = rows
        .iter()
        .filter(|r| r.problem == case.name)
        .filter_map(|r| Some((r, r.network.as_deref()?, r.objective?)))
        .collect();
    let Some(&(best, net, _)) = mine.iter().min_by(|a, b| a.2.total_cmp(&b.2)) else {
        return Ok(None);
    };
    let biased = mine
        .iter()
        .any(|(_, m, _)| m.biases.last().is_some_and(|b| b.iter().any(|&v| v != 0.0)));
    let settings = BoundSettings {
        output_bias: if biased {
            OutputBias::Free
        } else {
            OutputBias::None
        },
        units: Units::Shared,
        improve: true,
        ..BoundSettings::new(crate::convex::Loss::Squared, beta)
    };
    let budget = crate::train::Budget::start(&Limits {
        time_limit: Some(seconds),
        interrupt: limits.interrupt.clone(),
    });
    let c = crate::global::certify(net, &case.data.x, &case.data.y, &settings, &budget)?;
    Ok(Some(ComparedBound {
        lower_bound: c.bound.lower_bound,
        status: c.bound.status,
        output_bias: settings.output_bias,
        method: best.method.clone(),
        start: best.start,
        seconds: c.seconds,
    }))
}

/// One method of a comparison as the report lists it.
#[derive(Clone, Debug, Serialize)]
pub struct MethodInfo {
    pub name: String,
    pub settings: Settings,
}

/// What was compared.
#[derive(Clone, Debug, Serialize)]
pub struct CompareProblem {
    pub architecture: String,
    pub output_activation: String,
    pub source: String,
}

/// `{"format": "cvxnn-compare", "version": 3, …}`: the request (every default resolved), the
/// rows, the summary and the plan.
#[derive(Clone, Debug, Serialize)]
pub struct CompareReport {
    #[serde(flatten)]
    pub stamp: Stamp,
    /// The comparison's request: `compare --config` runs it again.
    pub request: serde_json::Value,
    pub problem: CompareProblem,
    pub plan: Plan,
    pub methods: Vec<MethodInfo>,
    pub summary: Vec<MethodSummary>,
    pub global_optimum: Option<GlobalOptimum>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub convex_optimum: Option<ConvexOptimum>,
    /// Whether the comparison was interrupted (then only the rows of runs that started).
    pub interrupted: bool,
    pub rows: Vec<CompareRow>,
}

impl CompareReport {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        request: serde_json::Value,
        problem: CompareProblem,
        plan: &Plan,
        entries: &[Entry],
        rows: Vec<CompareRow>,
        global_optimum: Option<GlobalOptimum>,
        convex_optimum: Option<ConvexOptimum>,
        interrupted: bool,
    ) -> Self {
        let names: Vec<&str> = entries.iter().map(Entry::name).collect();
        Self {
            stamp: Stamp::new("cvxnn-compare", 3),
            request,
            problem,
            plan: plan.clone(),
            methods: entries
                .iter()
                .map(|e| MethodInfo {
                    name: e.name().into(),
                    settings: e.trainer.settings(),
                })
                .collect(),
            summary: summarize(&names, &rows),
            global_optimum,
            convex_optimum,
            interrupted,
            rows,
        }
    }

    pub fn save(&self, path: &std::path::Path) -> Result<()> {
        crate::report::save_json(self, path)
    }
}
