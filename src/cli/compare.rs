//! `cvxnn compare`: methods of the table on the same problems from the same starts; prints the
//! summary (and each problem's certified optimum with --global-optimum), writes rows and a plot.

use super::args::{self, MethodArgs};
use super::progress::Counter;
use super::{interrupt, wrote, Outcome};
use anyhow::{bail, Result};
use clap::{ArgMatches, Args};
use cvxnn::compare::{self, CompareProblem, CompareReport, Entry};
use cvxnn::methods::{self, Method};
use cvxnn::net::Activation;
use cvxnn::request::{self, CompareRequest};
use cvxnn::train::{InitScheme, Limits};
use serde_json::{Map, Value};
use std::path::PathBuf;

#[derive(Args)]
#[allow(dead_code)] // the flags are read by id into the request
pub struct CompareArgs {
    /// A comparison request (TOML or JSON; docs/requests.md, or the `request` of a compare
    /// file), with any flag given here written over its keys.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Number of planted teachers (seeds --seed, --seed + 1, …).
    #[arg(long, conflicts_with = "data", required_unless_present_any = ["data", "config"])]
    teachers: Option<usize>,
    /// A data file instead of teachers (CSV or .npy).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Target columns by header name (default: the last n_y columns).
    #[arg(long, value_delimiter = ',')]
    targets: Option<Vec<String>>,
    /// Architecture of the teachers and of the trained networks.
    #[arg(long, default_value = "3-3-2")]
    arch: String,
    /// Output activation: linear or relu.
    #[arg(long, default_value = "linear")]
    output_activation: Activation,
    /// Samples per teacher.
    #[arg(long, default_value_t = 30)]
    n: usize,
    /// Standard deviation of Gaussian noise added to the teachers' targets (seeded by each
    /// teacher's seed).
    #[arg(long, default_value_t = 0.0)]
    noise: f64,
    /// First teacher seed; also seeds the mini-batch order and HiGHS.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Base of the start seeds (default: --seed).
    #[arg(long)]
    init_seed: Option<u64>,
    /// The random starts' scheme for every method [default: SCR gaussian, the others he].
    #[arg(long, value_parser = args::choices(InitScheme::CHOICES))]
    init_scheme: Option<String>,
    /// Random starts per problem (every method gets the same start seeds).
    #[arg(long, default_value_t = 1)]
    starts: usize,
    /// Attempts per start: each row reports the best of this many (lowest final loss), and its
    /// time is their sum. Applies to every method alike.
    #[arg(long, default_value_t = 1)]
    restarts: usize,
    /// SCR's start [default: --init-scheme, else params].
    #[arg(long, value_parser = args::scr_starts())]
    scr_start: Option<String>,
    /// Methods, comma-separated (any of `cvxnn train`'s).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "adam,lbfgs,lm,scr,scr+lbfgs",
        value_parser = args::method_parser()
    )]
    methods: Vec<String>,
    /// Runs in parallel [default: all cores].
    #[arg(long)]
    jobs: Option<usize>,
    /// Stop each run after this many seconds (milp without it: 60 s), keeping its best so far.
    #[arg(long)]
    time_limit: Option<f64>,
    /// Where to write the rows and the summary (JSON).
    #[arg(long, default_value = "compare.json")]
    json: PathBuf,
    /// Where to write the plot of the final output errors (SVG).
    #[arg(long, default_value = "compare.svg")]
    plot: PathBuf,
    /// Also train each problem exactly (MILP, feature `milp`; d-K-1 networks with a linear
    /// output, L1 loss, no start) and compare every run's L1 loss with the certified optimum of
    /// the class |v_k|·max(‖w_k‖_∞, |b_k|) ≤ --weight-bound (the one exact-training flag it
    /// reads, with --time-limit).
    #[arg(long)]
    global_optimum: bool,
    /// With --weight-decay, where the convex optimum is not global (sampled patterns, several
    /// outputs): seconds per problem for the global lower bound certified from the best run's
    /// network, which every run is then set against (0: none).
    #[arg(long, default_value_t = 10.0)]
    bound_time: f64,
    #[command(flatten)]
    family: MethodArgs,
}

/// The request of `compare`'s command line: the request file's keys (if any), then every flag
/// given written over them.
fn request(a: &CompareArgs, m: &ArgMatches) -> Result<(CompareRequest, Vec<&'static Method>)> {
    let mut value = match &a.config {
        Some(path) => args::load_config(path)?,
        None => Value::Object(Map::new()),
    };
    let defaults = a.config.is_none();
    let mut own = Map::new();
    let mut set = |key: &str, v: Value| request::set_key(&mut own, key, v);
    let given = |id: &str| defaults || args::given(m, id);
    if a.data.is_some() || a.teachers.is_some() {
        if let Value::Object(map) = &mut value {
            map.remove("data");
        }
    }
    if a.noise != 0.0 && a.data.is_some() {
        bail!("--noise adds noise to the teachers' targets: use it with --teachers");
    }
    if let Some(path) = &a.data {
        set("data.file", path.display().to_string().into());
        if let Some(t) = &a.targets {
            set("data.targets", t.clone().into());
        }
    }
    if let Some(k) = a.teachers {
        set("data.teachers", k.into());
        if given("n") {
            set("data.n", a.n.into());
        }
        if given("noise") {
            set("data.noise", a.noise.into());
        }
    }
    if given("methods") {
        set("methods", a.methods.clone().into());
    }
    if given("arch") {
        set("arch", a.arch.clone().into());
    }
    if given("output_activation") {
        set("output", a.output_activation.to_string().into());
    }
    for (id, v) in [
        ("seed", Value::from(a.seed)),
        ("starts", a.starts.into()),
        ("restarts", a.restarts.into()),
        ("bound_time", a.bound_time.into()),
    ] {
        if given(id) {
            set(id, v);
        }
    }
    for (id, v) in [
        ("init_seed", a.init_seed.map(Value::from)),
        ("init_scheme", a.init_scheme.clone().map(Value::from)),
        ("scr_start", a.scr_start.clone().map(Value::from)),
        ("time_limit", a.time_limit.map(Value::from)),
        ("weight_decay", a.family.decay.weight_decay.map(Value::from)),
    ] {
        if let Some(v) = v {
            set(id, v);
        }
    }
    if a.global_optimum {
        set("global_optimum", true.into());
    }
    request::overlay(&mut value, Value::Object(own));
    let names: Vec<String> = value
        .get("methods")
        .and_then(Value::as_array)
        .map(|v| {
            v.iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut chosen: Vec<&'static Method> = Vec::new();
    for name in &names {
        let m = methods::method(name)?;
        if chosen.iter().any(|c| c.name == m.name) {
            bail!("--methods lists {name} twice");
        }
        chosen.push(m);
    }
    // --global-optimum reads the class's weight bound whatever the methods
    let global = value.get("global_optimum").and_then(Value::as_bool) == Some(true);
    let also: &[&str] = if global { &["weight_bound"] } else { &[] };
    args::refuse_foreign::<CompareArgs>(m, &chosen, also);
    let reads = |g: &str| chosen.iter().any(|m| m.reads(g)) || (g == "milp" && global);
    // compare's own flags: the start seeds and scheme, the time limit, the scored weight decay
    let own_flags = ["weight_decay", "time_limit", "init_seed", "init_scheme"];
    let flags = args::keys_of_flags(m, &reads, &own_flags)?;
    request::overlay(&mut value, Value::Object(flags));
    Ok((CompareRequest::from_value(value)?, chosen))
}

pub fn run(a: CompareArgs, matches: &ArgMatches) -> Result<Outcome> {
    if a.jobs == Some(0) {
        bail!("--jobs must be at least 1");
    }
    let (request, _) = request(&a, matches)?;
    let c = request.prepare(None)?;
    let interrupt = interrupt::on_ctrl_c();
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let names: Vec<&str> = c.entries.iter().map(Entry::name).collect();
    let starts = c.plan.starts;
    let total = names.len() * c.cases.len() * starts;
    eprintln!(
        "compare: {} on {} problem(s) × {starts} start(s) = {total} runs, {jobs} in parallel",
        names.join(", "),
        c.cases.len(),
    );
    let counter = Counter::new();
    let rows = c.run_all(jobs, Some(interrupt.clone()), &|d, t| counter.done(d, t));
    counter.finish();
    let rows = rows?;
    let interrupted = interrupt.is_triggered();
    let what = match &c.request.data {
        request::CompareData::Teachers { teachers, n, .. } => {
            format!("{teachers} teachers {}, N = {n}", c.arch)
        }
        _ => format!("{} on {}", c.arch, c.cases[0].name),
    };
    println!(
        "compare: {what}, {starts} start(s) each, best of {} attempt(s) per start",
        c.plan.restarts
    );
    let summary = compare::summarize(&names, &rows);
    println!(
        "{:<10} {:>5} {:>12} {:>12} {:>7} {:>12} {:>12} {:>10}",
        "method",
        "runs",
        "err < 1e-6",
        "err < 1e-2",
        "failed",
        "median loss",
        "median err",
        "median s"
    );
    for s in &summary {
        println!(
            "{:<10} {:>5} {:>12} {:>12} {:>7} {:>12.3e} {:>12.3e} {:>10.3}",
            s.method,
            s.runs,
            format!("{}/{}", s.exact, s.runs),
            format!("{}/{}", s.close, s.runs),
            s.failed,
            s.median_loss,
            s.median_output_error,
            s.median_seconds
        );
    }
    print_certificates(&rows);
    let done = compare::Finished {
        arch: &c.arch,
        cases: &c.cases,
        names: &names,
        rows: &rows,
    };
    let global = match &c.optimum {
        Some(t) if !interrupted => Some(print_global(&done, t, &interrupt)?),
        _ => None,
    };
    let convex = match (&c.convex, interrupted) {
        (Some(t), false) => Some(print_convex(&done, t, c.request.bound_time, &interrupt)?),
        _ => None,
    };
    let report = CompareReport::new(
        c.request.to_value(),
        CompareProblem {
            architecture: c.arch.spec(),
            output_activation: c.arch.output.to_string(),
            source: what.clone(),
        },
        &c.plan,
        &c.entries,
        rows,
        global,
        convex,
        interrupted,
    );
    report.save(&a.json)?;
    wrote("rows", &a.json);
    args::write_svg(
        &compare::plot(&format!("compare: {what}"), &names, &report.rows),
        &a.plot,
    )?;
    if interrupted {
        eprintln!(
            "interrupted: {} of {total} runs are in {}",
            report.rows.len(),
            a.json.display()
        );
        return Ok(Outcome::Interrupted);
    }
    let failed: usize = report.summary.iter().map(|s| s.failed).sum();
    if failed > 0 {
        bail!(
            "{failed} run(s) failed: see the \"error\" field of their rows in {}",
            a.json.display()
        );
    }
    Ok(Outcome::Done)
}

/// Rows with a certificate (exact training): how many are certified, per method.
fn print_certificates(rows: &[compare::CompareRow]) {
    let mut seen: Vec<&str> = Vec::new();
    for r in rows.iter().filter(|r| r.certificate.is_some()) {
        if !seen.contains(&r.method.as_str()) {
            seen.push(&r.method);
        }
    }
    for m in seen {
        let mine: Vec<_> = rows.iter().filter(|r| r.method == m).collect();
        let certified = mine
            .iter()
            .filter(|r| r.certificate.as_ref().is_some_and(|c| c.certified()))
            .count();
        println!(
            "{m}: {certified} of {} runs certified (their gap closed)",
            mine.len()
        );
    }
}

/// `--weight-decay`: each problem's convex optimum, then each method against it.
fn print_convex(
    done: &compare::Finished,
    trainer: &methods::Convex,
    bound_seconds: f64,
    interrupt: &cvxnn::train::Interrupt,
) -> Result<compare::ConvexOptimum> {
    println!(
        "convex optimum of ‖f(X) − Y‖²/(2N) + (β/2)(‖W₁‖² + ‖b₁‖² + ‖W₂‖²), β = {:e} (global: over \
         two-layer ReLU networks of any width; global-per-output: over those whose hidden units \
         each feed one output; restricted: over the sampled patterns)",
        trainer.settings.beta
    );
    println!(
        "{:<22} {:<11} {:>14} {:>14} {:>9} {:>6} {:>9}",
        "problem", "optimum", "objective", "dual bound", "rel gap", "units", "seconds"
    );
    let limits = Limits {
        time_limit: None,
        interrupt: Some(interrupt.clone()),
    };
    let g = compare::convex_optimum(done, trainer, &limits, bound_seconds, &mut |o| {
        println!(
            "{:<22} {:<11} {:>14.8e} {:>14.8e} {:>9.1e} {:>6} {:>9.2}",
            o.problem,
            if o.certified {
                o.scope.clone()
            } else {
                format!("{} (not certified)", o.scope)
            },
            o.objective,
            o.dual_bound,
            o.rel_gap,
            o.units,
            o.seconds
        );
        if let Some(b) = &o.global_bound {
            println!(
                "{:<22} {:<11} {:>14} {:>14.8e} {:>9} {:>6} {:>9.2}  from {}'s network (start \
                 {}), search {}{}",
                "",
                "global bound",
                "",
                b.lower_bound,
                "",
                "",
                b.seconds,
                b.method,
                b.start,
                b.status.describe(),
                if b.output_bias == cvxnn::global::OutputBias::Free {
                    ", output bias free"
                } else {
                    ""
                }
            );
        }
    })?;
    let restricted = g.problems.iter().any(|p| p.scope != "global");
    let bounded = g.problems.iter().any(|p| p.global_bound.is_some());
    println!(
        "{:<10} {:>5} {:>14} {:>12} {:>22} {:>22}",
        "method",
        "runs",
        "at optimum",
        if restricted { "below it" } else { "" },
        "median excess (rel)",
        if bounded { "median above bound" } else { "" }
    );
    for m in &g.methods {
        println!(
            "{:<10} {:>5} {:>14} {:>12} {:>22.3e} {:>22}",
            m.method,
            m.runs,
            format!("{}/{}", m.at_optimum, m.runs),
            if restricted {
                m.below.to_string()
            } else {
                String::new()
            },
            m.median_excess.unwrap_or(f64::NAN),
            m.median_above_bound
                .map_or(String::new(), |v| format!("{:.1} %", 100.0 * v))
        );
    }
    if bounded {
        println!(
            "global bound: no two-layer ReLU network of any width (outputs sharing units) has a \
             lower objective; \"median above bound\": each run is at most this far above the best one"
        );
    }
    if restricted {
        println!(
            "a restricted optimum (sampled patterns) is not a bound: runs below it found \
             networks whose patterns were not sampled"
        );
    }
    Ok(g)
}

/// `--global-optimum`: each problem's certified optimum, then each method against it.
fn print_global(
    done: &compare::Finished,
    trainer: &methods::Milp,
    interrupt: &cvxnn::train::Interrupt,
) -> Result<compare::GlobalOptimum> {
    println!(
        "global optimum: L1 loss Σ|f(x) − y| over the networks with |v_k|·max(‖w_k‖_∞, |b_k|) ≤ {} (MILP)",
        trainer.group.weight_bound
    );
    println!(
        "{:<22} {:<27} {:>13} {:>13} {:>9}",
        "problem", "status", "L1 (MILP)", "lower bound", "seconds"
    );
    let limits = Limits {
        time_limit: Some(trainer.group.time_limit),
        interrupt: Some(interrupt.clone()),
    };
    let g = compare::global_optimum(done, trainer, &limits, &mut |o| {
        println!(
            "{:<22} {:<27} {:>13.6e} {:>13.6e} {:>9.2}",
            o.problem,
            o.status.describe(o.certified),
            o.incumbent.unwrap_or(f64::INFINITY),
            o.lower_bound.unwrap_or(f64::INFINITY),
            o.seconds
        )
    })?;
    println!(
        "{:<10} {:>5} {:>9} {:>12} {:>16}",
        "method", "runs", "in class", "at optimum", "median L1 − bound"
    );
    for m in &g.methods {
        println!(
            "{:<10} {:>5} {:>9} {:>12} {:>16.3e}",
            m.method,
            m.runs,
            m.in_class,
            m.at_optimum,
            m.median_l1_minus_bound.unwrap_or(f64::NAN)
        );
    }
    Ok(g)
}
