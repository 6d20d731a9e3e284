//! `cvxnn train`: any method of the table on a data file or a planted teacher, from flags or a
//! request file (flags override its keys); writes the model (with its columns and
//! standardisation), the report (with the request that reruns it) and the plot.

use super::args::{self, LimitArgs, MethodArgs, StartArgs};
use super::progress::Progress;
use super::{interrupt, tables, wrote, Outcome};
use anyhow::{bail, Result};
use clap::{ArgMatches, Args};
use cvxnn::methods::{self, Run};
use cvxnn::milp::MilpCertificate;
use cvxnn::net::Activation;
use cvxnn::report::Report;
use cvxnn::request::{self, Prepared, RunRequest};
use cvxnn::train::Stop;
use serde_json::{Map, Value};
use std::path::PathBuf;

#[derive(Args)]
#[allow(dead_code)] // the flags are read by id into the request (args::FLAGS)
pub struct TrainArgs {
    /// A run request (TOML or JSON; docs/requests.md, or the `request` of a report): the run
    /// it describes, with any flag given here written over its keys.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Print the request with every default filled in (JSON) and stop without training.
    #[arg(long)]
    print_request: bool,
    /// Training method.
    #[arg(long, default_value = "scr", value_parser = args::method_parser())]
    method: String,
    /// Data file: CSV (header optional) or .npy, one sample per row; or a bundled set (iris,
    /// wine, breast_cancer, diabetes).
    #[arg(long, conflicts_with = "teacher", required_unless_present_any = ["teacher", "config"])]
    data: Option<PathBuf>,
    /// Target columns by header name, comma-separated (default: the last n_y columns, n_y from
    /// --arch).
    #[arg(long, value_delimiter = ',')]
    targets: Option<Vec<String>>,
    /// The target column holds class labels: train on one ±1 column per class (one column for
    /// two classes, the larger value +1).
    #[arg(long)]
    labels: bool,
    /// One ±1 target: this class against the rest (implies --labels).
    #[arg(long, allow_hyphen_values = true)]
    positive_class: Option<f64>,
    /// Keep only the samples of these classes, e.g. 1,2 (implies --labels).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    keep_classes: Option<Vec<f64>>,
    /// Hold out this fraction of the samples (seeded by --split-seed, default --seed): the
    /// report gives the method's figures on them.
    #[arg(long)]
    test_fraction: Option<f64>,
    /// Seed of the held-out split.
    #[arg(long)]
    split_seed: Option<u64>,
    /// Train on a planted teacher of this architecture instead of a file, e.g. 3-3-2.
    #[arg(long)]
    teacher: Option<String>,
    /// Number of teacher samples.
    #[arg(long, default_value_t = 30)]
    n: usize,
    /// Teacher seed; also seeds the start, the mini-batch order, sampled gates and HiGHS.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Standard deviation of Gaussian noise added to the teacher's targets (seeded by --seed).
    #[arg(long, default_value_t = 0.0)]
    noise: f64,
    /// Architecture to train, e.g. 3-3-2 (default: a linear model's own, else the teacher's).
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

/// The request of `train`'s command line: the request file's keys (if any), then every flag
/// given written over them.
pub fn request(a: &TrainArgs, m: &ArgMatches) -> Result<RunRequest> {
    let mut value = match &a.config {
        Some(path) => args::load_config(path)?,
        None => Value::Object(Map::new()),
    };
    let mut own = Map::new();
    let set = |own: &mut Map<String, Value>, key: &str, v: Value| request::set_key(own, key, v);
    if args::given(m, "method") || a.config.is_none() {
        set(&mut own, "method", a.method.clone().into());
    }
    // the data: a file or a teacher on the command line replaces the request file's
    if a.data.is_some() || a.teacher.is_some() {
        if let Value::Object(map) = &mut value {
            map.remove("data");
        }
    }
    if let Some(path) = &a.data {
        set(&mut own, "data.file", path.display().to_string().into());
    }
    if let Some(t) = &a.teacher {
        set(&mut own, "data.teacher", t.clone().into());
    }
    if let Some(t) = &a.targets {
        set(&mut own, "data.targets", t.clone().into());
    }
    if a.labels {
        set(&mut own, "data.classes", true.into());
    }
    if let Some(p) = a.positive_class {
        set(&mut own, "data.positive_class", p.into());
    }
    if let Some(k) = &a.keep_classes {
        set(&mut own, "data.keep_classes", k.clone().into());
    }
    if let Some(f) = a.test_fraction {
        set(&mut own, "data.test_fraction", f.into());
    }
    if let Some(s) = a.split_seed {
        set(&mut own, "data.split_seed", s.into());
    }
    for (id, key) in [("n", "data.n"), ("seed", "seed")] {
        if args::given(m, id) {
            let v: u64 = if id == "n" { a.n as u64 } else { a.seed };
            set(&mut own, key, v.into());
        }
    }
    if args::given(m, "noise") {
        if a.teacher.is_none() && a.config.is_none() {
            bail!("--noise adds noise to a teacher's targets: use it with --teacher");
        }
        set(&mut own, "data.noise", a.noise.into());
    }
    if let Some(spec) = &a.arch {
        set(&mut own, "arch", spec.clone().into());
    }
    if args::given(m, "output_activation") {
        set(&mut own, "output", a.output_activation.to_string().into());
    }
    if a.standardize {
        set(&mut own, "standardize", true.into());
    }
    request::overlay(&mut value, Value::Object(own));
    // the method is known now: the flags of its groups
    let name = value
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("scr")
        .to_string();
    let method = methods::method(&name)?;
    args::refuse_foreign::<TrainArgs>(m, &[method], &[]);
    let flags = args::keys_of_flags(m, &|g| method.reads(g), &[])?;
    request::overlay(&mut value, Value::Object(flags));
    Ok(RunRequest::from_value(value)?)
}

pub fn run(a: TrainArgs, matches: &ArgMatches) -> Result<Outcome> {
    let request = request(&a, matches)?;
    let prepared = request.prepare(None)?;
    if a.print_request {
        println!(
            "{}",
            serde_json::to_string_pretty(&prepared.request.to_value())?
        );
        return Ok(Outcome::Done);
    }
    describe(&prepared);
    let interrupt = interrupt::on_ctrl_c();
    let mut progress = Progress::new("");
    let trained = prepared.run(&mut progress, Some(interrupt));
    progress.finish();
    let trained = trained?;
    tables::print_runs(&[&trained.run]);
    if let Some(model) = &trained.model {
        model.save(&a.model_out)?;
        wrote("model", &a.model_out);
        if !model.link.is_identity() {
            let e = model.evaluate(&prepared.data)?;
            eprintln!(
                "class probabilities: cross-entropy {:.6e}, accuracy {:.4}",
                e.cross_entropy.unwrap_or(f64::NAN),
                e.accuracy.unwrap_or(f64::NAN)
            );
        } else if model.scaling.is_some() {
            let e = model.evaluate(&prepared.data)?;
            eprintln!(
                "in the data's units: mse {:.6e}, output error {:.6e}, max |error| {:.6e}",
                e.mse, e.output_error, e.max_abs_error
            );
        }
    }
    let report = Report::new(&prepared, vec![trained]);
    if let Some(p) = &a.report {
        report.save(p)?;
        wrote("report", p);
    }
    if let Some(p) = &a.plot {
        args::write_svg(&report.plot(), p)?;
    }
    let runs: Vec<&Run> = report.runs.iter().map(|r| &r.run).collect();
    conclude(&runs)
}

/// The lines before a run: the data (for a file, which columns became targets) and the start.
pub fn describe(p: &Prepared) {
    let r = &p.request;
    if let request::DataSource::File { file, targets } = &r.data.source {
        let how = match targets {
            Some(_) => "named by --targets".to_string(),
            None => format!("the last {} column(s)", p.arch.n_outputs()),
        };
        eprintln!(
            "data: {file} ({} samples); targets: {} ({how}); inputs: {}",
            p.data.n_samples(),
            p.data.target_names.join(", "),
            p.data.input_names.join(", ")
        );
    }
    eprintln!(
        "{}: {}, N = {}{}; start: {} ({})",
        p.method.name,
        p.arch,
        p.data.n_samples(),
        if p.scaling.is_some() {
            ", standardised"
        } else {
            ""
        },
        p.start.label(),
        p.start.detail()
    );
}

/// How a training command ends once its outputs are written: 130 after an interrupt; an error
/// after divergence, a failed solver, or exact training without a network (a proof of
/// infeasibility, or nothing found in time).
pub fn conclude(runs: &[&Run]) -> Result<Outcome> {
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
            match (run.certificate_as::<MilpCertificate>(), o.stop_reason) {
                (Some(c), Stop::Infeasible) => {
                    bail!(
                        "no network of the class fits every target ({}): the MILP is infeasible, \
                         a proof",
                        c.class
                    )
                }
                _ if run.method == "convex" => bail!(
                    "the convex solver stopped ({}) before every output was solved",
                    o.stop_reason
                ),
                _ => bail!("no network found within the time limit; raise --time-limit"),
            }
        }
    }
    Ok(Outcome::Done)
}
