//! `cvxnn train --method milp`: exact training with a certificate ([`cvxnn::milp`]).

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use cvxnn::data::Dataset;
use cvxnn::gradient::{self, GradSettings, InitScheme, Optimizer};
use cvxnn::milp::integer::{self, IntegerMilp};
use cvxnn::milp::relu::{self, ExactFit, Loss, ReluMilp, Tightening};
use cvxnn::milp::threshold::{self, ThresholdMilp};
use cvxnn::milp::{MilpSettings, MilpStatus};
use cvxnn::net::{Architecture, Mlp};
use std::path::Path;

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum LossArg {
    /// Sum of absolute errors.
    L1,
    /// Largest absolute error.
    Linf,
    /// Fit every target to --exact-tol (feasibility; infeasible is a proof that no network of the
    /// class fits).
    Exact,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum TightenArg {
    /// One big-M for all samples.
    Global,
    /// Per-sample interval bounds B(‖x‖₁ + 1).
    Interval,
    /// Interval bounds, then LP bound tightening capped by the start network's loss.
    Lp,
}

#[derive(Args, Clone)]
pub struct MilpArgs {
    /// MILP: bound B on every first-layer weight and bias (output weights are ±1; see the README
    /// for the class of networks this covers).
    #[arg(long, default_value_t = 10.0)]
    weight_bound: f64,
    /// MILP: wall-clock limit in seconds; the best network and bound so far are reported.
    #[arg(long, default_value_t = 60.0)]
    time_limit: f64,
    /// MILP: training loss.
    #[arg(long, value_enum, default_value = "l1")]
    loss: LossArg,
    /// MILP: largest error allowed by --loss exact.
    #[arg(long, default_value_t = 1e-6)]
    exact_tol: f64,
    /// MILP: how the big-M constants are set.
    #[arg(long, value_enum, default_value = "interval")]
    tighten: TightenArg,
    /// MILP: L-BFGS runs (seeded by --seed) whose best network in the class is the first
    /// incumbent (0 = none; --tighten lp needs one).
    #[arg(long, default_value_t = 4)]
    milp_starts: usize,
    /// MILP: relative and absolute optimality gap at which the search stops.
    #[arg(long, default_value_t = 1e-6)]
    mip_gap: f64,
    /// MILP: train linear threshold units under an AND output (Blum & Rivest's network; 0/1
    /// targets) instead of ReLU units; --loss l1 counts errors, --loss exact asks for none.
    #[arg(long)]
    threshold: bool,
    /// MILP: integer weights and biases in {−P, …, P}, for any depth and number of outputs
    /// (linear output) instead of the ±1-output class (--weight-bound and --tighten do not apply).
    #[arg(long, value_name = "P", conflicts_with = "threshold")]
    integer_weights: Option<u32>,
    /// MILP: print HiGHS's log.
    #[arg(long)]
    milp_verbose: bool,
}

impl MilpArgs {
    fn settings(&self, seed: u64) -> MilpSettings {
        MilpSettings {
            time_limit: self.time_limit,
            rel_gap: self.mip_gap,
            abs_gap: self.mip_gap,
            seed,
            verbose: self.milp_verbose,
        }
    }

    fn loss(&self) -> Loss {
        match self.loss {
            LossArg::L1 => Loss::L1,
            LossArg::Linf => Loss::Linf,
            LossArg::Exact => Loss::Exact {
                tol: self.exact_tol,
            },
        }
    }
}

/// `starts` L-BFGS runs on the mean squared error from seeded He starts (the MILP's first
/// incumbents come from these).
fn lbfgs_runs(ds: &Dataset, arch: &Architecture, starts: usize, seed: u64) -> Result<Vec<Mlp>> {
    (0..starts as u64)
        .map(|s| {
            let start = gradient::init_model(arch, InitScheme::He, seed.wrapping_add(s));
            let mut st = GradSettings::new(Optimizer::Lbfgs { memory: 10 });
            st.max_iter = 2000;
            st.seed = seed;
            Ok(gradient::train(&ds.x, &ds.y, &start, &st, &mut |_| {})?.model)
        })
        .collect()
}

/// The network of lowest `loss` among `nets` (`None` if none is finite).
fn best_by(nets: Vec<Mlp>, loss: Loss, ds: &Dataset) -> Result<Option<(Mlp, f64)>> {
    let mut best: Option<(Mlp, f64)> = None;
    for net in nets {
        let l = loss.value(net.forward(&ds.x)?.as_slice(), ds.y.as_slice());
        if l.is_finite() && best.as_ref().is_none_or(|(_, b)| l < *b) {
            best = Some((net, l));
        }
    }
    Ok(best)
}

/// The best of `starts` L-BFGS runs that lies in the class, by the MILP's loss.
fn gradient_start(
    ds: &Dataset,
    arch: &Architecture,
    loss: Loss,
    bound: f64,
    starts: usize,
    seed: u64,
) -> Result<Option<(Mlp, f64)>> {
    let mut in_class = Vec::new();
    for net in lbfgs_runs(ds, arch, starts, seed)? {
        if relu::class_bound(&net)? <= bound {
            in_class.push(net);
        }
    }
    best_by(in_class, loss, ds)
}

fn run_integer(
    a: &MilpArgs,
    ds: &Dataset,
    arch: &Architecture,
    p: u32,
    settings: &MilpSettings,
    model_out: &Path,
    report: Option<&Path>,
) -> Result<()> {
    if arch.n_inputs() != ds.n_inputs() || arch.n_outputs() != ds.n_outputs() {
        bail!(
            "--arch {} does not fit the data ({} inputs, {} targets)",
            arch.spec(),
            ds.n_inputs(),
            ds.n_outputs()
        );
    }
    let spec = IntegerMilp {
        arch: arch.clone(),
        weight_bound: p,
        loss: a.loss(),
    };
    eprintln!(
        "MILP: {} ReLU network with integer weights in [−{p}, {p}], N = {}, loss {}, time limit {} s…",
        arch.spec(),
        ds.n_samples(),
        spec.loss.name(),
        a.time_limit
    );
    // first incumbent: the best rounded L-BFGS network (every integer network is feasible)
    let rounded = lbfgs_runs(ds, arch, a.milp_starts, settings.seed)?
        .iter()
        .map(|n| integer::round_into_class(n, p))
        .collect();
    let start = best_by(rounded, spec.loss, ds)?;
    if let Some((_, l)) = &start {
        eprintln!(
            "start: best rounded L-BFGS network, {} loss {l:.6e}",
            spec.loss.name()
        );
    }
    let fit = integer::train(
        &ds.x,
        &ds.y,
        &spec,
        settings,
        start.as_ref().map(|(m, _)| m),
    )?;
    let tol = a.mip_gap.max(1e-6);
    println!(
        "{:<27} {:>13} {:>13} {:>10} {:>9} {:>9} {:>9}",
        "status",
        format!("{} loss", spec.loss.name()),
        "lower bound",
        "gap",
        "nodes",
        "binaries",
        "seconds"
    );
    println!(
        "{:<27} {:>13.6e} {:>13.6e} {:>10.2e} {:>9} {:>9} {:>9.2}",
        status_line(fit.status, fit.abs_gap() <= tol),
        fit.loss,
        fit.bound,
        fit.abs_gap(),
        fit.nodes,
        fit.n_binaries,
        fit.seconds
    );
    if let Some(r) = report {
        let json = serde_json::json!({
            "format": "cvxnn-milp-report",
            "version": 1,
            "network": format!("{} relu, integer weights", arch.spec()),
            "data": ds.source,
            "n_samples": ds.n_samples(),
            "weight_bound": p,
            "loss": spec.loss.name(),
            "time_limit": a.time_limit,
            "status": fit.status,
            "incumbent": finite(fit.loss),
            "lower_bound": finite(fit.bound),
            "abs_gap": finite(fit.abs_gap()),
            "nodes": fit.nodes,
            "seconds": fit.seconds,
            "binaries": fit.n_binaries,
        });
        write_json(r, &json, "report")?;
    }
    finish(
        fit.model.as_ref(),
        fit.status,
        fit.abs_gap(),
        tol,
        model_out,
        || {
            format!(
            "no {} network with integer weights in [−{p}, {p}] fits every target to {} (the MILP is infeasible: a proof)",
            arch.spec(),
            a.exact_tol
        )
        },
    )
}

/// Saves the incumbent, or fails: infeasible (a proof) or nothing found in time.
fn finish(
    model: Option<&Mlp>,
    status: MilpStatus,
    gap: f64,
    tol: f64,
    model_out: &Path,
    infeasible: impl FnOnce() -> String,
) -> Result<()> {
    match (model, status) {
        (_, MilpStatus::Infeasible) => bail!("{}", infeasible()),
        (None, _) => bail!("no network found within the time limit; raise --time-limit"),
        (Some(m), status) => {
            m.save(model_out)?;
            eprintln!("model written to {}", model_out.display());
            if status == MilpStatus::TimeLimit && gap > tol {
                eprintln!(
                    "warning: the time limit was reached; the network is not proven optimal (gap {gap:.2e})"
                );
            }
            Ok(())
        }
    }
}

fn check_shape(ds: &Dataset, arch: &Architecture) -> Result<usize> {
    let w = &arch.widths;
    if w.len() != 3 || w[2] != 1 {
        bail!(
            "--method milp trains one hidden layer and one output (e.g. --arch {}-3-1), got {}",
            ds.n_inputs(),
            arch.spec()
        );
    }
    if w[0] != ds.n_inputs() || ds.n_outputs() != 1 {
        bail!(
            "--arch {} does not fit the data ({} inputs, {} targets)",
            arch.spec(),
            ds.n_inputs(),
            ds.n_outputs()
        );
    }
    Ok(w[1])
}

fn status_line(status: MilpStatus, certified: bool) -> &'static str {
    match (status, certified) {
        (MilpStatus::Optimal, _) => "optimal (certified)",
        (MilpStatus::Infeasible, _) => "infeasible (certified)",
        (MilpStatus::TimeLimit, true) => "time limit (gap closed)",
        (MilpStatus::TimeLimit, false) => "time limit (not certified)",
    }
}

pub fn run(
    a: &MilpArgs,
    ds: &Dataset,
    arch: &Architecture,
    seed: u64,
    model_out: &Path,
    report: Option<&Path>,
) -> Result<()> {
    let settings = a.settings(seed);
    if let Some(p) = a.integer_weights {
        if !cvxnn::milp::AVAILABLE {
            bail!("{}", cvxnn::milp::UNAVAILABLE);
        }
        settings.validate()?;
        return run_integer(a, ds, arch, p, &settings, model_out, report);
    }
    let hidden = check_shape(ds, arch)?;
    if !cvxnn::milp::AVAILABLE {
        bail!("{}", cvxnn::milp::UNAVAILABLE);
    }
    settings.validate()?;
    if a.threshold {
        return run_threshold(a, ds, hidden, &settings, model_out, report);
    }
    if arch.output != cvxnn::net::Activation::Linear {
        bail!("--method milp trains a linear output (use --output-activation linear)");
    }
    let spec = ReluMilp {
        hidden,
        weight_bound: a.weight_bound,
        loss: a.loss(),
        tightening: match a.tighten {
            TightenArg::Global => Tightening::Global,
            TightenArg::Interval => Tightening::Interval,
            TightenArg::Lp => Tightening::Lp,
        },
    };
    let start = if a.milp_starts > 0 && !matches!(spec.loss, Loss::Exact { .. }) {
        eprintln!("start: {} L-BFGS runs…", a.milp_starts);
        let s = gradient_start(ds, arch, spec.loss, a.weight_bound, a.milp_starts, seed)?;
        match &s {
            Some((_, l)) => eprintln!("start: best {} loss {l:.6e}", spec.loss.name()),
            None => eprintln!(
                "start: no L-BFGS network within --weight-bound {}; the search starts without one",
                a.weight_bound
            ),
        }
        s
    } else {
        None
    };
    if spec.tightening == Tightening::Lp && start.is_none() {
        bail!("--tighten lp needs a start network in the class (--milp-starts ≥ 1, a larger --weight-bound, and --loss l1 or linf)");
    }
    eprintln!(
        "MILP: {}-{hidden}-1 ReLU network, N = {}, |weights| ≤ {}, loss {}, big-M {}, time limit {} s…",
        ds.n_inputs(),
        ds.n_samples(),
        a.weight_bound,
        spec.loss.name(),
        spec.tightening.name(),
        a.time_limit
    );
    let fit = relu::train(
        &ds.x,
        ds.y.as_slice(),
        &spec,
        &settings,
        start.as_ref().map(|(m, _)| m),
    )?;
    print_relu(&fit, &spec, a.mip_gap.max(1e-6));
    if let Some(p) = report {
        let json = serde_json::json!({
            "format": "cvxnn-milp-report",
            "version": 1,
            "network": format!("{}-{hidden}-1 relu", ds.n_inputs()),
            "data": ds.source,
            "n_samples": ds.n_samples(),
            "weight_bound": a.weight_bound,
            "loss": spec.loss.name(),
            "big_m": spec.tightening.name(),
            "time_limit": a.time_limit,
            "status": fit.status,
            "incumbent": finite(fit.loss),
            "lower_bound": finite(fit.bound),
            "abs_gap": finite(fit.abs_gap()),
            "rel_gap": finite(fit.rel_gap()),
            "start_loss": start.as_ref().map(|(_, l)| *l),
            "nodes": fit.nodes,
            "seconds": fit.seconds,
            "tighten_seconds": fit.tighten_seconds,
            "mean_big_m": fit.mean_interval / 2.0,
            "fixed_phases": fit.fixed_phases,
            "binaries": fit.n_binaries,
        });
        write_json(p, &json, "report")?;
    }
    let tol = a.mip_gap.max(1e-6);
    finish(
        fit.model.as_ref(),
        fit.status,
        fit.abs_gap(),
        tol,
        model_out,
        || {
            format!(
            "no {}-{hidden}-1 network with weights in [−{b}, {b}] fits every target to {} (the MILP is infeasible: a proof)",
            ds.n_inputs(),
            a.exact_tol,
            b = a.weight_bound
        )
        },
    )
}

/// Writes `json` to `path` and says so on stderr.
fn write_json(path: &Path, json: &serde_json::Value, what: &str) -> Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(json)? + "\n")
        .with_context(|| format!("{}", path.display()))?;
    eprintln!("{what} written to {}", path.display());
    Ok(())
}

/// JSON has no infinity.
fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

fn print_relu(fit: &ExactFit, spec: &ReluMilp, abs_tol: f64) {
    println!(
        "{:<27} {:>13} {:>13} {:>10} {:>9} {:>9} {:>9} {:>7} {:>8} {:>9}",
        "status",
        format!("{} loss", spec.loss.name()),
        "lower bound",
        "gap",
        "nodes",
        "binaries",
        "mean M",
        "fixed",
        "LP (s)",
        "MILP (s)"
    );
    println!(
        "{:<27} {:>13.6e} {:>13.6e} {:>10.2e} {:>9} {:>9} {:>9.3} {:>7} {:>8.2} {:>9.2}",
        status_line(fit.status, fit.abs_gap() <= abs_tol),
        fit.loss,
        fit.bound,
        fit.abs_gap(),
        fit.nodes,
        fit.n_binaries,
        fit.mean_interval / 2.0,
        fit.fixed_phases,
        fit.tighten_seconds,
        fit.seconds
    );
}

fn run_threshold(
    a: &MilpArgs,
    ds: &Dataset,
    units: usize,
    settings: &MilpSettings,
    model_out: &Path,
    report: Option<&Path>,
) -> Result<()> {
    let spec = ThresholdMilp {
        units,
        weight_bound: a.weight_bound,
        minimise_errors: match a.loss {
            LossArg::L1 => true,
            LossArg::Exact => false,
            LossArg::Linf => bail!("threshold networks count errors: use --loss l1 or exact"),
        },
    };
    eprintln!(
        "MILP: {} threshold units under AND, N = {}, |weights| ≤ {}, {}, time limit {} s…",
        units,
        ds.n_samples(),
        a.weight_bound,
        if spec.minimise_errors {
            "fewest errors"
        } else {
            "fit every sample"
        },
        a.time_limit
    );
    let fit = threshold::train(ds, &spec, settings)?;
    println!(
        "{:<27} {:>8} {:>12} {:>9} {:>9} {:>9}",
        "status", "errors", "lower bound", "nodes", "binaries", "seconds"
    );
    let errors = fit.errors.map_or("-".to_string(), |e| e.to_string());
    let certified = fit.errors.is_some_and(|e| e as f64 <= fit.bound);
    println!(
        "{:<27} {:>8} {:>12} {:>9} {:>9} {:>9.2}",
        status_line(fit.status, certified),
        errors,
        fit.bound,
        fit.nodes,
        fit.n_binaries,
        fit.seconds
    );
    let units_json: Option<Vec<serde_json::Value>> = fit.units.as_ref().map(|us| {
        us.iter()
            .map(|u| serde_json::json!({"w": u.w, "b": u.b}))
            .collect()
    });
    if let Some(p) = report {
        let json = serde_json::json!({
            "format": "cvxnn-milp-report",
            "version": 1,
            "network": format!("{}-{units}-1 threshold, AND output", ds.n_inputs()),
            "data": ds.source,
            "n_samples": ds.n_samples(),
            "weight_bound": a.weight_bound,
            "loss": if spec.minimise_errors { "errors" } else { "exact" },
            "status": fit.status,
            "errors": fit.errors,
            "lower_bound": finite(fit.bound),
            "nodes": fit.nodes,
            "seconds": fit.seconds,
            "binaries": fit.n_binaries,
        });
        write_json(p, &json, "report")?;
    }
    match (units_json, fit.status) {
        (_, MilpStatus::Infeasible) => bail!(
            "no {units} threshold units with weights in [−{b}, {b}] and margin 1 classify every sample under an AND (the MILP is infeasible: a proof)",
            b = a.weight_bound
        ),
        (None, _) => bail!("no network found within the time limit; raise --time-limit"),
        (Some(us), _) => {
            let json = serde_json::json!({
                "format": "cvxnn-threshold-network",
                "version": 1,
                "output": "and",
                "fires": "w·x + b > 0",
                "units": us,
            });
            write_json(model_out, &json, "threshold network")?;
        }
    }
    Ok(())
}

/// Refuses `compare --global-optimum` before any run when it cannot work.
pub fn check_global(arch: &Architecture, bound: f64, time_limit: f64) -> Result<()> {
    if !cvxnn::milp::AVAILABLE {
        bail!("--global-optimum: {}", cvxnn::milp::UNAVAILABLE);
    }
    let w = &arch.widths;
    if w.len() != 3 || w[2] != 1 || arch.output != cvxnn::net::Activation::Linear {
        bail!(
            "--global-optimum covers one hidden layer and one linear output (d-K-1), got {} with a {} output",
            arch.spec(),
            arch.output
        );
    }
    MilpSettings {
        time_limit,
        ..Default::default()
    }
    .validate()?;
    cvxnn::bounds::check_weight_bound(bound).context("--weight-bound")?;
    Ok(())
}

/// `compare --global-optimum`: the certified L1 optimum of each problem (no start: the MILP is
/// independent of the runs), and per method how its runs' L1 losses stand against it. Prints two
/// tables and returns them as JSON.
pub fn global_optimum(
    arch: &Architecture,
    problems: &[cvxnn::compare::Problem],
    methods: &[cvxnn::compare::Method],
    rows: &[cvxnn::compare::CompareRow],
    bound: f64,
    time_limit: f64,
    seed: u64,
) -> Result<serde_json::Value> {
    let settings = MilpSettings {
        time_limit,
        seed,
        ..Default::default()
    };
    println!(
        "global optimum: L1 loss Σ|f(x) − y| over the networks with |v_k|·max(‖w_k‖_∞, |b_k|) ≤ {bound} (MILP)"
    );
    println!(
        "{:<22} {:<27} {:>13} {:>13} {:>9}",
        "problem", "status", "L1 (MILP)", "lower bound", "seconds"
    );
    let mut fits = Vec::new();
    for p in problems {
        let spec = ReluMilp {
            hidden: arch.widths[1],
            weight_bound: bound,
            loss: Loss::L1,
            tightening: Tightening::Interval,
        };
        let fit = relu::train(&p.x, p.y.as_slice(), &spec, &settings, None)?;
        println!(
            "{:<22} {:<27} {:>13.6e} {:>13.6e} {:>9.2}",
            p.name,
            status_line(fit.status, fit.abs_gap() <= 1e-6),
            fit.loss,
            fit.bound,
            fit.seconds
        );
        fits.push((p.name.clone(), fit));
    }
    // per method: runs in the class, how many reach the certified bound, the median excess
    println!(
        "{:<10} {:>5} {:>9} {:>12} {:>16}",
        "method", "runs", "in class", "at optimum", "median L1 − bound"
    );
    let mut per_method = Vec::new();
    for m in methods {
        let mine: Vec<_> = rows.iter().filter(|r| r.method == m.name).collect();
        let mut excess = Vec::new();
        let (mut in_class, mut at_opt) = (0, 0);
        for r in &mine {
            let (Some(l1), Some(cb)) = (r.l1_loss, r.class_bound) else {
                continue;
            };
            let Some((_, fit)) = fits.iter().find(|(n, _)| *n == r.problem) else {
                continue;
            };
            if cb > bound {
                continue;
            }
            in_class += 1;
            let gap = l1 - fit.bound;
            if gap < -1e-6 * (1.0 + l1) {
                bail!(
                    "{} on {} has L1 loss {l1} below the MILP's certified bound {}: a bug, please report it",
                    r.method,
                    r.problem,
                    fit.bound
                );
            }
            if gap <= 1e-6 * (1.0 + fit.bound) {
                at_opt += 1;
            }
            excess.push(gap);
        }
        let median = cvxnn::compare::median(excess);
        println!(
            "{:<10} {:>5} {:>9} {:>12} {:>16.3e}",
            m.name,
            mine.len(),
            in_class,
            at_opt,
            median
        );
        per_method.push(serde_json::json!({
            "method": m.name, "runs": mine.len(), "in_class": in_class,
            "at_optimum": at_opt, "median_l1_minus_bound": finite(median),
        }));
    }
    Ok(serde_json::json!({
        "loss": "l1",
        "weight_bound": bound,
        "time_limit": time_limit,
        "problems": fits.iter().map(|(name, f)| serde_json::json!({
            "problem": name,
            "status": f.status,
            "incumbent": finite(f.loss),
            "lower_bound": finite(f.bound),
            "abs_gap": finite(f.abs_gap()),
            "seconds": f.seconds,
        })).collect::<Vec<_>>(),
        "methods": per_method,
    }))
}
