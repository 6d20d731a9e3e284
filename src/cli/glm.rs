//! `cvxnn glm`: a convex linear model on a data file or a bundled set — a run request of one of
//! the linear methods (ridge, lasso, elastic-net, logistic, svm; docs/requests.md), printed as a
//! model's coefficients and its train and test figures.

use super::args::FitOutputArgs;
use super::progress::Progress;
use super::{interrupt, Outcome};
use anyhow::{bail, Result};
use clap::{ArgMatches, Args};
use cvxnn::methods::{GlmCertificate, GlmKind, GlmSolver};
use cvxnn::request::{Prepared, RunRequest, Trained};
use cvxnn::train::Stop;
use serde_json::{json, Value};
use std::path::PathBuf;

#[derive(Args)]
pub struct GlmArgs {
    /// The model.
    #[arg(long, value_parser = ["ridge", "lasso", "elastic-net", "logistic", "svm"])]
    model: String,
    /// Regularisation weight α (scikit-learn's alpha).
    #[arg(long, default_value_t = 1.0, allow_hyphen_values = true)]
    alpha: f64,
    /// Elastic net's ρ (scikit-learn's l1_ratio).
    #[arg(long, default_value_t = 0.5, allow_hyphen_values = true)]
    l1_ratio: f64,
    /// C of logistic regression and the SVM (inverse regularisation weight, as in scikit-learn).
    #[arg(long = "c", default_value_t = 1.0, allow_hyphen_values = true)]
    c: f64,
    /// Logistic regression's penalty.
    #[arg(long, default_value = "l2", value_parser = ["l2", "l1"])]
    penalty: String,
    /// Logistic regression and SVM: this target value is the positive class, every other value
    /// negative (default: two values, the larger positive; logistic with more values: softmax).
    #[arg(long, allow_hyphen_values = true)]
    positive_class: Option<f64>,
    /// Interior point or the first-order path.
    #[arg(long, default_value = "ipm", value_parser = super::args::choices(GlmSolver::CHOICES))]
    solver: String,
    /// First-order tolerance: relative duality gap (coordinate descent, SVM), or the smallest
    /// subgradient relative to the loss gradient at zero (L-BFGS, FISTA).
    #[arg(long, default_value_t = 1e-8)]
    tol: f64,
    /// First-order iteration limit (sweeps for coordinate descent).
    #[arg(long, default_value_t = 100_000)]
    max_iter: usize,
    /// The interior point's relative tolerance (duality gap and feasibility).
    #[arg(long, default_value_t = 1e-10)]
    ipm_tol: f64,
    /// The interior point's iteration cap (reached: the last iterate, with a warning).
    #[arg(long, default_value_t = 500)]
    ipm_max_iter: u32,
    /// Fit no intercept (scikit-learn's fit_intercept=False; the interior point only).
    #[arg(long)]
    no_intercept: bool,
    /// Data file (CSV or .npy) or a bundled set: iris, wine, breast_cancer, diabetes.
    #[arg(long)]
    data: PathBuf,
    /// Target column by header name (default: the last column).
    #[arg(long)]
    target: Option<String>,
    /// Scale every input to mean 0 and standard deviation 1 (fitted on the training part).
    #[arg(long)]
    standardize: bool,
    /// Hold out this fraction of the samples as a test set (seeded by --split-seed).
    #[arg(long)]
    test_fraction: Option<f64>,
    /// Seed of the train/test split.
    #[arg(long, default_value_t = 1)]
    split_seed: u64,
    #[command(flatten)]
    out: FitOutputArgs,
}

/// `glm`'s own flags for the keys whose `train` flags differ.
fn spell(key: &str) -> Option<String> {
    let flag = match key {
        "glm.solver" => "--solver",
        "glm.tol" => "--tol",
        "glm.max_iter" => "--max-iter",
        "glm.fit_intercept" => "--no-intercept",
        "data.targets" => "--target",
        "data.classes" => "the target",
        _ => return super::args::spell(key),
    };
    Some(flag.to_string())
}

/// The run request of `glm`'s flags.
fn request(a: &GlmArgs) -> Result<RunRequest> {
    let classifier = matches!(a.model.as_str(), "logistic" | "svm");
    let mut data = json!({ "file": a.data.display().to_string() });
    if let Some(t) = &a.target {
        data["targets"] = json!([t]);
    }
    if classifier {
        data["classes"] = true.into();
        if let Some(p) = a.positive_class {
            data["positive_class"] = p.into();
        }
    } else if a.positive_class.is_some() {
        bail!("--positive-class applies to --model logistic and svm");
    }
    if let Some(f) = a.test_fraction {
        data["test_fraction"] = f.into();
        data["split_seed"] = a.split_seed.into();
    }
    let number = |name: &str, v: f64| -> Result<Value> {
        match serde_json::Number::from_f64(v) {
            Some(n) => Ok(Value::Number(n)),
            None => bail!("--{name} must be finite, got {v}"),
        }
    };
    let mut r = json!({
        "method": a.model,
        "data": data,
        "standardize": a.standardize,
        "glm": {
            "alpha": number("alpha", a.alpha)?,
            "l1_ratio": number("l1-ratio", a.l1_ratio)?,
            "c": number("c", a.c)?,
            "penalty": a.penalty,
            "solver": a.solver,
            "tol": number("tol", a.tol)?,
            "max_iter": a.max_iter,
            "ipm_tol": number("ipm-tol", a.ipm_tol)?,
            "ipm_max_iter": a.ipm_max_iter,
            "fit_intercept": !a.no_intercept,
        },
    });
    if let Some(t) = a.out.time_limit {
        r["time_limit"] = number("time-limit", t)?;
    }
    Ok(RunRequest::from_value(r)?)
}

/// The model's own description: `{"model": "ridge", "alpha": 1.0}`, … (softmax with its classes,
/// a binary model with its positive class).
fn model_json(a: &GlmArgs, p: &Prepared, softmax: bool) -> Value {
    let l1 = a.penalty == "l1";
    let classes = p.classes.clone().unwrap_or_default();
    match a.model.as_str() {
        "ridge" | "lasso" => json!({ "model": a.model, "alpha": a.alpha }),
        "elastic-net" => {
            json!({ "model": "elastic_net", "alpha": a.alpha, "l1_ratio": a.l1_ratio })
        }
        "logistic" if softmax => {
            json!({ "model": "softmax", "c": a.c, "l1": l1, "classes": classes })
        }
        "logistic" => {
            json!({ "model": "logistic", "c": a.c, "l1": l1, "positive_class": classes[0] })
        }
        _ => json!({ "model": "svm", "c": a.c, "positive_class": classes[0] }),
    }
}

pub fn run(a: GlmArgs, _matches: &ArgMatches) -> Result<Outcome> {
    let respelled = |e: cvxnn::Error| anyhow::anyhow!(cvxnn::error::respell(&e.to_string(), spell));
    let prepared = request(&a)?.prepare(None).map_err(respelled)?;
    let interrupt = interrupt::on_ctrl_c();
    let mut progress = Progress::new("");
    let trained = prepared.run(&mut progress, Some(interrupt));
    progress.finish();
    let trained = trained.map_err(respelled)?;
    let Some(cert) = trained.run.certificate_as::<GlmCertificate>().cloned() else {
        bail!("the {} fit gave no certificate", a.model);
    };
    a.out.save_model(&trained)?;
    let outcome = trained.run.outcome.stop_reason;
    let out = show(&a, &prepared, &trained, &cert)?;
    a.out.save_report(&prepared, trained)?;
    if outcome == Stop::Interrupted {
        return Ok(Outcome::Interrupted);
    }
    Ok(out)
}

/// Prints the fit: JSON, or the coefficients and figures as a table.
fn show(a: &GlmArgs, p: &Prepared, t: &Trained, cert: &GlmCertificate) -> Result<Outcome> {
    let Some(model) = &t.model else {
        bail!(
            "the fit stopped ({}) before every target was fitted",
            t.run.outcome.stop_reason
        );
    };
    let cvxnn::net::Network::Mlp(net) = &model.network else {
        bail!("a linear model is an MLP");
    };
    let (w, b) = (&net.weights[0], &net.biases[0]);
    let rows: Vec<Vec<f64>> = (0..w.rows())
        .map(|k| (0..w.cols()).map(|i| w.get(k, i)).collect())
        .collect();
    let softmax = cert.model == GlmKind::Logistic && rows.len() > 1;
    let model_json = model_json(a, p, softmax);
    let fits = t.run.stages[0]
        .trace_as::<cvxnn::methods::GlmTrace>()
        .map(|t| t.fits.clone())
        .unwrap_or_default();
    let (iterations, seconds) = fits.first().map_or((0, 0.0), |f| (f.iterations, f.seconds));
    let status = cert.status.join(", ");
    let metrics = |m: &cvxnn::methods::Metrics| -> Value {
        m.0.iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    if a.out.json {
        let mut v = json!({
            "data": a.data.display().to_string(),
            "model": model_json,
            "n_train": p.data.n_samples(),
            "standardize": a.standardize,
            "solver": cert.solver,
            "train": metrics(&t.metrics.train),
        });
        v["fit"] = if softmax {
            json!({"coef": rows, "intercept": b, "objective": cert.objective, "status": status,
                   "iterations": iterations, "seconds": seconds})
        } else {
            json!({"coef": rows[0], "intercept": b[0], "objective": cert.objective,
                   "status": status, "iterations": iterations, "seconds": seconds})
        };
        if let Some(test) = &t.metrics.test {
            v["test"] = metrics(&test.metrics);
            v["test"]["n"] = test.n.into();
        }
        println!("{v}");
        return Ok(Outcome::Done);
    }
    println!(
        "{model_json} on {} ({} training samples, {} inputs{})",
        a.data.display(),
        p.data.n_samples(),
        p.data.n_inputs(),
        if a.standardize { ", standardized" } else { "" }
    );
    println!(
        "objective {:.12e}  status {status}  {}: {iterations} iterations  {seconds:.3} s",
        cert.objective, cert.solver
    );
    for w in &t.run.warnings {
        eprintln!(
            "{}: {}",
            if w.starts_with("L-BFGS stopped") {
                "note"
            } else {
                "warning"
            },
            cvxnn::error::respell(w, spell)
        );
    }
    if softmax {
        print!("  {:<28}", "class");
        p.classes.iter().flatten().for_each(|c| print!(" {c:>12}"));
        print!("\n  {:<28}", "intercept");
        b.iter().for_each(|b| print!(" {b:>12.4e}"));
        println!();
        for (i, name) in p.data.input_names.iter().enumerate() {
            print!("  {name:<28}");
            rows.iter().for_each(|w| print!(" {:>12.4e}", w[i]));
            println!();
        }
    } else {
        let zeros = rows[0].iter().filter(|c| c.abs() <= 1e-8).count();
        println!(
            "intercept {:.6e}, {} coefficients, {zeros} of them zero (|w| ≤ 1e-8)",
            b[0],
            rows[0].len()
        );
        for (name, c) in p.data.input_names.iter().zip(&rows[0]) {
            println!("  {name:<28} {c:>14.6e}");
        }
    }
    let show = |m: &cvxnn::methods::Metrics| {
        m.0.iter()
            .enumerate()
            .map(|(i, (k, v))| {
                if i == 0 {
                    format!("{k} {v:.6}")
                } else {
                    format!("{k} {v:.6e}")
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    println!("train: {}", show(&t.metrics.train));
    if let Some(test) = &t.metrics.test {
        println!("test:  {}", show(&test.metrics));
    }
    Ok(Outcome::Done)
}
