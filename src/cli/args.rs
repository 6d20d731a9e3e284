//! The argument groups the training commands share, one per method family, and what they become
//! in the library: [`Options`] for the method table, a [`Start`], [`Limits`]. A flag of a family
//! the chosen methods do not read is refused ([`refuse_foreign`]).

use anyhow::{bail, Context, Result};
use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, ValueEnum};
use cvxnn::convex::{
    ConvexSettings, Formulation as ConvexFormulation, Loss as ConvexLoss, PatternChoice, SolverKind,
};
use cvxnn::data::{self, Dataset, Table, Targets, Teacher};
use cvxnn::methods::{Formulation, Group, LossKind, Method, MilpOptions, Options, METHODS};
use cvxnn::milp::relu::Tightening;
use cvxnn::model::Model;
use cvxnn::net::{Architecture, Network};
use cvxnn::scr::{AdmmBackend, Backend, ClarabelBackend, ScrSettings};
use cvxnn::train::{InitScheme, Start};
use rand::SeedableRng;
use std::path::{Path, PathBuf};

/// `--method` / `--methods`: the names of the method table, with its help.
pub fn method_parser() -> PossibleValuesParser {
    PossibleValuesParser::new(
        METHODS
            .iter()
            .map(|m| PossibleValue::new(m.name).help(m.help)),
    )
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum BackendKind {
    /// First-order ADMM, pure Rust (default).
    Admm,
    /// Interior point with Clarabel (needs the `sdp` feature).
    Ipm,
}

#[derive(Args, Clone)]
#[command(next_help_heading = "SCR (--method scr, scr+lbfgs)")]
pub struct ScrArgs {
    /// Subproblem solver.
    #[arg(long, value_enum, default_value = "admm")]
    pub backend: BackendKind,
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

impl ScrArgs {
    pub fn settings(&self, output_tol: Option<f64>) -> ScrSettings {
        ScrSettings {
            lambda: self.lambda.clone(),
            mu: self.mu.clone(),
            max_iter: self.max_iter,
            tol: self.tol,
            output_tol,
            extrapolation: self.extrapolation,
        }
    }

    /// The chosen subproblem solver.
    pub fn backend(&self) -> Result<Backend> {
        match self.backend {
            BackendKind::Admm => {
                if !(self.admm_tol.is_finite() && self.admm_tol > 0.0) || self.admm_max_iter == 0 {
                    bail!("--admm-tol must be positive and --admm-max-iter at least 1");
                }
                let mut b = AdmmBackend::with_tolerance(self.admm_tol, self.admm_max_iter);
                b.adaptive = !self.admm_exact;
                b.verbose = self.solver_verbose;
                match self.admm_threads {
                    Some(0) => bail!("--admm-threads must be at least 1"),
                    Some(t) => b.threads = t,
                    None => {}
                }
                Ok(Backend::Admm(b))
            }
            BackendKind::Ipm => {
                let mut b = ClarabelBackend::default();
                b.verbose = self.solver_verbose;
                Ok(Backend::Ipm(b))
            }
        }
    }
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
}

impl GradArgs {
    pub fn options(&self, output_tol: Option<f64>) -> cvxnn::gradient::Options {
        cvxnn::gradient::Options {
            steps: self.steps,
            lr: self.lr,
            momentum: self.momentum,
            batch: self.batch,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.adam_eps,
            memory: self.memory,
            grad_tol: self.grad_tol,
            output_tol,
            batch_seed: self.batch_seed,
            weight_decay: 0.0,
        }
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum LossArg {
    /// MILP: sum of absolute errors (threshold units: the number of errors).
    L1,
    /// MILP: largest absolute error.
    Linf,
    /// MILP: fit every target to --exact-tol (feasibility; infeasible is a proof that no network
    /// of the class fits).
    Exact,
    /// Convex: (1/2N)‖f(X) − Y‖².
    Squared,
    /// Convex: (1/N) Σ log(1 + exp(−y f(x))), labels 0/1 or ±1, one-vs-rest per column.
    Logistic,
    /// Convex: (1/N) Σ max(0, 1 − y f(x)), labels 0/1 or ±1, one-vs-rest per column.
    Hinge,
}

impl LossArg {
    fn name(self) -> &'static str {
        match self {
            LossArg::L1 => "l1",
            LossArg::Linf => "linf",
            LossArg::Exact => "exact",
            LossArg::Squared => "squared",
            LossArg::Logistic => "logistic",
            LossArg::Hinge => "hinge",
        }
    }

    /// The MILP's loss, if this is one.
    fn milp(self) -> Option<LossKind> {
        match self {
            LossArg::L1 => Some(LossKind::L1),
            LossArg::Linf => Some(LossKind::Linf),
            LossArg::Exact => Some(LossKind::Exact),
            _ => None,
        }
    }

    /// The convex model's loss, if this is one.
    fn convex(self) -> Option<ConvexLoss> {
        match self {
            LossArg::Squared => Some(ConvexLoss::Squared),
            LossArg::Logistic => Some(ConvexLoss::Logistic),
            LossArg::Hinge => Some(ConvexLoss::Hinge),
            _ => None,
        }
    }
}

#[derive(Args, Clone)]
#[command(next_help_heading = "Loss (--method milp and convex)")]
pub struct LossArgs {
    /// Training loss [default: milp l1, convex squared].
    #[arg(long, value_enum)]
    pub loss: Option<LossArg>,
}

impl LossArgs {
    /// Refuses a loss that one of `methods` does not take.
    pub fn check(&self, methods: &[&Method]) -> Result<()> {
        let Some(loss) = self.loss else {
            return Ok(());
        };
        for m in methods {
            if m.reads(Group::Milp) && loss.milp().is_none() {
                bail!(
                    "--loss {} is a loss of the convex model; --method {} takes l1, linf or exact",
                    loss.name(),
                    m.name
                );
            }
            if m.reads(Group::Convex) && loss.convex().is_none() {
                bail!(
                    "--loss {} is a loss of the MILP; --method {} takes squared, logistic or hinge",
                    loss.name(),
                    m.name
                );
            }
        }
        Ok(())
    }
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
    #[arg(long, value_enum, default_value = "interval")]
    pub tighten: TightenArg,
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

impl MilpArgs {
    pub fn options(&self, loss: Option<LossArg>) -> MilpOptions {
        MilpOptions {
            formulation: match (self.threshold, self.integer_weights) {
                (true, _) => Formulation::Threshold,
                (false, Some(p)) => Formulation::Integer(p),
                (false, None) => Formulation::Relu,
            },
            weight_bound: self.weight_bound,
            loss: loss.and_then(LossArg::milp).unwrap_or(LossKind::L1),
            exact_tol: self.exact_tol,
            tightening: match self.tighten {
                TightenArg::Global => Tightening::Global,
                TightenArg::Interval => Tightening::Interval,
                TightenArg::Lp => Tightening::Lp,
            },
            starts: self.milp_starts,
            mip_gap: self.mip_gap,
            verbose: self.milp_verbose,
            ..Default::default()
        }
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum ConvexFormulationArg {
    /// The cone-constrained program whose optimum is that of two-layer ReLU training.
    Relu,
    /// Fixed gates, no constraints (a different model; its network is a cone decomposition).
    Gated,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum ConvexSolverArg {
    /// Enumerated patterns: interior point up to 4 million non-zeros in its constraint matrix,
    /// else active-set. Sampled or given gates: active-set.
    Auto,
    /// Interior point (Clarabel): the certified reference.
    Ipm,
    /// Working-set FISTA with an augmented Lagrangian for the ReLU model: slower than
    /// active-set on every case measured, and its ReLU runs rarely certify (docs/convex.md §5).
    FirstOrder,
    /// Working sets of groups and cone rows, each restricted program solved exactly in Gram form
    /// (large N, sampled patterns).
    ActiveSet,
}

#[derive(Args, Clone)]
#[command(next_help_heading = "Convex two-layer model (--method convex; docs/convex.md)")]
pub struct ConvexArgs {
    /// Which convex program.
    #[arg(long, value_enum, default_value = "relu")]
    pub formulation: ConvexFormulationArg,
    /// Activation patterns: `all` (enumerated: the optimum is global) or K (K gates drawn from
    /// N(0, I) with --pattern-seed: the optimum of a restricted model).
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
    #[arg(long, value_enum, default_value = "auto")]
    pub solver: ConvexSolverArg,
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

impl ConvexArgs {
    pub fn settings(
        &self,
        loss: Option<LossArg>,
        beta: Option<f64>,
        seed: u64,
    ) -> Result<ConvexSettings> {
        let patterns = if let Some(path) = &self.gates {
            let t = Table::load(path)?;
            // one gate per row of the file; `leading` gives one per column
            let m = t.leading(t.n_cols());
            PatternChoice::Given {
                gates: (0..m.cols()).map(|j| m.col(j).to_vec()).collect(),
                source: path.display().to_string(),
            }
        } else if self.patterns == "all" {
            PatternChoice::All {
                max: self.max_patterns,
            }
        } else {
            let count: usize = self.patterns.parse().map_err(|_| {
                anyhow::anyhow!("--patterns takes `all` or a count, got '{}'", self.patterns)
            })?;
            PatternChoice::Sample {
                count,
                seed: self.pattern_seed.unwrap_or(seed),
            }
        };
        Ok(ConvexSettings {
            formulation: match self.formulation {
                ConvexFormulationArg::Relu => ConvexFormulation::Relu,
                ConvexFormulationArg::Gated => ConvexFormulation::Gated,
            },
            loss: loss.and_then(LossArg::convex).unwrap_or_default(),
            beta: beta.unwrap_or(0.0),
            path: self.weight_decay_path.clone(),
            patterns,
            solver: match self.solver {
                ConvexSolverArg::Auto => SolverKind::Auto,
                ConvexSolverArg::Ipm => SolverKind::Ipm,
                ConvexSolverArg::FirstOrder => SolverKind::FirstOrder,
                ConvexSolverArg::ActiveSet => SolverKind::ActiveSet,
            },
            tol: self.gap_tol,
            max_iter: self.convex_max_iter,
        })
    }
}

#[derive(Args, Clone)]
#[command(next_help_heading = "Weight decay (--method convex and gd, sgd, adam, lbfgs)")]
pub struct DecayArgs {
    /// β of the objective ‖f(X) − Y‖²/(2N) + (β/2)(‖W₁‖² + ‖b₁‖² + ‖W₂‖²) (the output bias is
    /// held at zero; the convex model's --loss replaces the first term). Required by --method
    /// convex; gradient methods train the plain MSE without it.
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
}

impl MethodArgs {
    /// Every method's settings from the groups, for a run of `methods`.
    pub fn options(&self, seed: u64, methods: &[&Method]) -> Result<Options> {
        self.loss.check(methods)?;
        let loss = self.loss.loss;
        let mut gradient = self.grad.options(self.iter.output_tol);
        gradient.weight_decay = self.decay.weight_decay.unwrap_or(0.0);
        Ok(Options {
            scr: self.scr.settings(self.iter.output_tol),
            backend: self.scr.backend()?,
            gradient,
            milp: self.milp.options(loss),
            convex: self.convex.settings(loss, self.decay.weight_decay, seed)?,
            seed,
        })
    }
}

/// An argument group of a method family: its id, the methods that read it, how a message names
/// it.
type Family = (&'static str, fn(&Method) -> bool, &'static str);

const FAMILIES: [Family; 7] = [
    ("ScrArgs", |m| m.reads(Group::Scr), "an SCR option"),
    (
        "GradArgs",
        |m| m.reads(Group::Gradient),
        "a gradient-method option",
    ),
    (
        "MilpArgs",
        |m| m.reads(Group::Milp),
        "an exact-training (milp) option",
    ),
    (
        "ConvexArgs",
        |m| m.reads(Group::Convex),
        "a convex-model option",
    ),
    (
        "DecayArgs",
        |m| m.reads(Group::Gradient) || m.reads(Group::Convex),
        "an option of the convex model and the gradient methods",
    ),
    (
        "LossArgs",
        |m| m.reads(Group::Milp) || m.reads(Group::Convex),
        "an option of the MILP and the convex model",
    ),
    (
        "IterArgs",
        |m| m.reads(Group::Scr) || m.reads(Group::Gradient),
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
            if also.contains(&id.as_str())
                || matches.value_source(id.as_str()) != Some(ValueSource::CommandLine)
            {
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

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum InitKind {
    /// Minus the lifted point of the teacher with N(0, σ²) noise on its weights (needs --teacher).
    Perturbed,
    /// A seeded random start (--init-seed, --init-scheme).
    Random,
    /// All parameters zero.
    Zero,
    /// A saved model (--init-model).
    Model,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum SchemeArg {
    /// Every number N(0, 1) (for SCR: its subproblem's parameters, the seed's random start).
    Gaussian,
    /// N(0, 2/n_in) weights, zero biases.
    He,
    /// N(0, 2/(n_in + n_out)) weights, zero biases.
    Glorot,
}

impl SchemeArg {
    pub fn scheme(self) -> InitScheme {
        match self {
            SchemeArg::Gaussian => InitScheme::Gaussian,
            SchemeArg::He => InitScheme::He,
            SchemeArg::Glorot => InitScheme::Glorot,
        }
    }
}

#[derive(Args, Clone)]
#[command(next_help_heading = "Start")]
pub struct StartArgs {
    /// Where training starts.
    #[arg(long, value_enum, default_value = "random")]
    pub init: InitKind,
    /// Seed of the random start and of the teacher perturbation (default: --seed).
    #[arg(long)]
    pub init_seed: Option<u64>,
    /// How the random start is drawn [default: SCR gaussian (its parameters), the other methods
    /// he (a network)].
    #[arg(long, value_enum)]
    pub init_scheme: Option<SchemeArg>,
    /// Perturbation σ for --init perturbed.
    #[arg(long, default_value_t = 0.05)]
    pub sigma: f64,
    /// Saved model for --init model.
    #[arg(long)]
    pub init_model: Option<PathBuf>,
}

/// The perturbed start: the teacher with N(0, σ²) noise on every weight (noise seed `seed + 1000`).
pub fn perturbed(teacher: &Teacher, sigma: f64, seed: u64) -> Result<Start> {
    if !(sigma.is_finite() && sigma >= 0.0) {
        bail!("--sigma must be nonnegative and finite, got {sigma}");
    }
    let noise_seed = seed.wrapping_add(1000);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(noise_seed);
    Ok(Start::Model {
        model: teacher.model.perturbed(sigma, &mut rng),
        label: "perturbed".into(),
        detail: format!(
            "the teacher with N(0, {sigma}²) noise on its weights, noise seed {noise_seed}"
        ),
    })
}

impl StartArgs {
    /// The start for `method` on `arch`; `seed` is the default of --init-seed; `standardized`
    /// says whether the run trains on standardised data (a start network must be in the same
    /// units).
    pub fn start(
        &self,
        matches: &ArgMatches,
        method: &Method,
        arch: &Architecture,
        teacher: Option<&Teacher>,
        seed: u64,
        standardized: bool,
    ) -> Result<Start> {
        let given = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
        if given("sigma") && self.init != InitKind::Perturbed {
            bail!("--sigma applies to --init perturbed");
        }
        if given("init_model") && self.init != InitKind::Model {
            bail!("--init-model applies to --init model");
        }
        if given("init_scheme") && self.init != InitKind::Random {
            bail!("--init-scheme applies to --init random");
        }
        let seed = self.init_seed.unwrap_or(seed);
        Ok(match self.init {
            InitKind::Zero => Start::Zero,
            InitKind::Random => Start::Random {
                scheme: self
                    .init_scheme
                    .map_or(method.default_scheme, SchemeArg::scheme),
                seed,
            },
            InitKind::Perturbed => {
                let Some(t) = teacher else {
                    bail!("--init perturbed needs a known teacher: use --teacher, or --init model with --init-model");
                };
                if t.model.arch.widths != arch.widths {
                    bail!("--init perturbed needs --arch equal to the teacher's");
                }
                if standardized {
                    bail!("--init perturbed starts from the teacher's weights, which are in the data's units: drop --standardize");
                }
                perturbed(t, self.sigma, seed)?
            }
            InitKind::Model => {
                let Some(p) = &self.init_model else {
                    bail!("--init model needs --init-model PATH");
                };
                let Network::Mlp(model) = Model::load(p)?.network else {
                    bail!(
                        "--init-model {}: a threshold network cannot start training",
                        p.display()
                    );
                };
                Start::Model {
                    model,
                    label: "model".into(),
                    detail: format!("the model in {}", p.display()),
                }
            }
        })
    }
}

#[derive(Args, Clone)]
#[command(next_help_heading = "Limits")]
pub struct LimitArgs {
    /// Stop each run after this many seconds (all its stages together), keeping the best so far.
    #[arg(long)]
    pub time_limit: Option<f64>,
}

/// Target columns for a file: the names given, or the last `n_outputs`.
pub fn targets(names: &Option<Vec<String>>, n_outputs: usize) -> Targets {
    match names {
        Some(n) => Targets::Names(n.clone()),
        None => Targets::Last(n_outputs),
    }
}

/// Loads `path` with the targets named (or the last `n_outputs` columns) and says which columns
/// became inputs and targets.
pub fn load_data(path: &Path, names: &Option<Vec<String>>, n_outputs: usize) -> Result<Dataset> {
    let table = Table::load(path)?;
    let ds = table.dataset(&targets(names, n_outputs))?;
    let how = match names {
        Some(_) => "named by --targets".to_string(),
        None => format!("the last {n_outputs} column(s)"),
    };
    eprintln!(
        "data: {} ({} samples); targets: {} ({how}); inputs: {}",
        path.display(),
        ds.n_samples(),
        ds.target_names.join(", "),
        ds.input_names.join(", ")
    );
    Ok(ds)
}

/// A planted teacher with `noise` on its targets.
pub fn teacher(arch: &Architecture, n: usize, seed: u64, noise: f64) -> Result<Teacher> {
    let mut t = data::planted_teacher(arch, n, seed)?;
    t.data = data::with_label_noise(&t.data, noise, seed)?;
    Ok(t)
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
