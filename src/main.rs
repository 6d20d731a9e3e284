//! `cvxnn` command line: a thin shell over the library.

mod cli;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use cvxnn::data::{self, Dataset, Targets};
use cvxnn::gradient::{self, GradRecord, GradRun, GradSettings, InitScheme, Optimizer};
use cvxnn::net::{Activation, Architecture, Mlp};
use cvxnn::report::{GradReport, GradRunReport, ProblemInfo, Report};
use cvxnn::scr::{self, Init, IterationRecord, ScrProblem, ScrRun, ScrSettings, SubproblemSolver};
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(
    name = "cvxnn",
    version,
    about = "Train neural networks as mathematical programs (sequential convex relaxation, …)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Reproduce the seed experiment: SCR on a planted 3-3-2 ReLU teacher, N = 30, from the
    /// perturbed, random and zero starts; prints a table, writes a JSON report and an SVG plot.
    Demo(DemoArgs),
    /// Train a network on a data file or a planted teacher, write the model and a report.
    Train(TrainArgs),
    /// Run several methods on the same problems (K seeded teachers, or a data file) from several
    /// random starts; print success rates and medians per method, write the rows (JSON) and a plot.
    Compare(CompareArgs),
    /// Fit a convex model, with scikit-learn's objective scaling: ridge, lasso, elastic net,
    /// logistic regression (binary or softmax) or the linear SVM, by interior point (Clarabel,
    /// the default) or the first-order path (--solver first-order).
    Glm(cli::glm::GlmArgs),
    /// A layer of threshold units by linear programming (seed 001), one LP per output node: a
    /// separating hyperplane, or a Farkas certificate that none exists; and the robust LP of
    /// Bennett & Mangasarian (1992).
    Perceptron(cli::perceptron::PerceptronArgs),
    /// Evaluate a saved model on a data file.
    Eval(EvalArgs),
    /// Generate data.
    #[command(subcommand)]
    Generate(GenerateCmd),
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum BackendKind {
    /// First-order ADMM, pure Rust (default).
    Admm,
    /// Interior point with Clarabel (needs the `sdp` feature).
    Ipm,
}

#[derive(Args, Clone)]
struct ScrArgs {
    /// Subproblem solver.
    #[arg(long, value_enum, default_value = "admm")]
    backend: BackendKind,
    /// ADMM tolerance on the primal and dual residuals (absolute and relative).
    #[arg(long, default_value_t = 1e-9)]
    admm_tol: f64,
    /// ADMM iteration cap per subproblem.
    #[arg(long, default_value_t = 20_000)]
    admm_max_iter: usize,
    /// ADMM worker threads (default: all cores); the answer does not depend on it.
    #[arg(long)]
    admm_threads: Option<usize>,
    /// Solve every ADMM subproblem to --admm-tol (default: inexact SCR, a looser tolerance while
    /// the violations are large and decreasing).
    #[arg(long)]
    admm_exact: bool,
    /// Weight λ of the product term ‖M_k‖_* of each hidden layer: one value, or one per hidden
    /// layer, comma-separated (e.g. 1,10).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1",
        allow_hyphen_values = true
    )]
    lambda: Vec<f64>,
    /// Weight μ of each complementarity term ‖m‖_*: one value, or one per hidden layer.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1",
        allow_hyphen_values = true
    )]
    mu: Vec<f64>,
    /// Maximum number of SCR iterations.
    #[arg(long, default_value_t = 50)]
    max_iter: usize,
    /// Stop when both violations (Frobenius norms) are at most this.
    #[arg(long, default_value_t = 1e-6)]
    tol: f64,
    /// Also stop when the relative output error ‖Y − f(X)‖_F/‖Y‖_F is at most this.
    #[arg(long)]
    output_tol: Option<f64>,
    /// Extrapolation β: next parameters from x_k + β(x_k − x_{k−1}) (0 = as published).
    #[arg(long, default_value_t = 0.0)]
    extrapolation: f64,
    /// Print the subproblem solver's progress: the interior-point log, or ADMM's residuals and
    /// penalties every 10 iterations.
    #[arg(long)]
    solver_verbose: bool,
}

impl ScrArgs {
    fn settings(&self) -> ScrSettings {
        ScrSettings {
            lambda: self.lambda.clone(),
            mu: self.mu.clone(),
            max_iter: self.max_iter,
            tol: self.tol,
            output_tol: self.output_tol,
            extrapolation: self.extrapolation,
        }
    }
}

#[derive(Args)]
struct DemoArgs {
    /// Teacher architecture (widths, e.g. 3-3-2 or 4-8-8-1 for two hidden layers).
    #[arg(long, default_value = "3-3-2")]
    arch: String,
    /// Number of samples.
    #[arg(long, default_value_t = 30)]
    n: usize,
    /// Teacher seed (weights and inputs).
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
    /// Where to write the JSON report.
    #[arg(long, default_value = "demo_report.json")]
    report: PathBuf,
    /// Where to write the SVG plot of the violations per iteration.
    #[arg(long, default_value = "demo_violations.svg")]
    plot: PathBuf,
    #[command(flatten)]
    scr: ScrArgs,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum DemoInit {
    Perturbed,
    Random,
    Zero,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum Method {
    /// Sequential convex relaxation (docs/scr-method.md).
    Scr,
    /// Full-batch gradient descent.
    Gd,
    /// Mini-batch SGD with momentum.
    Sgd,
    /// Adam (full batch unless --batch).
    Adam,
    /// L-BFGS with a strong-Wolfe line search.
    Lbfgs,
    /// Levenberg–Marquardt (nonlinear least squares; small networks).
    Lm,
    /// SCR, then L-BFGS from SCR's network.
    #[value(name = "scr+lbfgs")]
    ScrLbfgs,
    /// Exact training by mixed-integer programming with a certificate (feature `milp`; one
    /// hidden layer, one output).
    Milp,
}

impl Method {
    fn gradient(self) -> Option<GradMethod> {
        match self {
            Method::Scr | Method::Milp => None,
            Method::Gd => Some(GradMethod::Gd),
            Method::Sgd => Some(GradMethod::Sgd),
            Method::Adam => Some(GradMethod::Adam),
            Method::Lbfgs | Method::ScrLbfgs => Some(GradMethod::Lbfgs),
            Method::Lm => Some(GradMethod::Lm),
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum GradMethod {
    Gd,
    Sgd,
    Adam,
    Lbfgs,
    Lm,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum SchemeArg {
    /// N(0, 2/n_in) weights, zero biases.
    He,
    /// N(0, 2/(n_in + n_out)) weights, zero biases.
    Glorot,
}

#[derive(Args, Clone)]
struct GradArgs {
    /// Iteration cap of the gradient method [default: gd 20000, sgd 5000, adam 5000, lbfgs 2000,
    /// lm 500].
    #[arg(long)]
    steps: Option<usize>,
    /// Learning rate [default: gd 0.1, sgd 0.01, adam 0.01].
    #[arg(long, allow_hyphen_values = true)]
    lr: Option<f64>,
    /// SGD momentum.
    #[arg(long, default_value_t = 0.9)]
    momentum: f64,
    /// Mini-batch size [default: sgd 32; adam full batch].
    #[arg(long)]
    batch: Option<usize>,
    /// Adam β₁.
    #[arg(long, default_value_t = 0.9)]
    beta1: f64,
    /// Adam β₂.
    #[arg(long, default_value_t = 0.999)]
    beta2: f64,
    /// Adam ε.
    #[arg(long, default_value_t = 1e-8)]
    adam_eps: f64,
    /// L-BFGS memory (correction pairs).
    #[arg(long, default_value_t = 10)]
    memory: usize,
    /// Stop when the gradient norm is at most this.
    #[arg(long, default_value_t = 1e-12)]
    grad_tol: f64,
    /// Weight initialisation of --init random for gradient methods.
    #[arg(long, value_enum, default_value = "he")]
    init_scheme: SchemeArg,
    /// Seed of the mini-batch order (default: --seed).
    #[arg(long)]
    batch_seed: Option<u64>,
}

impl GradArgs {
    /// Settings of a gradient method; `output_tol` stops on the output error (default 1e-9).
    fn settings(&self, m: GradMethod, output_tol: Option<f64>, seed: u64) -> GradSettings {
        let lr = |d: f64| self.lr.unwrap_or(d);
        let (optimizer, steps) = match m {
            GradMethod::Gd => (Optimizer::Gd { lr: lr(0.1) }, 20_000),
            GradMethod::Sgd => (
                Optimizer::Sgd {
                    lr: lr(0.01),
                    momentum: self.momentum,
                    batch: self.batch.unwrap_or(32),
                },
                5_000,
            ),
            GradMethod::Adam => (
                Optimizer::Adam {
                    lr: lr(0.01),
                    beta1: self.beta1,
                    beta2: self.beta2,
                    eps: self.adam_eps,
                    batch: self.batch,
                },
                5_000,
            ),
            GradMethod::Lbfgs => (
                Optimizer::Lbfgs {
                    memory: self.memory,
                },
                2_000,
            ),
            GradMethod::Lm => (Optimizer::Lm, 500),
        };
        GradSettings {
            optimizer,
            max_iter: self.steps.unwrap_or(steps),
            output_tol: output_tol.unwrap_or(1e-9),
            grad_tol: self.grad_tol,
            seed: self.batch_seed.unwrap_or(seed),
            record_every: 0,
        }
    }

    fn scheme(&self) -> InitScheme {
        match self.init_scheme {
            SchemeArg::He => InitScheme::He,
            SchemeArg::Glorot => InitScheme::Glorot,
        }
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum InitKind {
    /// Minus the lifted point of the teacher with N(0, σ²) noise on its weights (needs --teacher).
    Perturbed,
    /// Gaussian parameters (seeded by --init-seed).
    Random,
    /// All parameters zero.
    Zero,
    /// Minus the lifted point of a saved model (--init-model).
    Model,
}

#[derive(Args)]
struct TrainArgs {
    /// Training method.
    #[arg(long, value_enum, default_value = "scr")]
    method: Method,
    /// Data file: CSV (header optional) or .npy, one sample per row.
    #[arg(long, conflicts_with = "teacher", required_unless_present = "teacher")]
    data: Option<PathBuf>,
    /// Target columns by header name, comma-separated (default: the last n_y columns).
    #[arg(long, value_delimiter = ',')]
    targets: Option<Vec<String>>,
    /// Train on a planted teacher of this architecture instead of a file, e.g. 3-3-2.
    #[arg(long)]
    teacher: Option<String>,
    /// Number of teacher samples.
    #[arg(long, default_value_t = 30)]
    n: usize,
    /// Teacher seed.
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
    /// Start: of the SCR parameters (SCR, scr+lbfgs), or of the network (gradient methods:
    /// random = --init-scheme, seeded by --init-seed).
    #[arg(long, value_enum, default_value = "random")]
    init: InitKind,
    /// Seed of the random start and of the teacher perturbation (default: --seed).
    #[arg(long)]
    init_seed: Option<u64>,
    /// Perturbation σ for --init perturbed.
    #[arg(long, default_value_t = 0.05)]
    sigma: f64,
    /// Saved model for --init model.
    #[arg(long)]
    init_model: Option<PathBuf>,
    /// Where to write the trained model (JSON).
    #[arg(long, default_value = "model.json")]
    model_out: PathBuf,
    /// Where to write the JSON report.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Where to write the SVG plot of the violations.
    #[arg(long)]
    plot: Option<PathBuf>,
    #[command(flatten)]
    scr: ScrArgs,
    #[command(flatten)]
    grad: GradArgs,
    #[command(flatten)]
    milp: cli::milp::MilpArgs,
}

#[derive(Args)]
struct CompareArgs {
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
    /// First teacher seed, and the base of the start seeds.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Random starts per problem (every method gets the same start seeds).
    #[arg(long, default_value_t = 1)]
    starts: usize,
    /// Attempts per start: each row reports the best of this many (lowest final loss), and its
    /// time is their sum. Applies to every method alike.
    #[arg(long, default_value_t = 1)]
    restarts: usize,
    /// SCR's start: Gaussian parameters, minus the lifted point of a He-initialised network
    /// (the gradient methods' start), or alternating between the two over the restarts.
    #[arg(long, value_enum, default_value = "params")]
    scr_start: ScrStartArg,
    /// Methods, comma-separated: scr, gd, sgd, adam, lbfgs, lm, scr+lbfgs.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "adam,lbfgs,lm,scr,scr+lbfgs"
    )]
    methods: Vec<Method>,
    /// Runs in parallel [default: all cores].
    #[arg(long)]
    jobs: Option<usize>,
    /// Where to write the rows and the summary (JSON).
    #[arg(long, default_value = "compare.json")]
    json: PathBuf,
    /// Where to write the plot of the final output errors (SVG).
    #[arg(long, default_value = "compare.svg")]
    plot: PathBuf,
    /// Also train each problem exactly (MILP, feature `milp`; d-K-1 networks with a linear
    /// output) and compare every run's L1 loss with the certified optimum of the class
    /// |v_k|·max(‖w_k‖_∞, |b_k|) ≤ --weight-bound.
    #[arg(long)]
    global_optimum: bool,
    /// --global-optimum: the class's weight bound B.
    #[arg(long, default_value_t = 10.0)]
    weight_bound: f64,
    /// --global-optimum: the MILP's time limit per problem, in seconds.
    #[arg(long, default_value_t = 60.0)]
    time_limit: f64,
    #[command(flatten)]
    scr: ScrArgs,
    #[command(flatten)]
    grad: GradArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum ScrStartArg {
    Params,
    Network,
    Alternate,
}

#[derive(Args)]
struct EvalArgs {
    /// Model written by `cvxnn train`.
    #[arg(long)]
    model: PathBuf,
    /// Data file (CSV or .npy).
    #[arg(long)]
    data: PathBuf,
    /// Target columns by header name (default: the last n_y columns).
    #[arg(long, value_delimiter = ',')]
    targets: Option<Vec<String>>,
    /// Print the metrics as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum GenerateCmd {
    /// A planted teacher: Gaussian weights and inputs, targets f(X); writes a CSV.
    Teacher {
        /// Architecture, e.g. 3-3-2.
        #[arg(long)]
        arch: String,
        /// Output activation: linear or relu.
        #[arg(long, default_value = "linear")]
        output_activation: Activation,
        /// Number of samples.
        #[arg(long, default_value_t = 30)]
        n: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// CSV to write (header x1…, y1…).
        #[arg(long)]
        out: PathBuf,
        /// Also write the teacher network (JSON).
        #[arg(long)]
        model_out: Option<PathBuf>,
    },
    /// Blum & Rivest's training set for a seeded set-splitting instance (seed 001): the origin
    /// and one point per set positive, the unit vectors negative. A 3-node threshold network (two
    /// units, AND) classifies it iff the sets can be split; up to 24 elements the answer is
    /// found by brute force and printed.
    BlumRivest {
        /// Number of elements (the input dimension), 2 to 64.
        #[arg(long, default_value_t = 12)]
        elements: usize,
        /// Number of sets.
        #[arg(long, default_value_t = 20)]
        sets: usize,
        /// Elements per set.
        #[arg(long, default_value_t = 3)]
        set_size: usize,
        /// Keep only sets that a hidden random colouring splits (the instance is satisfiable).
        #[arg(long)]
        planted: bool,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// CSV to write (header e0…, label).
        #[arg(long)]
        out: PathBuf,
        /// Also write the instance (elements, sets, and the brute-force answer) as JSON.
        #[arg(long)]
        instance_out: Option<PathBuf>,
    },
    /// All points of {0, 1}^bits with their parity (XOR for 2 bits); writes a CSV.
    Parity {
        #[arg(long, default_value_t = 2)]
        bits: usize,
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(a) => demo(a),
        Command::Train(a) => train(a),
        Command::Compare(a) => compare(a),
        Command::Glm(a) => cli::glm::run(a),
        Command::Perceptron(a) => cli::perceptron::run(a),
        Command::Eval(a) => eval(a),
        Command::Generate(g) => generate(g),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

/// The chosen subproblem solver, or a plain message that this build lacks it.
fn backend(args: &ScrArgs) -> Result<Box<dyn SubproblemSolver>> {
    match args.backend {
        BackendKind::Admm => {
            if !(args.admm_tol.is_finite() && args.admm_tol > 0.0) || args.admm_max_iter == 0 {
                bail!("--admm-tol must be positive and --admm-max-iter at least 1");
            }
            let mut b = scr::AdmmBackend::with_tolerance(args.admm_tol, args.admm_max_iter);
            b.adaptive = !args.admm_exact;
            b.verbose = args.solver_verbose;
            match args.admm_threads {
                Some(0) => bail!("--admm-threads must be at least 1"),
                Some(t) => b.threads = t,
                None => {}
            }
            Ok(Box::new(b))
        }
        #[cfg(feature = "sdp")]
        BackendKind::Ipm => Ok(Box::new(scr::ClarabelBackend {
            verbose: args.solver_verbose,
            ..Default::default()
        })),
        #[cfg(not(feature = "sdp"))]
        BackendKind::Ipm => Err(cvxnn::Error::Unavailable(
            "the interior-point backend is not in this build: install Debian's libopenblas-dev \
             and build with `--features sdp`, or use --backend admm"
                .into(),
        )
        .into()),
    }
}

/// Runs SCR with a progress bar on stderr (shown only on a terminal).
fn run_with_progress(
    problem: &ScrProblem,
    init: &Init,
    settings: &ScrSettings,
    backend: &mut dyn SubproblemSolver,
) -> Result<ScrRun> {
    let bar = ProgressBar::new(settings.max_iter as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>10} [{elapsed_precise}] {bar:30} {pos:>3}/{len} {msg}",
        )
        .expect("valid template"),
    );
    bar.set_prefix(init.label());
    // keep the elapsed time moving while one long subproblem runs
    bar.enable_steady_tick(std::time::Duration::from_millis(500));
    let mut observe = |r: &IterationRecord| {
        bar.inc(1);
        bar.set_message(format!(
            "prod {:.1e}  comp {:.1e}  out {:.1e}  ({:.2} s/it)",
            r.product_violation, r.complementarity_violation, r.output_error, r.seconds
        ));
    };
    let run = scr::run(problem, init, settings, backend, &mut observe);
    bar.finish_and_clear();
    Ok(run?)
}

fn print_table(runs: &[ScrRun]) {
    println!(
        "{:<10} {:>5} {:>16} {:>12} {:>12} {:>12} {:>10} {:>9}",
        "init", "iters", "stop", "product", "complement", "output err", "mse", "s/iter"
    );
    for r in runs {
        let s = &r.summary;
        let stop = cvxnn::compare::stop_name(&s.stop_reason);
        println!(
            "{:<10} {:>5} {:>16} {:>12.3e} {:>12.3e} {:>12.3e} {:>10.3e} {:>9.3}",
            r.init,
            s.iterations,
            stop,
            s.product_violation,
            s.complementarity_violation,
            s.output_error,
            s.mse,
            s.seconds / s.iterations.max(1) as f64
        );
    }
}

fn write_outputs(report: &Report, json: Option<&Path>, svg: Option<&Path>) -> Result<()> {
    if let Some(p) = json {
        report.save(p)?;
        eprintln!("report written to {}", p.display());
    }
    if let Some(p) = svg {
        std::fs::write(p, report.violations_svg()).with_context(|| format!("{}", p.display()))?;
        eprintln!("plot written to {}", p.display());
    }
    Ok(())
}

fn any_failed(runs: &[ScrRun]) -> Result<()> {
    let failed: Vec<&str> = runs
        .iter()
        .filter(|r| r.summary.stop_reason == scr::StopReason::SolverFailed)
        .map(|r| r.init.as_str())
        .collect();
    if !failed.is_empty() {
        bail!(
            "the subproblem solver failed in the run(s) {}: see the report's status column",
            failed.join(", ")
        );
    }
    Ok(())
}

/// The perturbed start: the teacher with N(0, σ²) noise on every weight (noise seed `seed + 1000`).
fn perturbed_teacher(teacher: &Mlp, sigma: f64, seed: u64) -> Result<Init> {
    if !(sigma.is_finite() && sigma >= 0.0) {
        bail!("--sigma must be nonnegative and finite, got {sigma}");
    }
    let noise_seed = seed.wrapping_add(1000);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(noise_seed);
    Ok(Init::Model {
        model: teacher.perturbed(sigma, &mut rng),
        label: "perturbed".into(),
        detail: format!(
            "the teacher with N(0, {sigma}²) noise on its weights, noise seed {noise_seed}"
        ),
    })
}

fn demo(a: DemoArgs) -> Result<()> {
    let settings = a.scr.settings();
    settings.validate()?;
    let mut backend = backend(&a.scr)?;
    let arch = Architecture::parse(&a.arch, a.output_activation)?;
    let teacher = data::planted_teacher(&arch, a.n, a.seed)?;
    let problem = ScrProblem::new(&teacher.data.x, &teacher.data.y, &arch)?;
    let inits = a
        .inits
        .iter()
        .map(|init| {
            Ok(match init {
                DemoInit::Perturbed => perturbed_teacher(&teacher.model, a.sigma, a.seed)?,
                DemoInit::Random => Init::Random { seed: a.seed },
                DemoInit::Zero => Init::Zero,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    println!(
        "SCR demo: teacher {arch}, N = {}, seed {}, λ = {}, μ = {}, tol {:.0e}, at most {} iterations, backend {}",
        a.n,
        a.seed,
        list(&settings.lambda),
        list(&settings.mu),
        settings.tol,
        settings.max_iter,
        backend.name()
    );
    let mut runs = Vec::new();
    for init in &inits {
        runs.push(run_with_progress(
            &problem,
            init,
            &settings,
            backend.as_mut(),
        )?);
    }
    print_table(&runs);
    let report = Report::new(
        ProblemInfo {
            architecture: arch.spec(),
            output_activation: arch.output.to_string(),
            n_samples: a.n,
            data: teacher.data.source.clone(),
        },
        settings,
        &runs,
    );
    write_outputs(&report, Some(&a.report), Some(&a.plot))?;
    any_failed(&runs)
}

/// `1,10` for a list of weights.
fn list(v: &[f64]) -> String {
    v.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn targets_for(names: &Option<Vec<String>>, n_outputs: usize) -> Targets {
    match names {
        Some(n) => Targets::Names(n.clone()),
        None => Targets::Last(n_outputs),
    }
}

fn train(a: TrainArgs) -> Result<()> {
    let settings = a.scr.settings();
    if a.method == Method::Scr || a.method == Method::ScrLbfgs {
        settings.validate()?;
    }
    let (arch, dataset, teacher) = match (&a.data, &a.teacher) {
        (Some(path), None) => {
            let Some(spec) = &a.arch else {
                bail!("--arch is required with --data (e.g. --arch 3-3-2)");
            };
            let arch = Architecture::parse(spec, a.output_activation)?;
            let ds = Dataset::load(path, &targets_for(&a.targets, arch.n_outputs()))?;
            (arch, ds, None)
        }
        (None, Some(spec)) => {
            let tarch = Architecture::parse(spec, a.output_activation)?;
            let arch = match &a.arch {
                Some(s) => Architecture::parse(s, a.output_activation)?,
                None => tarch.clone(),
            };
            let mut t = data::planted_teacher(&tarch, a.n, a.seed)?;
            t.data = data::with_label_noise(&t.data, a.noise, a.seed)?;
            (arch, t.data.clone(), Some(t))
        }
        _ => bail!("give either --data FILE or --teacher ARCH"),
    };
    if a.noise != 0.0 && a.teacher.is_none() {
        bail!("--noise adds noise to a teacher's targets: use it with --teacher");
    }
    if a.method == Method::Milp {
        return cli::milp::run(
            &a.milp,
            &dataset,
            &arch,
            a.seed,
            &a.model_out,
            a.report.as_deref(),
        );
    }
    let init_seed = a.init_seed.unwrap_or(a.seed);
    let init = match a.init {
        InitKind::Zero => Init::Zero,
        InitKind::Random => Init::Random { seed: init_seed },
        InitKind::Perturbed => {
            let Some(t) = &teacher else {
                bail!("--init perturbed needs a known teacher: use --teacher, or --init model with --init-model");
            };
            if t.model.arch.widths != arch.widths {
                bail!("--init perturbed needs --arch equal to the teacher's");
            }
            perturbed_teacher(&t.model, a.sigma, init_seed)?
        }
        InitKind::Model => {
            let Some(p) = &a.init_model else {
                bail!("--init model needs --init-model PATH");
            };
            let model = Mlp::load(p)?;
            if model.arch != arch {
                bail!(
                    "--init-model {} is a {} network, training a {arch}",
                    p.display(),
                    model.arch
                );
            }
            Init::Model {
                model,
                label: "model".into(),
                detail: format!("the model in {}", p.display()),
            }
        }
    };
    let problem_info = ProblemInfo {
        architecture: arch.spec(),
        output_activation: arch.output.to_string(),
        n_samples: dataset.n_samples(),
        data: dataset.source.clone(),
    };
    let Some(gm) = a.method.gradient() else {
        let problem = ScrProblem::new(&dataset.x, &dataset.y, &arch)?;
        let mut backend = backend(&a.scr)?;
        let run = run_with_progress(&problem, &init, &settings, backend.as_mut())?;
        print_table(std::slice::from_ref(&run));
        run.model.save(&a.model_out)?;
        eprintln!("model written to {}", a.model_out.display());
        let report = Report::new(problem_info, settings, std::slice::from_ref(&run));
        write_outputs(&report, a.report.as_deref(), a.plot.as_deref())?;
        return any_failed(std::slice::from_ref(&run));
    };
    let gsettings = a.grad.settings(gm, a.scr.output_tol, a.seed);
    gsettings.validate()?;
    // the gradient method's start: SCR's answer, or a network
    let (scr_run, start) = if a.method == Method::ScrLbfgs {
        let problem = ScrProblem::new(&dataset.x, &dataset.y, &arch)?;
        let mut backend = backend(&a.scr)?;
        let run = run_with_progress(&problem, &init, &settings, backend.as_mut())?;
        print_table(std::slice::from_ref(&run));
        any_failed(std::slice::from_ref(&run))?;
        let m = run.model.clone();
        (Some(run), m)
    } else {
        let m = match &init {
            Init::Zero => Mlp::zeros(&arch),
            Init::Random { seed } => gradient::init_model(&arch, a.grad.scheme(), *seed),
            Init::Model { model, .. } => model.clone(),
        };
        (None, m)
    };
    let (label, detail) = match (&init, &scr_run) {
        (Init::Random { seed }, None) => (
            "random".to_string(),
            format!("{:?} initialisation, seed {seed}", a.grad.scheme()),
        ),
        (Init::Zero, None) => ("zero".into(), "all parameters zero".into()),
        _ => (init.label(), init.detail()),
    };
    let run = grad_with_progress(&dataset, &start, &gsettings, &label)?;
    print_grad_table(&[(label.clone(), &run)]);
    run.model.save(&a.model_out)?;
    eprintln!("model written to {}", a.model_out.display());
    let method = if a.method == Method::ScrLbfgs {
        "scr+lbfgs"
    } else {
        gsettings.optimizer.name()
    };
    let report = GradReport::new(
        method,
        problem_info,
        gsettings,
        scr_run.as_ref().map(|_| settings.clone()),
        vec![GradRunReport::new(label, detail, scr_run.as_ref(), &run)],
    );
    if let Some(p) = &a.report {
        report.save(p)?;
        eprintln!("report written to {}", p.display());
    }
    if let Some(p) = &a.plot {
        std::fs::write(p, report.loss_svg()).with_context(|| format!("{}", p.display()))?;
        eprintln!("plot written to {}", p.display());
    }
    if run.summary.stop_reason == gradient::GradStop::Diverged {
        bail!("the {method} run diverged (non-finite loss): lower --lr");
    }
    Ok(())
}

/// Runs a gradient method with a progress bar on stderr (shown only on a terminal).
fn grad_with_progress(
    ds: &Dataset,
    start: &Mlp,
    settings: &GradSettings,
    label: &str,
) -> Result<GradRun> {
    let bar = ProgressBar::new(settings.max_iter as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>10} [{elapsed_precise}] {bar:30} {pos:>6}/{len} {msg}",
        )
        .expect("valid template"),
    );
    bar.set_prefix(format!("{} {label}", settings.optimizer.name()));
    bar.enable_steady_tick(std::time::Duration::from_millis(500));
    let mut observe = |r: &GradRecord| {
        bar.set_position(r.iteration as u64);
        bar.set_message(format!(
            "loss {:.2e}  out {:.2e}  |g| {:.1e}",
            r.loss, r.output_error, r.grad_norm
        ));
    };
    let run = gradient::train(&ds.x, &ds.y, start, settings, &mut observe);
    bar.finish_and_clear();
    Ok(run?)
}

fn print_grad_table(runs: &[(String, &GradRun)]) {
    println!(
        "{:<10} {:<7} {:>7} {:>7} {:>20} {:>12} {:>12} {:>10} {:>9}",
        "init", "method", "iters", "evals", "stop", "loss (mse)", "output err", "|grad|", "seconds"
    );
    for (init, r) in runs {
        let s = &r.summary;
        let stop = cvxnn::compare::stop_name(&s.stop_reason);
        println!(
            "{:<10} {:<7} {:>7} {:>7} {:>20} {:>12.3e} {:>12.3e} {:>10.2e} {:>9.3}",
            init,
            r.method,
            s.iterations,
            s.evaluations,
            stop,
            s.loss,
            s.output_error,
            s.grad_norm,
            s.seconds
        );
    }
}

fn compare(a: CompareArgs) -> Result<()> {
    use cvxnn::compare::{self, MethodSpec, Problem};
    let arch = Architecture::parse(&a.arch, a.output_activation)?;
    let scr_settings = a.scr.settings();
    scr_settings.validate()?;
    if a.starts == 0 || a.restarts == 0 || a.teachers == Some(0) {
        bail!("--teachers, --starts and --restarts must be at least 1");
    }
    let plan = compare::RunPlan {
        restarts: a.restarts,
        scr_start: match a.scr_start {
            ScrStartArg::Params => compare::ScrStart::Params,
            ScrStartArg::Network => compare::ScrStart::Network,
            ScrStartArg::Alternate => compare::ScrStart::Alternate,
        },
    };
    if a.jobs == Some(0) {
        bail!("--jobs must be at least 1");
    }
    if a.methods.is_empty() {
        bail!("--methods: give at least one method");
    }
    backend(&a.scr)?; // fail early on an unavailable backend
    if a.global_optimum {
        cli::milp::check_global(&arch, a.weight_bound, a.time_limit)?;
    }
    let mut methods = Vec::new();
    for &m in &a.methods {
        let name = m
            .to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default();
        if methods.iter().any(|x: &compare::Method| x.name == name) {
            bail!("--methods lists {name} twice");
        }
        let spec = match (m, m.gradient()) {
            (Method::Scr, _) => MethodSpec::Scr(scr_settings.clone()),
            (Method::ScrLbfgs, Some(g)) => MethodSpec::ScrThen(
                scr_settings.clone(),
                a.grad.settings(g, a.scr.output_tol, a.seed),
            ),
            (_, Some(g)) => MethodSpec::Grad(a.grad.settings(g, a.scr.output_tol, a.seed)),
            (Method::Milp, None) => bail!(
                "--methods milp: exact training is one run per problem, not per start; use --global-optimum"
            ),
            (_, None) => unreachable!("only SCR and the MILP have no gradient stage"),
        };
        if let MethodSpec::Grad(g) | MethodSpec::ScrThen(_, g) = &spec {
            g.validate()?;
        }
        methods.push(compare::Method { name, spec });
    }
    let problems: Vec<Problem> = match (&a.data, a.teachers) {
        (Some(path), _) => {
            let ds = Dataset::load(path, &targets_for(&a.targets, arch.n_outputs()))?;
            if ds.n_inputs() != arch.n_inputs() {
                bail!(
                    "{} has {} input columns, the architecture {} takes {}",
                    path.display(),
                    ds.n_inputs(),
                    arch.spec(),
                    arch.n_inputs()
                );
            }
            vec![Problem {
                name: path.display().to_string(),
                teacher_seed: None,
                x: ds.x,
                y: ds.y,
            }]
        }
        (None, Some(k)) => (0..k as u64)
            .map(|i| {
                let seed = a.seed + i;
                let t = data::planted_teacher(&arch, a.n, seed)?;
                let ds = data::with_label_noise(&t.data, a.noise, seed)?;
                Ok(Problem {
                    name: format!("teacher seed {seed}"),
                    teacher_seed: Some(seed),
                    x: ds.x,
                    y: ds.y,
                })
            })
            .collect::<Result<_>>()?,
        (None, None) => bail!("give --teachers K or --data FILE"),
    };
    if a.noise != 0.0 && a.data.is_some() {
        bail!("--noise adds noise to the teachers' targets: use it with --teachers");
    }
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let total = methods.len() * problems.len() * a.starts;
    eprintln!(
        "compare: {} on {} problem(s) × {} start(s) = {total} runs, {jobs} in parallel",
        methods
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        problems.len(),
        a.starts
    );
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template("[{elapsed_precise}] {bar:30} {pos}/{len} runs")
            .expect("valid template"),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(500));
    let make_backend = || -> cvxnn::Result<Box<dyn SubproblemSolver>> {
        backend(&a.scr).map_err(|e| cvxnn::Error::Unavailable(e.to_string()))
    };
    let rows = compare::run_all(
        &make_backend,
        &arch,
        &methods,
        &problems,
        a.starts,
        a.seed,
        plan,
        jobs,
        &|done, _| bar.set_position(done as u64),
    )?;
    bar.finish_and_clear();
    let summary = compare::summarize(&methods, &rows);
    let what = match a.teachers {
        Some(k) if a.data.is_none() => format!("{k} teachers {arch}, N = {}", a.n),
        _ => format!("{arch} on {}", problems[0].name),
    };
    println!(
        "compare: {what}, {} start(s) each, best of {} attempt(s) per start",
        a.starts, a.restarts
    );
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
    let global = if a.global_optimum {
        Some(cli::milp::global_optimum(
            &arch,
            &problems,
            &methods,
            &rows,
            a.weight_bound,
            a.time_limit,
            a.seed,
        )?)
    } else {
        None
    };
    let doc = serde_json::json!({
        "format": "cvxnn-compare",
        "version": 1,
        "cvxnn_version": env!("CARGO_PKG_VERSION"),
        "problem": {
            "architecture": arch.spec(),
            "output_activation": arch.output.to_string(),
            "source": what,
            "starts": a.starts,
            "seed": a.seed,
        },
        "plan": plan,
        "scr_settings": scr_settings,
        "methods": methods.iter().map(|m| match &m.spec {
            MethodSpec::Scr(_) => serde_json::json!({"name": m.name}),
            MethodSpec::Grad(g) | MethodSpec::ScrThen(_, g) => serde_json::json!({"name": m.name, "gradient": g}),
        }).collect::<Vec<_>>(),
        "summary": summary,
        "global_optimum": global,
        "rows": rows,
    });
    let text = serde_json::to_string_pretty(&doc)?;
    std::fs::write(&a.json, text + "\n").with_context(|| format!("{}", a.json.display()))?;
    eprintln!("rows written to {}", a.json.display());
    let svg = compare::plot(&format!("compare: {what}"), &methods, &rows);
    std::fs::write(&a.plot, svg).with_context(|| format!("{}", a.plot.display()))?;
    eprintln!("plot written to {}", a.plot.display());
    let failed: usize = summary.iter().map(|s| s.failed).sum();
    if failed > 0 {
        bail!(
            "{failed} run(s) failed: see the \"error\" field of their rows in {}",
            a.json.display()
        );
    }
    Ok(())
}

fn eval(a: EvalArgs) -> Result<()> {
    let model = Mlp::load(&a.model)?;
    let ds = Dataset::load(&a.data, &targets_for(&a.targets, model.arch.n_outputs()))?;
    if ds.n_inputs() != model.arch.n_inputs() || ds.n_outputs() != model.arch.n_outputs() {
        bail!(
            "the model {} takes {} inputs and gives {} outputs; {} has {} input and {} target columns",
            model.arch.spec(),
            model.arch.n_inputs(),
            model.arch.n_outputs(),
            a.data.display(),
            ds.n_inputs(),
            ds.n_outputs()
        );
    }
    let pred = model.forward(&ds.x)?;
    let resid = pred.sub(&ds.y)?;
    let mse = model.mse(&ds.x, &ds.y)?;
    let rel = model.relative_error(&ds.x, &ds.y)?;
    let max_abs = resid.as_slice().iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    if a.json {
        println!(
            "{}",
            serde_json::json!({
                "model": a.model.display().to_string(),
                "data": a.data.display().to_string(),
                "n_samples": ds.n_samples(),
                "mse": mse,
                "output_error": rel,
                "max_abs_error": max_abs,
            })
        );
    } else {
        println!("model        {} ({})", a.model.display(), model.arch);
        println!(
            "data         {} ({} samples)",
            a.data.display(),
            ds.n_samples()
        );
        println!("mse          {mse:.6e}");
        println!("output error {rel:.6e}  (‖Y − f(X)‖_F / ‖Y‖_F)");
        println!("max |error|  {max_abs:.6e}");
    }
    Ok(())
}

fn generate(g: GenerateCmd) -> Result<()> {
    match g {
        GenerateCmd::Teacher {
            arch,
            output_activation,
            n,
            seed,
            out,
            model_out,
        } => {
            let arch = Architecture::parse(&arch, output_activation)?;
            let t = data::planted_teacher(&arch, n, seed)?;
            data::save_csv(&t.data, &out)?;
            eprintln!("{n} samples of {arch} written to {}", out.display());
            if let Some(p) = model_out {
                t.model.save(&p)?;
                eprintln!("teacher written to {}", p.display());
            }
            Ok(())
        }
        GenerateCmd::BlumRivest {
            elements,
            sets,
            set_size,
            planted,
            seed,
            out,
            instance_out,
        } => {
            use cvxnn::data::blum_rivest::{SetSplitting, BRUTE_FORCE_MAX};
            let inst = SetSplitting::random(elements, sets, set_size, planted, seed)?;
            let ds = inst.training_set()?;
            data::save_csv(&ds, &out)?;
            eprintln!(
                "{} points ({elements} elements, {sets} sets of {set_size}) written to {}",
                ds.n_samples(),
                out.display()
            );
            let answer = if elements <= BRUTE_FORCE_MAX {
                let found = inst.brute_force()?;
                match &found {
                    Some(_) => eprintln!(
                        "satisfiable (brute force): the sets can be split, so a 3-node network \
                         classifies every point"
                    ),
                    None => eprintln!(
                        "unsatisfiable (brute force): no split exists, so no 3-node network \
                         classifies every point"
                    ),
                }
                Some(found)
            } else {
                eprintln!(
                    "satisfiability not checked: brute force takes at most {BRUTE_FORCE_MAX} \
                     elements{}",
                    if planted {
                        " (planted: satisfiable)"
                    } else {
                        ""
                    }
                );
                None
            };
            if let Some(p) = instance_out {
                let v = serde_json::json!({
                    "elements": inst.elements,
                    "sets": inst.sets,
                    "planted": planted,
                    "seed": seed,
                    "satisfiable": answer.as_ref().map(Option::is_some),
                    "split": answer.flatten(),
                });
                std::fs::write(&p, serde_json::to_string_pretty(&v)? + "\n")
                    .with_context(|| format!("{}", p.display()))?;
                eprintln!("instance written to {}", p.display());
            }
            Ok(())
        }
        GenerateCmd::Parity { bits, out } => {
            let ds = cvxnn::data::blum_rivest::parity(bits)?;
            data::save_csv(&ds, &out)?;
            eprintln!("{} points written to {}", ds.n_samples(), out.display());
            Ok(())
        }
    }
}
