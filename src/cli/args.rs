//! The flags the training commands share, one argument group per settings group of the request
//! schema, and how they become a request: each flag given on the command line sets its key(s)
//! ([`FLAGS`]), and the library fills in every default. A flag of a group no chosen method reads
//! is refused ([`refuse_foreign`]); an error naming a key is shown with its flag ([`spell`]).

use anyhow::{bail, Context, Result};
use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::parser::ValueSource;
use clap::{ArgMatches, Args};
use cvxnn::compare::ScrStart;
use cvxnn::convex::{Formulation, Loss, SolverKind};
use cvxnn::gradient::DataLoss;
use cvxnn::linalg::Precision;
use cvxnn::methods::{self, BackendName, GlmSolver, Method, MilpLoss, TIGHTENINGS};
use cvxnn::request::Init;
use cvxnn::train::InitScheme;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// `--method` / `--methods`: the names of the method table, with its help.
pub fn method_parser() -> PossibleValuesParser {
    PossibleValuesParser::new(
        methods::METHODS
            .iter()
            .map(|m| PossibleValue::new(m.name).help(m.help)),
    )
}

/// A flag taking one of the library's `values` (name, help).
pub fn choices(values: &[(&'static str, &'static str)]) -> PossibleValuesParser {
    PossibleValuesParser::new(values.iter().map(|(v, h)| PossibleValue::new(*v).help(*h)))
}

/// Every loss of the MILP, the convex model and the gradient methods (`squared` once: the
/// convex model's and the gradient methods' are the same values).
fn losses() -> PossibleValuesParser {
    let mut all: Vec<(&'static str, &'static str)> = Vec::new();
    for &(name, help) in MilpLoss::CHOICES
        .iter()
        .chain(Loss::CHOICES)
        .chain(DataLoss::CHOICES)
    {
        if !all.iter().any(|(n, _)| *n == name) {
            all.push((name, help));
        }
    }
    choices(&all)
}

#[derive(Args, Clone)]
#[command(next_help_heading = "SCR (--method scr, scr+lbfgs)")]
pub struct ScrArgs {
    /// Subproblem solver.
    #[arg(long, default_value = "admm", value_parser = choices(BackendName::CHOICES))]
    pub backend: String,
    /// ADMM tolerance on the primal and dual residuals (absolute and relative).
    #[arg(long, default_value_t = 1e-9)]
    pub admm_tol: f64,
    /// ADMM iteration cap per subproblem.
    #[arg(long, default_value_t = 20_000)]
    pub admm_max_iter: usize,
    /// ADMM worker threads (default: all cores); the answer does not depend on it.
    #[arg(long)]
    pub admm_threads: Option<usize>,
    /// Solve every ADMM subproblem to --admm-tol (default: inexact SCR, a looser tolerance while
    /// the violations are large and decreasing).
    #[arg(long)]
    pub admm_exact: bool,
    /// Weight λ of the product term ‖M_k‖_* of each hidden layer: one value, or one per hidden
    /// layer, comma-separated (e.g. 1,10).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1",
        allow_hyphen_values = true
    )]
    pub lambda: Vec<f64>,
    /// Weight μ of each complementarity term ‖m‖_*: one value, or one per hidden layer.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1",
        allow_hyphen_values = true
    )]
    pub mu: Vec<f64>,
    /// Maximum number of SCR iterations.
    #[arg(long, default_value_t = 50)]
    pub max_iter: usize,
    /// Stop when both violations (Frobenius norms) are at most this.
    #[arg(long, default_value_t = 1e-6)]
    pub tol: f64,
    /// Extrapolation β: next parameters from x_k + β(x_k − x_{k−1}) (0 = as published).
    #[arg(long, default_value_t = 0.0)]
    pub extrapolation: f64,
    /// Print the subproblem solver's progress: the interior-point log, or ADMM's residuals and
    /// penalties every 10 iterations.
    #[arg(long)]
    pub solver_verbose: bool,
}

#[derive(Args, Clone)]
#[command(next_help_heading = "Gradient methods (--method gd, sgd, adam, lbfgs, lm, scr+lbfgs)")]
pub struct GradArgs {
    /// Iteration cap of the gradient method [default: gd 20000, sgd 5000, adam 5000, lbfgs 2000,
    /// lm 500].
    #[arg(long)]
    pub steps: Option<usize>,
    /// Learning rate [default: gd 0.1, sgd 0.01, adam 0.01].
    #[arg(long, allow_hyphen_values = true)]
    pub lr: Option<f64>,
    /// SGD momentum.
    #[arg(long, default_value_t = 0.9)]
    pub momentum: f64,
    /// Mini-batch size [default: sgd 32; adam full batch].
    #[arg(long)]
    pub batch: Option<usize>,
    /// Adam β₁.
    #[arg(long, default_value_t = 0.9)]
    pub beta1: f64,
    /// Adam β₂.
    #[arg(long, default_value_t = 0.999)]
    pub beta2: f64,
    /// Adam ε.
    #[arg(long, default_value_t = 1e-8)]
    pub adam_eps: f64,
    /// L-BFGS memory (correction pairs).
    #[arg(long, default_value_t = 10)]
    pub memory: usize,
    /// Stop when the gradient norm is at most this.
    #[arg(long, default_value_t = 1e-12)]
    pub grad_tol: f64,
    /// Seed of the mini-batch order (default: --seed).
    #[arg(long)]
    pub batch_seed: Option<u64>,
    /// Early stopping: hold out this share of the samples (seeded by --batch-seed) and stop
    /// when their loss stops improving, keeping the best network on them.
    #[arg(long)]
    pub validation_fraction: Option<f64>,
    /// Early stopping's patience: epochs without an improvement of --validation-tol.
    #[arg(long, default_value_t = 10)]
    pub n_iter_no_change: usize,
    /// The improvement of the held-out loss that counts for early stopping.
    #[arg(long, default_value_t = 1e-4)]
    pub validation_tol: f64,
    /// Precision of the gradient methods' passes and network [default: f64]; f32 runs the
    /// products at twice the rate and stores a float32 network (lm stays f64).
    #[arg(long, value_parser = choices(Precision::CHOICES))]
    pub precision: Option<String>,
}

#[derive(Args, Clone)]
#[command(next_help_heading = "Loss (--method milp, convex and the gradient methods)")]
pub struct LossArgs {
    /// Training loss [default: milp l1, otherwise squared]; cross-entropy trains class
    /// probabilities (gd, sgd, adam, lbfgs).
    #[arg(long, value_parser = losses())]
    pub loss: Option<String>,
}

#[derive(Args, Clone)]
#[command(
    next_help_heading = "Exact training (--method milp; without --time-limit it stops after 60 s)"
)]
pub struct MilpArgs {
    /// Bound B on every first-layer weight and bias (output weights are ±1; see docs/milp.md
    /// for the class of networks this covers).
    #[arg(long, default_value_t = 10.0)]
    pub weight_bound: f64,
    /// Largest error allowed by --loss exact.
    #[arg(long, default_value_t = 1e-6)]
    pub exact_tol: f64,
    /// How the big-M constants are set.
    #[arg(long, default_value = "interval", value_parser = choices(TIGHTENINGS))]
    pub tighten: String,
    /// L-BFGS runs from the start (seeded by --init-seed) whose best network in the class is
    /// the first incumbent (0 = none; --tighten lp needs one).
    #[arg(long, default_value_t = 4)]
    pub milp_starts: usize,
    /// Relative and absolute optimality gap at which the search stops.
    #[arg(long, default_value_t = 1e-6)]
    pub mip_gap: f64,
    /// Train linear threshold units under an AND output (Blum & Rivest's network; 0/1 targets)
    /// instead of ReLU units; --loss l1 counts errors, --loss exact asks for none.
    #[arg(long)]
    pub threshold: bool,
    /// Integer weights and biases in {−P, …, P}, for any depth and number of outputs (linear
    /// output) instead of the ±1-output class (--weight-bound and --tighten do not apply).
    #[arg(long, value_name = "P", conflicts_with = "threshold")]
    pub integer_weights: Option<u32>,
    /// Print HiGHS's log.
    #[arg(long)]
    pub milp_verbose: bool,
}

#[derive(Args, Clone)]
#[command(next_help_heading = "Convex two-layer model (--method convex; docs/convex.md)")]
pub struct ConvexArgs {
    /// Which convex program.
    #[arg(long, default_value = "relu", value_parser = choices(Formulation::CHOICES))]
    pub formulation: String,
    /// Activation patterns: `all` (enumerated: the optimum is global), K (K gates drawn from
    /// N(0, I) with --pattern-seed: the optimum of a restricted model), `generate` (column
    /// generation: patterns added where the dual constraint is violated, the bound global in any
    /// dimension; docs/global.md), or `auto` (all up to 1 000 patterns, else 100 gates).
    #[arg(long, default_value = "all")]
    pub patterns: String,
    /// Refuse to enumerate when the data may have more patterns than this.
    #[arg(long, default_value_t = 20_000)]
    pub max_patterns: usize,
    /// Seed of the sampled gates (default: --seed).
    #[arg(long)]
    pub pattern_seed: Option<u64>,
    /// Gate vectors from a file (CSV or .npy, one gate per row: d weights, then the bias's), e.g.
    /// to solve the same program as another solver; overrides --patterns.
    #[arg(long, conflicts_with = "pattern_seed")]
    pub gates: Option<PathBuf>,
    /// Solver.
    #[arg(long, default_value = "auto", value_parser = choices(SolverKind::CHOICES))]
    pub solver: String,
    /// Relative duality gap to reach.
    #[arg(long, default_value_t = 1e-6)]
    pub gap_tol: f64,
    /// Iteration cap of the first-order solver (rounds of the active-set one).
    #[arg(long, default_value_t = 100_000)]
    pub convex_max_iter: usize,
    /// A regularisation path: these β's (comma-separated) are solved first, in this order, each
    /// from the solution of the one before, and --weight-decay last from the path's end; each
    /// optimum is certified and printed, the model is --weight-decay's (the interior point
    /// takes no start, so only the working sets and first order gain from it).
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    pub weight_decay_path: Vec<f64>,
}

#[derive(Args, Clone)]
#[command(
    next_help_heading = "Linear models (--method ridge, lasso, elastic-net, logistic, svm; `cvxnn glm`)"
)]
pub struct GlmArgs {
    /// Regularisation weight α of ridge, lasso and elastic net (scikit-learn's alpha).
    #[arg(long, default_value_t = 1.0, allow_hyphen_values = true)]
    pub alpha: f64,
    /// Elastic net's ρ (scikit-learn's l1_ratio).
    #[arg(long, default_value_t = 0.5, allow_hyphen_values = true)]
    pub l1_ratio: f64,
    /// C of logistic regression and the SVM (inverse regularisation, as in scikit-learn).
    #[arg(long = "c", default_value_t = 1.0, allow_hyphen_values = true)]
    pub c: f64,
    /// Logistic regression's penalty.
    #[arg(long, default_value = "l2", value_parser = ["l2", "l1"])]
    pub penalty: String,
    /// Interior point or the first-order path.
    #[arg(long, default_value = "ipm", value_parser = choices(GlmSolver::CHOICES))]
    pub glm_solver: String,
    /// The first-order path's tolerance (relative duality gap, or subgradient).
    #[arg(long, default_value_t = 1e-8)]
    pub glm_tol: f64,
    /// The first-order path's iteration cap.
    #[arg(long, default_value_t = 100_000)]
    pub glm_max_iter: usize,
    /// The interior point's relative tolerance (duality gap and feasibility).
    #[arg(long, default_value_t = 1e-10)]
    pub ipm_tol: f64,
    /// The interior point's iteration cap.
    #[arg(long, default_value_t = 500)]
    pub ipm_max_iter: u32,
    /// Fit no intercept (scikit-learn's fit_intercept=False; the interior point only).
    #[arg(long)]
    pub no_intercept: bool,
}

#[derive(Args, Clone)]
#[command(next_help_heading = "Weight decay (--method convex and gd, sgd, adam, lbfgs)")]
pub struct DecayArgs {
    /// β of the objective ‖f(X) − Y‖²/(2N) + (β/2)(‖W₁‖² + ‖b₁‖² + ‖W₂‖²) (the output bias is
    /// held at zero; the convex model's --loss replaces the first term). Required by --method
    /// convex; gradient methods train the plain loss without it. With --loss cross-entropy:
    /// CE + (β/2) Σ‖W_l‖², biases free (scikit-learn's MLPClassifier alpha is β·N).
    #[arg(long)]
    pub weight_decay: Option<f64>,
}

/// What iterative methods (SCR and the gradient methods) share.
#[derive(Args, Clone)]
#[command(next_help_heading = "Iterative methods (all but milp)")]
pub struct IterArgs {
    /// Stop when the relative output error ‖Y − f(X)‖_F/‖Y‖_F is at most this [default: SCR
    /// none, gradient methods 1e-9].
    #[arg(long)]
    pub output_tol: Option<f64>,
}

/// Every method family's arguments.
#[derive(Args, Clone)]
pub struct MethodArgs {
    #[command(flatten)]
    pub iter: IterArgs,
    #[command(flatten)]
    pub scr: ScrArgs,
    #[command(flatten)]
    pub grad: GradArgs,
    #[command(flatten)]
    pub milp: MilpArgs,
    #[command(flatten)]
    pub convex: ConvexArgs,
    #[command(flatten)]
    pub decay: DecayArgs,
    #[command(flatten)]
    pub loss: LossArgs,
    #[command(flatten)]
    pub glm: GlmArgs,
}

#[derive(Args, Clone)]
#[command(next_help_heading = "Start")]
pub struct StartArgs {
    /// Where training starts.
    #[arg(long, default_value = "random", value_parser = choices(Init::CHOICES))]
    pub init: String,
    /// Seed of the random start and of the teacher perturbation (default: --seed).
    #[arg(long)]
    pub init_seed: Option<u64>,
    /// How the random start is drawn [default: SCR gaussian (its parameters), the other methods
    /// he (a network)].
    #[arg(long, value_parser = choices(InitScheme::CHOICES))]
    pub init_scheme: Option<String>,
    /// Perturbation σ for --init perturbed.
    #[arg(long, default_value_t = 0.05)]
    pub sigma: f64,
    /// Saved model for --init model.
    #[arg(long)]
    pub init_model: Option<PathBuf>,
}

#[derive(Args, Clone)]
#[command(next_help_heading = "Limits")]
pub struct LimitArgs {
    /// Stop each run after this many seconds (all its stages together), keeping the best so far.
    #[arg(long)]
    pub time_limit: Option<f64>,
    /// Threads of every kernel of the run (default: every core): the gradient passes, the
    /// products, SCR's ADMM (unless --admm-threads) and the convex solvers; the trained model
    /// does not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
}

/// How a flag's text becomes a request value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Float,
    Floats,
    Int,
    Str,
    /// `true` when given.
    Switch,
    /// `false` when given (a `--no-…` flag).
    Off,
    /// This string when given.
    Const(&'static str),
    /// `all`, `auto` or a count.
    Patterns,
}

/// A flag (its argument id) and the request key it sets. A flag with several keys sets the
/// ones of the groups the chosen methods read.
pub struct Flag {
    pub id: &'static str,
    pub key: &'static str,
    pub kind: Kind,
}

const fn flag(id: &'static str, key: &'static str, kind: Kind) -> Flag {
    Flag { id, key, kind }
}

/// Every flag of [`MethodArgs`], [`StartArgs`] and [`LimitArgs`] and its key.
pub const FLAGS: &[Flag] = &[
    flag("backend", "scr.backend", Kind::Str),
    flag("admm_tol", "scr.admm_tol", Kind::Float),
    flag("admm_max_iter", "scr.admm_max_iter", Kind::Int),
    flag("admm_threads", "scr.admm_threads", Kind::Int),
    flag("admm_exact", "scr.admm_exact", Kind::Switch),
    flag("lambda", "scr.lambda", Kind::Floats),
    flag("mu", "scr.mu", Kind::Floats),
    flag("max_iter", "scr.max_iter", Kind::Int),
    flag("tol", "scr.tol", Kind::Float),
    flag("extrapolation", "scr.extrapolation", Kind::Float),
    flag("solver_verbose", "scr.solver_verbose", Kind::Switch),
    flag("steps", "gradient.max_iter", Kind::Int),
    flag("lr", "gradient.lr", Kind::Float),
    flag("momentum", "gradient.momentum", Kind::Float),
    flag("batch", "gradient.batch", Kind::Int),
    flag("beta1", "gradient.beta1", Kind::Float),
    flag("beta2", "gradient.beta2", Kind::Float),
    flag("adam_eps", "gradient.eps", Kind::Float),
    flag("memory", "gradient.memory", Kind::Int),
    flag("grad_tol", "gradient.grad_tol", Kind::Float),
    flag("batch_seed", "gradient.batch_seed", Kind::Int),
    flag(
        "validation_fraction",
        "gradient.validation_fraction",
        Kind::Float,
    ),
    flag("n_iter_no_change", "gradient.n_iter_no_change", Kind::Int),
    flag("validation_tol", "gradient.validation_tol", Kind::Float),
    flag("threads", "threads", Kind::Int),
    flag("precision", "gradient.precision", Kind::Str),
    flag("output_tol", "scr.output_tol", Kind::Float),
    flag("output_tol", "gradient.output_tol", Kind::Float),
    flag("weight_decay", "gradient.weight_decay", Kind::Float),
    flag("weight_decay", "convex.weight_decay", Kind::Float),
    flag("loss", "milp.loss", Kind::Str),
    flag("loss", "convex.loss", Kind::Str),
    flag("loss", "gradient.loss", Kind::Str),
    flag("weight_bound", "milp.weight_bound", Kind::Float),
    flag("exact_tol", "milp.exact_tol", Kind::Float),
    flag("tighten", "milp.tighten", Kind::Str),
    flag("milp_starts", "milp.starts", Kind::Int),
    flag("mip_gap", "milp.mip_gap", Kind::Float),
    flag("threshold", "milp.formulation", Kind::Const("threshold")),
    flag(
        "integer_weights",
        "milp.formulation",
        Kind::Const("integer"),
    ),
    flag("integer_weights", "milp.integer_weights", Kind::Int),
    flag("milp_verbose", "milp.verbose", Kind::Switch),
    flag("formulation", "convex.formulation", Kind::Str),
    flag("patterns", "convex.patterns", Kind::Patterns),
    flag("max_patterns", "convex.max_patterns", Kind::Int),
    flag("pattern_seed", "convex.pattern_seed", Kind::Int),
    flag("gates", "convex.gates", Kind::Str),
    flag("solver", "convex.solver", Kind::Str),
    flag("gap_tol", "convex.gap_tol", Kind::Float),
    flag("convex_max_iter", "convex.max_iter", Kind::Int),
    flag(
        "weight_decay_path",
        "convex.weight_decay_path",
        Kind::Floats,
    ),
    flag("alpha", "glm.alpha", Kind::Float),
    flag("l1_ratio", "glm.l1_ratio", Kind::Float),
    flag("c", "glm.c", Kind::Float),
    flag("penalty", "glm.penalty", Kind::Str),
    flag("glm_solver", "glm.solver", Kind::Str),
    flag("glm_tol", "glm.tol", Kind::Float),
    flag("glm_max_iter", "glm.max_iter", Kind::Int),
    flag("ipm_tol", "glm.ipm_tol", Kind::Float),
    flag("ipm_max_iter", "glm.ipm_max_iter", Kind::Int),
    flag("no_intercept", "glm.fit_intercept", Kind::Off),
    flag("init", "start.init", Kind::Str),
    flag("init_seed", "start.seed", Kind::Int),
    flag("init_scheme", "start.scheme", Kind::Str),
    flag("sigma", "start.sigma", Kind::Float),
    flag("init_model", "start.model", Kind::Str),
    flag("time_limit", "time_limit", Kind::Float),
];

/// The flags of the request's own keys and of `compare`'s (spelled in messages like the
/// settings').
const OWN_FLAGS: &[(&str, &str)] = &[
    ("method", "--method"),
    ("methods", "--methods"),
    ("arch", "--arch"),
    ("output", "--output-activation"),
    ("standardize", "--standardize"),
    ("seed", "--seed"),
    ("data", "--data or --teacher"),
    ("data.file", "--data"),
    ("data.targets", "--targets"),
    ("data.teacher", "--teacher"),
    ("data.teachers", "--teachers"),
    // `certify`'s own settings (global::BoundSettings)
    ("bound.output_bias", "--output-bias"),
    ("bound.rel_tol", "--tol"),
    ("data.n", "--n"),
    ("data.noise", "--noise"),
    ("starts", "--starts"),
    ("restarts", "--restarts"),
    ("init_seed", "--init-seed"),
    ("init_scheme", "--init-scheme"),
    ("scr_start", "--scr-start"),
    ("weight_decay", "--weight-decay"),
    ("global_optimum", "--global-optimum"),
    ("milp.formulation", "--threshold or --integer-weights"),
    ("data.classes", "--labels"),
    ("data.positive_class", "--positive-class"),
    ("data.keep_classes", "--keep-classes"),
    ("data.test_fraction", "--test-fraction"),
    ("data.split_seed", "--split-seed"),
];

/// A request key as the command line spells it (`scr.lambda` → `--lambda`), if it has a flag.
pub fn spell(key: &str) -> Option<String> {
    if let Some((_, f)) = OWN_FLAGS.iter().find(|(k, _)| *k == key) {
        return Some(f.to_string());
    }
    FLAGS
        .iter()
        .find(|f| f.key == key)
        .map(|f| format!("--{}", f.id.replace('_', "-")))
}

/// The JSON value of flag `f`'s text.
fn value(f: &Flag, matches: &ArgMatches) -> Result<Value> {
    let texts: Vec<String> = matches
        .get_raw(f.id)
        .into_iter()
        .flatten()
        .map(|t| t.to_string_lossy().into_owned())
        .collect();
    let name = format!("--{}", f.id.replace('_', "-"));
    let number = |t: &str| -> Result<Value> {
        let v: f64 = t
            .trim()
            .parse()
            .with_context(|| format!("{name} takes a number, got '{t}'"))?;
        match serde_json::Number::from_f64(v) {
            Some(n) => Ok(Value::Number(n)),
            None => bail!("{name} must be finite, got {t}"),
        }
    };
    let int = |t: &str| -> Result<Value> {
        let v: u64 = t
            .trim()
            .parse()
            .with_context(|| format!("{name} takes a nonnegative integer, got '{t}'"))?;
        Ok(v.into())
    };
    let first = texts.first().map(String::as_str).unwrap_or_default();
    Ok(match f.kind {
        Kind::Float => number(first)?,
        Kind::Floats => Value::Array(texts.iter().map(|t| number(t)).collect::<Result<_>>()?),
        Kind::Int => int(first)?,
        Kind::Str => Value::String(first.to_string()),
        Kind::Switch => Value::Bool(true),
        Kind::Off => Value::Bool(false),
        Kind::Const(v) => Value::String(v.to_string()),
        Kind::Patterns => match first.trim().parse::<u64>() {
            Ok(k) => k.into(),
            Err(_) => Value::String(first.to_string()),
        },
    })
}

/// Whether flag `id` was given on the command line (not a default).
pub fn given(matches: &ArgMatches, id: &str) -> bool {
    matches.try_get_raw(id).is_ok_and(|v| v.is_some())
        && matches.value_source(id) == Some(ValueSource::CommandLine)
}

/// The request keys of the flags given on the command line, as a table, for methods that read
/// `reads` (a flag with several keys sets those of the groups read); `skip` lists flags the
/// command translates itself.
pub fn keys_of_flags(
    matches: &ArgMatches,
    reads: &dyn Fn(&str) -> bool,
    skip: &[&str],
) -> Result<Map<String, Value>> {
    let mut table = Map::new();
    for f in FLAGS {
        if skip.contains(&f.id) || !given(matches, f.id) {
            continue;
        }
        let group = f.key.split_once('.').map(|(g, _)| g);
        if let Some(g) = group {
            if g != "start" && !reads(g) {
                continue;
            }
        }
        cvxnn::request::set_key(&mut table, f.key, value(f, matches)?);
    }
    Ok(table)
}

/// A request file's table of keys.
pub fn load_config(path: &Path) -> Result<Value> {
    Ok(cvxnn::request::load_table(path)?)
}

/// An argument group of a method family: its id, whether a method reads it, how a message
/// names it.
type Family = (&'static str, fn(&Method) -> bool, &'static str);

const FAMILIES: [Family; 8] = [
    ("ScrArgs", |m| m.reads("scr"), "an SCR option"),
    (
        "GradArgs",
        |m| m.reads("gradient"),
        "a gradient-method option",
    ),
    (
        "MilpArgs",
        |m| m.reads("milp"),
        "an exact-training (milp) option",
    ),
    ("ConvexArgs", |m| m.reads("convex"), "a convex-model option"),
    ("GlmArgs", |m| m.reads("glm"), "a linear-model option"),
    (
        "DecayArgs",
        |m| m.reads("gradient") || m.reads("convex"),
        "an option of the convex model and the gradient methods",
    ),
    (
        "LossArgs",
        |m| m.reads("milp") || m.reads("convex") || m.reads("gradient"),
        "an option of the MILP, the convex model and the gradient methods",
    ),
    (
        "IterArgs",
        |m| m.reads("scr") || m.reads("gradient"),
        "an option of the iterative methods",
    ),
];

/// Refuses (exit code 2) a flag given on the command line that none of `methods` reads, but
/// for the argument ids in `also` (read by another part of the command).
pub fn refuse_foreign<A: Args>(matches: &ArgMatches, methods: &[&Method], also: &[&str]) {
    let cmd = A::augment_args(clap::Command::new("cvxnn"));
    for (group, reads, what) in FAMILIES {
        if methods.iter().any(|m| reads(m)) {
            continue;
        }
        let Some(g) = cmd.get_groups().find(|g| g.get_id() == group) else {
            continue;
        };
        for id in g.get_args() {
            if also.contains(&id.as_str()) || !given(matches, id.as_str()) {
                continue;
            }
            let flag = cmd
                .get_arguments()
                .find(|a| a.get_id() == id)
                .and_then(|a| a.get_long())
                .unwrap_or(id.as_str());
            let names: Vec<&str> = methods.iter().map(|m| m.name).collect();
            clap::Error::raw(
                clap::error::ErrorKind::ArgumentConflict,
                format!(
                    "--{flag} is {what}; it does not apply to {}\n",
                    names.join(", ")
                ),
            )
            .exit();
        }
    }
}

/// `compare --scr-start` values.
pub fn scr_starts() -> PossibleValuesParser {
    choices(ScrStart::CHOICES)
}

/// `1,10` for a list of weights.
pub fn list(v: &[f64]) -> String {
    v.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Writes `svg` to `path`.
pub fn write_svg(svg: &str, path: &Path) -> Result<()> {
    std::fs::write(path, svg).with_context(|| format!("{}", path.display()))?;
    super::wrote("plot", path);
    Ok(())
}

/// What `glm` and `perceptron` write: the report, the model and JSON, and their time limit.
#[derive(Args, Clone)]
pub struct FitOutputArgs {
    /// Stop after this many seconds, keeping the point the solver has.
    #[arg(long)]
    pub time_limit: Option<f64>,
    /// Where to write the JSON report (with the request that reruns it).
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Where to write the model (JSON: one linear score per output, the data's columns and
    /// standardisation).
    #[arg(long)]
    pub model_out: Option<PathBuf>,
    /// Print the result as JSON (coefficients, hyperplanes or certificates included).
    #[arg(long)]
    pub json: bool,
}

impl FitOutputArgs {
    /// Writes the trained model, if asked and there is one.
    pub fn save_model(&self, trained: &cvxnn::request::Trained) -> Result<()> {
        if let (Some(path), Some(model)) = (&self.model_out, &trained.model) {
            model.save(path)?;
            super::wrote("model", path);
        }
        Ok(())
    }

    /// Writes the report of `trained`, if asked.
    pub fn save_report(
        &self,
        prepared: &cvxnn::request::Prepared,
        trained: cvxnn::request::Trained,
    ) -> Result<()> {
        if let Some(path) = &self.report {
            cvxnn::report::Report::new(prepared, vec![trained]).save(path)?;
            super::wrote("report", path);
        }
        Ok(())
    }
}

/// A saved model and a data file with its columns (`eval`, `certify`).
#[derive(Args, Clone)]
pub struct ModelDataArgs {
    /// Model written by `cvxnn train`, or an ONNX file of a two-layer ReLU network
    /// (`.onnx`: Linear–ReLU–Linear, as `torch.onnx.export` writes it; its columns are taken by
    /// position).
    #[arg(long)]
    pub model: PathBuf,
    /// Data file (CSV or .npy) with the model's input and target columns: matched by name when
    /// the file has a header, else inputs then targets by position.
    #[arg(long)]
    pub data: PathBuf,
    /// Target columns by header name (must be the model's).
    #[arg(long, value_delimiter = ',')]
    pub targets: Option<Vec<String>>,
}

impl ModelDataArgs {
    /// The model, and the data as its columns say.
    pub fn load(&self) -> Result<(cvxnn::model::Model, cvxnn::data::Dataset)> {
        let onnx = self
            .model
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("onnx"));
        let model = if onnx {
            let net = cvxnn::onnx::import::load_two_layer(&self.model)?;
            cvxnn::model::Model::of_network(cvxnn::net::Network::Mlp(net))?
        } else {
            cvxnn::model::Model::load(&self.model)?
        };
        let table = cvxnn::data::Table::load(&self.data)?;
        let ds = model.data_of(&table, self.targets.as_deref())?;
        Ok((model, ds))
    }
}
