//! `cvxnn certify`: how far a saved two-layer ReLU network is from the best two-layer network of
//! any width, on its data and weight-decay objective (docs/global.md).

use super::{
    args::{choices, ModelDataArgs},
    interrupt, Outcome,
};
use anyhow::{Context, Result};
use clap::{ArgMatches, Args};
use cvxnn::convex::Loss;
use cvxnn::global::{certify, BoundSettings, Certified, OutputBias, Units};
use cvxnn::train::{Budget, Limits, Stop};
use serde::Serialize;
use std::path::PathBuf;

#[derive(Args)]
pub struct CertifyArgs {
    /// The network (inputs, one ReLU hidden layer, linear outputs) and its data. A model
    /// trained standardised is certified on its standardised data.
    #[command(flatten)]
    files: ModelDataArgs,
    /// β of the objective (1/N) Σ ℓ(f(x_i), y_i) + (β/2) Σ w² (every weight and hidden bias).
    #[arg(long)]
    weight_decay: f64,
    /// The loss ℓ: squared is ½(f − y)².
    #[arg(long, default_value = "squared", value_parser = choices(Loss::CHOICES))]
    loss: String,
    /// The networks the bound covers: `free` an unpenalised output bias (any value), `none`
    /// none [default: free if the model's output bias is not zero, else none].
    #[arg(long, value_parser = ["none", "free"])]
    output_bias: Option<String>,
    /// With several outputs: `shared` covers every two-layer network, `per-output` only those
    /// whose hidden units each feed one output (the convex program's networks; a higher bound).
    #[arg(long, default_value = "shared", value_parser = ["shared", "per-output"])]
    units: String,
    /// Only the spectral bound (no search): instant, often far below the optimum.
    #[arg(long)]
    cheap: bool,
    /// Also run column generation from the network's units (a third of --time-limit) and keep
    /// the higher bound: for a network far from optimal its own residual certifies little.
    #[arg(long, conflicts_with = "cheap")]
    improve: bool,
    /// The pricer's relative accuracy on the dual constraint's maximum.
    #[arg(long, default_value_t = 1e-6)]
    tol: f64,
    /// Stop the search after this many seconds, keeping the (looser) bound it has proved.
    #[arg(long)]
    time_limit: Option<f64>,
    /// Seed of the pricer's random starts.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write the certificate as JSON.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Print the certificate as JSON instead of the summary.
    #[arg(long)]
    json: bool,
}

/// `certify --report`.
#[derive(Serialize)]
struct CertifyReport<'a> {
    format: &'static str,
    version: u32,
    cvxnn_version: &'static str,
    model: String,
    data: String,
    /// The data was standardised as the model was trained.
    standardized: bool,
    #[serde(flatten)]
    certified: &'a Certified,
}

pub fn run(a: CertifyArgs, _matches: &ArgMatches) -> Result<Outcome> {
    let (model, mut ds) = a.files.load()?;
    let Some(net) = model.network.as_mlp() else {
        anyhow::bail!(
            "{} holds {}, not a ReLU network",
            a.files.model.display(),
            model.network.describe()
        );
    };
    if let Some(s) = &model.scaling {
        ds = s.apply(&ds)?;
    }
    let loss: Loss = serde_json::from_value(serde_json::Value::String(a.loss.clone()))
        .with_context(|| format!("unknown loss {}", a.loss))?;
    let mut settings = BoundSettings::new(loss, a.weight_decay);
    let has_bias = net
        .biases
        .last()
        .is_some_and(|b| b.iter().any(|&v| v != 0.0));
    settings.output_bias = match a.output_bias.as_deref() {
        Some("free") => OutputBias::Free,
        Some(_) => OutputBias::None,
        None if has_bias => OutputBias::Free,
        None => OutputBias::None,
    };
    settings.units = if a.units == "per-output" {
        Units::PerOutput
    } else {
        Units::Shared
    };
    settings.prove = !a.cheap;
    settings.improve = a.improve;
    settings.rel_tol = a.tol;
    settings.seed = a.seed;
    let flag = interrupt::on_ctrl_c();
    let limits = Limits {
        time_limit: a.time_limit,
        interrupt: Some(flag),
    };
    limits.validate()?;
    let budget = Budget::start(&limits);
    let c = certify(net, &ds.x, &ds.y, &settings, &budget)?;
    let report = CertifyReport {
        format: "cvxnn-certificate",
        version: 1,
        cvxnn_version: env!("CARGO_PKG_VERSION"),
        model: a.files.model.display().to_string(),
        data: a.files.data.display().to_string(),
        standardized: model.scaling.is_some(),
        certified: &c,
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_summary(&a, &c, model.scaling.is_some());
    }
    if let Some(path) = &a.report {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
        super::wrote("certificate", path);
    }
    let interrupted = budget.exhausted() == Some(Stop::Interrupted);
    Ok(if interrupted {
        Outcome::Interrupted
    } else {
        Outcome::Done
    })
}

fn print_summary(a: &CertifyArgs, c: &Certified, standardized: bool) {
    let b = &c.bound;
    let scope = match (b.units, b.output_bias) {
        (Units::Shared, OutputBias::None) => "every two-layer ReLU network without output bias",
        (Units::Shared, OutputBias::Free) => {
            "every two-layer ReLU network, with any unpenalised output bias"
        }
        (Units::PerOutput, OutputBias::None) => {
            "every two-layer ReLU network without output bias whose hidden units each feed one output"
        }
        (Units::PerOutput, OutputBias::Free) => {
            "every two-layer ReLU network whose hidden units each feed one output, with any \
             unpenalised output bias"
        }
    };
    println!(
        "network      {} ({} hidden units, {} not zero)",
        a.files.model.display(),
        c.units,
        c.live_units
    );
    println!(
        "objective    {:.6e}  = loss {:.6e} + penalty {:.6e}  ({} loss, β = {}{})",
        c.objective,
        c.loss_term,
        c.penalty,
        b.loss.name(),
        b.weight_decay,
        if standardized {
            ", standardised data"
        } else {
            ""
        }
    );
    println!(
        "lower bound  {:.6e}  on {scope}, of any width",
        b.lower_bound
    );
    let status = match b.status {
        cvxnn::global::dual::BoundStatus::Proved => "proved (the pricer closed every cell)",
        cvxnn::global::dual::BoundStatus::TimeLimit => {
            "valid; the search stopped at the time limit (a longer run can raise it)"
        }
        cvxnn::global::dual::BoundStatus::Interrupted => "valid; the search was interrupted",
        cvxnn::global::dual::BoundStatus::CellLimit => {
            "valid; the search reached its cell limit (a higher bound may exist)"
        }
        cvxnn::global::dual::BoundStatus::CheapOnly => "valid; the spectral bound only (--cheap)",
    };
    println!("bound        {status}");
    if let Some(c) = b.ceiling {
        println!(
            "ceiling      {c:.6e}  (not a bound: what this network's residual would certify with \
             a complete search)"
        );
    }
    for (k, o) in b.outputs.iter().enumerate() {
        println!(
            "output {}     max |zᵀ(X̃u)₊| over all units: found {:.6e}, proved ≤ {:.6e} (β = {}; \
             spectral {:.3e}; {} cells, {:.1} s)",
            k + 1,
            o.found,
            o.upper,
            b.weight_decay,
            o.spectral,
            o.cells,
            o.seconds
        );
    }
    if let Some(i) = &c.improved {
        println!(
            "improved     column generation from the network's units ({} rounds): a network \
             with objective {:.6e} exists; its dual point certifies {:.6e}, the network's own \
             residual {:.6e}",
            i.rounds, i.objective, i.generated_bound, i.own_bound
        );
    }
    match c.excess {
        Some(x) => println!(
            "certified    at most {:.4} % above the best such network",
            100.0 * x
        ),
        None => println!("certified    nothing: the bound is not above 0"),
    }
}
