//! `cvxnn demo`: seed 002's experiment, SCR on a planted teacher from the perturbed, random and
//! zero starts.

use super::args::{self, IterArgs, ScrArgs};
use super::progress::Progress;
use super::{interrupt, tables, train, wrote, Outcome};
use anyhow::Result;
use clap::{ArgMatches, Args, ValueEnum};
use cvxnn::methods::{self, Scr, Trainer};
use cvxnn::net::{Activation, Architecture};
use cvxnn::report::{ProblemInfo, Report};
use cvxnn::train::{InitScheme, Limits, Problem, Start, Stop};
use std::path::PathBuf;

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum DemoInit {
    Perturbed,
    Random,
    Zero,
}

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
    #[arg(long, value_delimiter = ',', default_value = "perturbed,random,zero")]
    inits: Vec<DemoInit>,
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

pub fn run(a: DemoArgs, _matches: &ArgMatches) -> Result<Outcome> {
    let scr = Scr {
        settings: a.scr.settings(a.iter.output_tol),
        backend: a.scr.backend()?,
    };
    let arch = Architecture::parse(&a.arch, a.output_activation)?;
    let teacher = cvxnn::data::planted_teacher(&arch, a.n, a.seed)?;
    let problem = Problem::new(&teacher.data, &arch)?;
    scr.check(&problem)?;
    let starts = a
        .inits
        .iter()
        .map(|init| {
            Ok(match init {
                DemoInit::Perturbed => args::perturbed(&teacher, a.sigma, a.seed)?,
                DemoInit::Random => Start::Random {
                    scheme: InitScheme::Gaussian,
                    seed: a.seed,
                },
                DemoInit::Zero => Start::Zero,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let s = &scr.settings;
    println!(
        "SCR demo: teacher {arch}, N = {}, seed {}, λ = {}, μ = {}, tol {:.0e}, at most {} iterations, backend {}",
        a.n,
        a.seed,
        args::list(&s.lambda),
        args::list(&s.mu),
        s.tol,
        s.max_iter,
        scr.backend.name()
    );
    let interrupt = interrupt::on_ctrl_c();
    let limits = Limits {
        time_limit: a.time_limit,
        interrupt: Some(interrupt.clone()),
    };
    let mut runs = Vec::new();
    for start in &starts {
        let mut progress = Progress::new(&format!("{:<10}", start.label()));
        let run = methods::run(&scr, &problem, start, &mut progress, &limits);
        progress.finish();
        let run = run?;
        let stop = run.outcome.stop_reason;
        runs.push(run);
        if stop == Stop::Interrupted {
            break;
        }
    }
    tables::print_runs(&runs.iter().collect::<Vec<_>>());
    let report = Report::new(
        "scr",
        ProblemInfo::new(&arch, &teacher.data, None),
        scr.settings(),
        a.time_limit,
        runs,
    );
    report.save(&a.report)?;
    wrote("report", &a.report);
    args::write_svg(&report.plot(), &a.plot)?;
    train::conclude(&report.runs)
}
