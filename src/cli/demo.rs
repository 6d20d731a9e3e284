//! `cvxnn demo`: seed 002's experiment, SCR on a planted teacher from the perturbed, random and
//! zero starts: three run requests that differ only in their start.

use super::args::{self, IterArgs, ScrArgs};
use super::progress::Progress;
use super::{interrupt, tables, train, wrote, Outcome};
use anyhow::Result;
use clap::{ArgMatches, Args};
use cvxnn::methods::Run;
use cvxnn::net::Activation;
use cvxnn::report::Report;
use cvxnn::request::{self, RunRequest};
use cvxnn::train::Stop;
use serde_json::{json, Value};
use std::path::PathBuf;

#[derive(Args)]
pub struct DemoArgs {
    /// Teacher architecture (widths, e.g. 3-3-2 or 4-8-8-1 for two hidden layers).
    #[arg(long, default_value = "3-3-2")]
    arch: String,
    /// Number of samples.
    #[arg(long, default_value_t = 30)]
    n: usize,
    /// Teacher seed (weights and inputs), and the seed of the random start.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Standard deviation of the perturbation of the teacher for the perturbed start.
    #[arg(long, default_value_t = 0.05)]
    sigma: f64,
    /// Output activation of the teacher and the trained network.
    #[arg(long, default_value = "relu")]
    output_activation: Activation,
    /// Starts to run, comma-separated: perturbed, random, zero.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "perturbed,random,zero",
        value_parser = ["perturbed", "random", "zero"]
    )]
    inits: Vec<String>,
    /// Stop each run after this many seconds, keeping the best so far.
    #[arg(long)]
    time_limit: Option<f64>,
    /// Where to write the JSON report.
    #[arg(long, default_value = "demo_report.json")]
    report: PathBuf,
    /// Where to write the SVG plot of the violations per iteration.
    #[arg(long, default_value = "demo_violations.svg")]
    plot: PathBuf,
    #[command(flatten)]
    iter: IterArgs,
    #[command(flatten)]
    scr: ScrArgs,
}

/// The request of one start: SCR on the teacher, the seed's random start drawn from Gaussian
/// parameters.
fn request(a: &DemoArgs, init: &str, matches: &ArgMatches) -> Result<RunRequest> {
    let mut start = json!({ "init": init });
    match init {
        "perturbed" => start["sigma"] = a.sigma.into(),
        "random" => start["scheme"] = "gaussian".into(),
        _ => {}
    }
    let mut value = json!({
        "method": "scr",
        "data": {"teacher": a.arch, "n": a.n},
        "output": a.output_activation.to_string(),
        "seed": a.seed,
        "start": start,
    });
    if let Some(t) = a.time_limit {
        value["time_limit"] = t.into();
    }
    let flags = args::keys_of_flags(matches, &|g| g == "scr", &["time_limit"])?;
    request::overlay(&mut value, Value::Object(flags));
    Ok(RunRequest::from_value(value)?)
}

pub fn run(a: DemoArgs, matches: &ArgMatches) -> Result<Outcome> {
    let prepared = a
        .inits
        .iter()
        .map(|init| Ok(request(&a, init, matches)?.prepare(None)?))
        .collect::<Result<Vec<_>>>()?;
    let Some(first) = prepared.first() else {
        anyhow::bail!("--inits: give at least one start");
    };
    let scr = first
        .request
        .settings
        .group::<cvxnn::methods::ScrGroup>("scr")?;
    println!(
        "SCR demo: teacher {}, N = {}, seed {}, λ = {}, μ = {}, tol {:.0e}, at most {} iterations, backend {}",
        first.arch,
        a.n,
        a.seed,
        args::list(&scr.lambda),
        args::list(&scr.mu),
        scr.tol,
        scr.max_iter,
        if scr.backend == cvxnn::methods::BackendName::Ipm {
            "clarabel"
        } else {
            "admm"
        }
    );
    let interrupt = interrupt::on_ctrl_c();
    let mut runs = Vec::new();
    for p in &prepared {
        let mut progress = Progress::new(&format!("{:<10}", p.start.label()));
        let trained = p.run(&mut progress, Some(interrupt.clone()));
        progress.finish();
        let trained = trained?;
        let stop = trained.run.outcome.stop_reason;
        runs.push(trained);
        if stop == Stop::Interrupted {
            break;
        }
    }
    tables::print_runs(&runs.iter().map(|t| &t.run).collect::<Vec<_>>());
    let report = Report::new(first, runs);
    report.save(&a.report)?;
    wrote("report", &a.report);
    args::write_svg(&report.plot(), &a.plot)?;
    let runs: Vec<&Run> = report.runs.iter().map(|r| &r.run).collect();
    train::conclude(&runs)
}
