//! `cvxnn train`: any method of the table on a data file or a planted teacher; writes the model
//! (with its columns and standardisation), the report and the plot.

use super::args::{self, LimitArgs, MethodArgs, StartArgs};
use super::progress::Progress;
use super::{interrupt, tables, wrote, Outcome};
use anyhow::{bail, Result};
use clap::{ArgMatches, Args};
use cvxnn::data::{Dataset, Scaling, Teacher};
use cvxnn::methods::{self, Run};
use cvxnn::model::{Columns, Model};
use cvxnn::net::{Activation, Architecture};
use cvxnn::report::{ProblemInfo, Report};
use cvxnn::train::{Limits, Problem, Stop};
use std::path::PathBuf;

#[derive(Args)]
pub struct TrainArgs {
    /// Training method.
    #[arg(long, default_value = "scr", value_parser = args::method_parser())]
    method: String,
    /// Data file: CSV (header optional) or .npy, one sample per row; or a bundled set (iris,
    /// wine, breast_cancer, diabetes).
    #[arg(long, conflicts_with = "teacher", required_unless_present = "teacher")]
    data: Option<PathBuf>,
    /// Target columns by header name, comma-separated (default: the last n_y columns, n_y from
    /// --arch).
    #[arg(long, value_delimiter = ',')]
    targets: Option<Vec<String>>,
    /// Train on a planted teacher of this architecture instead of a file, e.g. 3-3-2.
    #[arg(long)]
    teacher: Option<String>,
    /// Number of teacher samples.
    #[arg(long, default_value_t = 30)]
    n: usize,
    /// Teacher seed; also seeds the mini-batch order and HiGHS.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Standard deviation of Gaussian noise added to the teacher's targets (seeded by --seed).
    #[arg(long, default_value_t = 0.0)]
    noise: f64,
    /// Architecture to train, e.g. 3-3-2 (default: the teacher's).
    #[arg(long)]
    arch: Option<String>,
    /// Output activation: linear or relu.
    #[arg(long, default_value = "linear")]
    output_activation: Activation,
    /// Train on standardised data: every input to mean 0 and standard deviation 1, and the
    /// targets too (ReLU output: scaled only; threshold units: left alone). The model keeps the
    /// map and predicts in the data's units.
    #[arg(long)]
    standardize: bool,
    /// Where to write the trained model (JSON).
    #[arg(long, default_value = "model.json")]
    model_out: PathBuf,
    /// Where to write the JSON report.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Where to write the SVG plot of the history.
    #[arg(long)]
    plot: Option<PathBuf>,
    #[command(flatten)]
    start: StartArgs,
    #[command(flatten)]
    limits: LimitArgs,
    #[command(flatten)]
    family: MethodArgs,
}

/// The data and architecture of a `train` run, and the teacher if there is one.
fn problem_data(a: &TrainArgs) -> Result<(Architecture, Dataset, Option<Teacher>)> {
    if a.noise != 0.0 && a.teacher.is_none() {
        bail!("--noise adds noise to a teacher's targets: use it with --teacher");
    }
    match (&a.data, &a.teacher) {
        (Some(path), None) => {
            let Some(spec) = &a.arch else {
                bail!("--arch is required with --data (e.g. --arch 3-3-2)");
            };
            let arch = Architecture::parse(spec, a.output_activation)?;
            let ds = args::load_data(path, &a.targets, arch.n_outputs())?;
            Ok((arch, ds, None))
        }
        (None, Some(spec)) => {
            let tarch = Architecture::parse(spec, a.output_activation)?;
            let arch = match &a.arch {
                Some(s) => Architecture::parse(s, a.output_activation)?,
                None => tarch.clone(),
            };
            let t = args::teacher(&tarch, a.n, a.seed, a.noise)?;
            Ok((arch, t.data.clone(), Some(t)))
        }
        _ => bail!("give either --data FILE or --teacher ARCH"),
    }
}

pub fn run(a: TrainArgs, matches: &ArgMatches) -> Result<Outcome> {
    let method = methods::method(&a.method)?;
    args::refuse_foreign::<TrainArgs>(matches, &[method], &[]);
    let (arch, data, teacher) = problem_data(&a)?;
    let options = a.family.options(a.seed, &[method])?;
    let trainer = method.trainer(&options)?;
    let scaling = a
        .standardize
        .then(|| Scaling::fit(&data, trainer.target_scaling(arch.output)));
    let trained_on = match &scaling {
        Some(s) => s.apply(&data)?,
        None => data.clone(),
    };
    let problem = Problem::new(&trained_on, &arch)?;
    trainer.check(&problem)?;
    let start = a.start.start(
        matches,
        method,
        &arch,
        teacher.as_ref(),
        a.seed,
        scaling.is_some(),
    )?;
    eprintln!(
        "{}: {arch}, N = {}{}; start: {} ({})",
        method.name,
        data.n_samples(),
        if scaling.is_some() {
            ", standardised"
        } else {
            ""
        },
        start.label(),
        start.detail()
    );
    let limits = Limits {
        time_limit: a.limits.time_limit,
        interrupt: Some(interrupt::on_ctrl_c()),
    };
    let mut progress = Progress::new("");
    let run = methods::run(trainer.as_ref(), &problem, &start, &mut progress, &limits);
    progress.finish();
    let run = run?;
    tables::print_runs(&[&run]);
    if let Some(net) = &run.model {
        let columns = Columns {
            inputs: data.input_names.clone(),
            targets: data.target_names.clone(),
        };
        let model = Model::new(net.clone(), columns, scaling.clone())?;
        model.save(&a.model_out)?;
        wrote("model", &a.model_out);
        if scaling.is_some() {
            let e = model.evaluate(&data)?;
            eprintln!(
                "in the data's units: mse {:.6e}, output error {:.6e}, max |error| {:.6e}",
                e.mse, e.output_error, e.max_abs_error
            );
        }
    }
    let report = Report::new(
        method.name,
        ProblemInfo::new(&arch, &data, scaling.as_ref()),
        trainer.settings(),
        limits.time_limit,
        vec![run],
    );
    if let Some(p) = &a.report {
        report.save(p)?;
        wrote("report", p);
    }
    if let Some(p) = &a.plot {
        args::write_svg(&report.plot(), p)?;
    }
    conclude(&report.runs)
}

/// How a training command ends once its outputs are written: 130 after an interrupt; an error
/// after divergence, a failed solver, or exact training without a network (a proof of
/// infeasibility, or nothing found in time).
pub fn conclude(runs: &[Run]) -> Result<Outcome> {
    if runs
        .iter()
        .any(|r| r.outcome.stop_reason == Stop::Interrupted)
    {
        eprintln!("interrupted: the report and model hold the work done so far");
        return Ok(Outcome::Interrupted);
    }
    for run in runs {
        let o = &run.outcome;
        match o.stop_reason {
            Stop::Diverged => bail!(
                "the {} run diverged (non-finite loss): lower --lr",
                run.method
            ),
            Stop::SolverFailed => bail!(
                "the subproblem solver failed in the {} run ({}): see the report's status column",
                run.method,
                run.init
            ),
            Stop::TimeLimit => eprintln!(
                "the time limit stopped the {} run after {:.1} s; it kept the best it had",
                run.method, o.seconds
            ),
            _ => {}
        }
        if run.model.is_none() {
            match (&run.certificate, o.stop_reason) {
                (Some(cvxnn::methods::Certificate::Milp(c)), Stop::Infeasible) => {
                    bail!(
                        "no network of the class fits every target ({}): the MILP is infeasible, \
                         a proof",
                        c.class
                    )
                }
                (Some(cvxnn::methods::Certificate::Convex(_)), _) | (None, _)
                    if run.method == "convex" =>
                {
                    bail!(
                        "the convex solver stopped ({}) before every output was solved",
                        o.stop_reason
                    )
                }
                _ => bail!("no network found within the time limit; raise --time-limit"),
            }
        }
    }
    Ok(Outcome::Done)
}
