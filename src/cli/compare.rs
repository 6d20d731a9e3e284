//! `cvxnn compare`: methods of the table on the same problems from the same starts; prints the
//! summary (and each problem's certified optimum with --global-optimum), writes rows and a plot.

use super::args::{self, MethodArgs, SchemeArg};
use super::progress::Counter;
use super::{interrupt, wrote, Outcome};
use anyhow::{bail, Result};
use clap::{ArgMatches, Args, ValueEnum};
use cvxnn::compare::{self, Case, CompareProblem, CompareReport, Entry, Plan, ScrStart};
use cvxnn::methods::{self, Method};
use cvxnn::net::{Activation, Architecture};
use cvxnn::train::Limits;
use std::path::PathBuf;

#[derive(Clone, Copy, ValueEnum)]
pub enum ScrStartArg {
    /// Gaussian N(0, 1) parameters.
    Params,
    /// Minus the lifted point of a random network (--init-scheme, default he).
    Network,
    /// Even attempts params, odd attempts network.
    Alternate,
}

#[derive(Args)]
pub struct CompareArgs {
    /// Number of planted teachers (seeds --seed, --seed + 1, …).
    #[arg(long, conflicts_with = "data", required_unless_present = "data")]
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
    #[arg(long, value_enum)]
    init_scheme: Option<SchemeArg>,
    /// Random starts per problem (every method gets the same start seeds).
    #[arg(long, default_value_t = 1)]
    starts: usize,
    /// Attempts per start: each row reports the best of this many (lowest final loss), and its
    /// time is their sum. Applies to every method alike.
    #[arg(long, default_value_t = 1)]
    restarts: usize,
    /// SCR's start [default: --init-scheme, else params].
    #[arg(long, value_enum)]
    scr_start: Option<ScrStartArg>,
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
    #[command(flatten)]
    family: MethodArgs,
}

/// The problems: K teachers, or one data file.
fn cases(a: &CompareArgs, arch: &Architecture) -> Result<Vec<Case>> {
    if a.noise != 0.0 && a.data.is_some() {
        bail!("--noise adds noise to the teachers' targets: use it with --teachers");
    }
    match (&a.data, a.teachers) {
        (Some(path), _) => Ok(vec![Case {
            name: path.display().to_string(),
            teacher_seed: None,
            data: args::load_data(path, &a.targets, arch.n_outputs())?,
        }]),
        (None, Some(k)) => (0..k as u64)
            .map(|i| {
                let seed = a.seed + i;
                Ok(Case {
                    name: format!("teacher seed {seed}"),
                    teacher_seed: Some(seed),
                    data: args::teacher(arch, a.n, seed, a.noise)?.data,
                })
            })
            .collect(),
        (None, None) => bail!("give --teachers K or --data FILE"),
    }
}

pub fn run(a: CompareArgs, matches: &ArgMatches) -> Result<Outcome> {
    let arch = Architecture::parse(&a.arch, a.output_activation)?;
    if a.starts == 0 || a.restarts == 0 || a.teachers == Some(0) || a.jobs == Some(0) {
        bail!("--teachers, --starts, --restarts and --jobs must be at least 1");
    }
    let mut chosen: Vec<&'static Method> = Vec::new();
    for name in &a.methods {
        let m = methods::method(name)?;
        if chosen.iter().any(|c| c.name == m.name) {
            bail!("--methods lists {name} twice");
        }
        chosen.push(m);
    }
    if chosen.is_empty() {
        bail!("--methods: give at least one method");
    }
    // --global-optimum reads the class's weight bound whatever the methods
    let also: &[&str] = if a.global_optimum {
        &["weight_bound"]
    } else {
        &[]
    };
    args::refuse_foreign::<CompareArgs>(matches, &chosen, also);
    let options = a.family.options(a.seed, &chosen)?;
    if options.convex.loss.classifies() {
        bail!(
            "compare scores every method on the squared loss (the gradient methods train no \
             other); --loss {} is for `train --method convex`",
            options.convex.loss.name()
        );
    }
    let entries = chosen
        .iter()
        .map(|&m| {
            Ok(Entry {
                method: m,
                trainer: m.trainer(&options)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let optimum = a.global_optimum.then(|| {
        compare::optimum_trainer(
            a.family.milp.weight_bound,
            a.time_limit.unwrap_or(60.0),
            a.seed,
        )
    });
    let cases = cases(&a, &arch)?;
    // --weight-decay on a two-layer network: every problem's convex optimum on that objective
    let convex_trainer = match a.family.decay.weight_decay {
        Some(_) if arch.widths.len() == 3 && arch.output == cvxnn::net::Activation::Linear => {
            let t = methods::Convex {
                settings: options.convex.clone(),
            };
            if let Some(case) = cases.first() {
                cvxnn::methods::Trainer::check(&t, &cvxnn::train::Problem::new(&case.data, &arch)?)
                    .map_err(|e| anyhow::anyhow!("the convex optimum: {e}"))?;
            }
            Some(t)
        }
        _ => None,
    };
    if let (Some(t), Some(case)) = (&optimum, cases.first()) {
        cvxnn::methods::Trainer::check(t, &cvxnn::train::Problem::new(&case.data, &arch)?)
            .map_err(|e| anyhow::anyhow!("--global-optimum: {e}"))?;
    }
    let interrupt = interrupt::on_ctrl_c();
    let plan = Plan {
        starts: a.starts,
        restarts: a.restarts,
        seed: a.init_seed.unwrap_or(a.seed),
        init_scheme: a.init_scheme.map(SchemeArg::scheme),
        scr_start: a.scr_start.map(|s| match s {
            ScrStartArg::Params => ScrStart::Params,
            ScrStartArg::Network => ScrStart::Network,
            ScrStartArg::Alternate => ScrStart::Alternate,
        }),
        time_limit: a.time_limit,
        weight_decay: a.family.decay.weight_decay,
        interrupt: Some(interrupt.clone()),
    };
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let names: Vec<&str> = entries.iter().map(Entry::name).collect();
    let total = names.len() * cases.len() * a.starts;
    eprintln!(
        "compare: {} on {} problem(s) × {} start(s) = {total} runs, {jobs} in parallel",
        names.join(", "),
        cases.len(),
        a.starts
    );
    let counter = Counter::new();
    let rows = compare::run_all(&arch, &entries, &cases, &plan, jobs, &|d, t| {
        counter.done(d, t)
    });
    counter.finish();
    let rows = rows?;
    let interrupted = interrupt.is_triggered();
    let what = match a.teachers {
        Some(k) if a.data.is_none() => format!("{k} teachers {arch}, N = {}", a.n),
        _ => format!("{arch} on {}", cases[0].name),
    };
    println!(
        "compare: {what}, {} start(s) each, best of {} attempt(s) per start",
        a.starts, a.restarts
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
    let global = match &optimum {
        Some(t) if !interrupted => Some(print_global(&arch, &cases, &names, &rows, t, &interrupt)?),
        _ => None,
    };
    let convex = match (&convex_trainer, interrupted) {
        (Some(t), false) => Some(print_convex(&arch, &cases, &names, &rows, t, &interrupt)?),
        _ => None,
    };
    let report = CompareReport::new(
        CompareProblem {
            architecture: arch.spec(),
            output_activation: arch.output.to_string(),
            source: what.clone(),
        },
        &plan,
        &entries,
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
    arch: &Architecture,
    cases: &[Case],
    names: &[&str],
    rows: &[compare::CompareRow],
    trainer: &methods::Convex,
    interrupt: &cvxnn::train::Interrupt,
) -> Result<compare::ConvexOptimum> {
    println!(
        "convex optimum of ‖f(X) − Y‖²/(2N) + (β/2)(‖W₁‖² + ‖b₁‖² + ‖W₂‖²), β = {:e} (global: over \
         two-layer ReLU networks of any width; restricted: over the sampled patterns)",
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
    let g = compare::convex_optimum(arch, cases, names, rows, trainer, &limits, &mut |o| {
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
        )
    })?;
    let restricted = g.problems.iter().any(|p| p.scope != "global");
    println!(
        "{:<10} {:>5} {:>14} {:>12} {:>22}",
        "method",
        "runs",
        "at optimum",
        if restricted { "below it" } else { "" },
        "median excess (rel)"
    );
    for m in &g.methods {
        println!(
            "{:<10} {:>5} {:>14} {:>12} {:>22.3e}",
            m.method,
            m.runs,
            format!("{}/{}", m.at_optimum, m.runs),
            if restricted {
                m.below.to_string()
            } else {
                String::new()
            },
            m.median_excess.unwrap_or(f64::NAN)
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
    arch: &Architecture,
    cases: &[Case],
    names: &[&str],
    rows: &[compare::CompareRow],
    trainer: &methods::Milp,
    interrupt: &cvxnn::train::Interrupt,
) -> Result<compare::GlobalOptimum> {
    println!(
        "global optimum: L1 loss Σ|f(x) − y| over the networks with |v_k|·max(‖w_k‖_∞, |b_k|) ≤ {} (MILP)",
        trainer.options.weight_bound
    );
    println!(
        "{:<22} {:<27} {:>13} {:>13} {:>9}",
        "problem", "status", "L1 (MILP)", "lower bound", "seconds"
    );
    let limits = Limits {
        time_limit: Some(trainer.options.time_limit),
        interrupt: Some(interrupt.clone()),
    };
    let g = compare::global_optimum(arch, cases, names, rows, trainer, &limits, &mut |o| {
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
