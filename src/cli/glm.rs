//! `cvxnn glm`: the convex models of [`cvxnn::glm`] on a data file or a bundled set.

use super::positive_class;
use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use cvxnn::data::{Dataset, Targets};
use cvxnn::glm::softmax::{Softmax, SoftmaxFit};
use cvxnn::glm::svm::LinearSvm;
use cvxnn::glm::{
    first_order, softmax, svm, FirstOrderSettings, LeastSquares, LinearFit, Logistic,
};
use std::path::PathBuf;

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum GlmModel {
    /// ‖y − Xw − b‖² + α‖w‖² (scikit-learn's Ridge).
    Ridge,
    /// ‖y − Xw − b‖²/(2N) + α‖w‖₁ (scikit-learn's Lasso).
    Lasso,
    /// ‖y − Xw − b‖²/(2N) + αρ‖w‖₁ + α(1 − ρ)‖w‖²/2 (scikit-learn's ElasticNet, ρ = --l1-ratio).
    ElasticNet,
    /// C Σ log(1 + exp(−y(wᵀx + b))) + ½‖w‖² or ‖w‖₁ (scikit-learn's LogisticRegression). Two
    /// target values, or --positive-class against the rest: binary; more values: softmax
    /// (multinomial) over all of them.
    Logistic,
    /// ½‖w‖² + C Σ max(0, 1 − y(wᵀx + b)) (scikit-learn's SVC(kernel="linear")). Labels as for
    /// binary logistic regression.
    Svm,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum PenaltyArg {
    L2,
    L1,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum SolverArg {
    /// Interior point (Clarabel): ridge, lasso and elastic net as QPs, logistic regression with
    /// exponential cones, the SVM as a QP.
    Ipm,
    /// Coordinate descent (least squares), L-BFGS (ℓ₂ logistic), FISTA (ℓ₁ logistic), dual
    /// accelerated projected gradient (SVM).
    FirstOrder,
}

/// Softmax regression refuses targets with more classes than this (a regression target).
const MAX_CLASSES: usize = 100;

#[derive(Args)]
pub struct GlmArgs {
    /// The model.
    #[arg(long, value_enum)]
    model: GlmModel,
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
    #[arg(long, value_enum, default_value = "l2")]
    penalty: PenaltyArg,
    /// Logistic regression and SVM: this target value is the positive class, every other value
    /// negative (default: two values, the larger positive; logistic with more values: softmax).
    #[arg(long, allow_hyphen_values = true)]
    positive_class: Option<f64>,
    /// Interior point or the first-order path.
    #[arg(long, value_enum, default_value = "ipm")]
    solver: SolverArg,
    /// First-order tolerance: relative duality gap (coordinate descent, SVM), or the smallest
    /// subgradient relative to the loss gradient at zero (L-BFGS, FISTA).
    #[arg(long, default_value_t = 1e-8)]
    tol: f64,
    /// First-order iteration limit (sweeps for coordinate descent).
    #[arg(long, default_value_t = 100_000)]
    max_iter: usize,
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
    /// Print the result as JSON (coefficients included).
    #[arg(long)]
    json: bool,
}

/// What was fitted: one linear function, or one per class.
enum Fitted {
    Linear(LinearFit),
    Softmax(SoftmaxFit, Vec<f64>),
}

impl Fitted {
    fn summary(&self) -> (f64, &str, u32, f64) {
        match self {
            Fitted::Linear(f) => (f.objective, &f.status, f.iterations, f.seconds),
            Fitted::Softmax(f, _) => (f.objective, &f.status, f.iterations, f.seconds),
        }
    }

    /// Two metrics and their names: (mse, R²), (accuracy, log-loss) or (accuracy, mean hinge).
    fn metrics(&self, model: GlmModel, d: &Dataset) -> [(&'static str, f64); 2] {
        let y = d.y.as_slice();
        let n = y.len() as f64;
        match self {
            Fitted::Softmax(f, classes) => {
                let idx = class_indices(y, classes);
                let (acc, ce) = f.metrics(&d.x, &idx);
                [("accuracy", acc), ("log_loss", ce)]
            }
            Fitted::Linear(f) => {
                let pred = f.predict(&d.x);
                let pairs = y.iter().zip(&pred);
                match model {
                    GlmModel::Logistic | GlmModel::Svm => {
                        let acc = pairs.clone().filter(|(t, p)| (**p > 0.0) == (**t > 0.0));
                        let second: f64 = if model == GlmModel::Svm {
                            pairs.map(|(t, p)| (1.0 - t * p).max(0.0)).sum()
                        } else {
                            pairs.map(|(t, p)| cvxnn::glm::softplus(-t * p)).sum()
                        };
                        let name = if model == GlmModel::Svm {
                            "hinge"
                        } else {
                            "log_loss"
                        };
                        [("accuracy", acc.count() as f64 / n), (name, second / n)]
                    }
                    _ => {
                        let mean = y.iter().sum::<f64>() / n;
                        let sse: f64 = pairs.map(|(t, p)| (t - p).powi(2)).sum();
                        let sst: f64 = y.iter().map(|t| (t - mean).powi(2)).sum();
                        let r2 = if sst > 0.0 { 1.0 - sse / sst } else { f64::NAN };
                        [("mse", sse / n), ("r2", r2)]
                    }
                }
            }
        }
    }
}

/// Each target's position in the sorted class values (values not among them: `classes.len()`,
/// which counts as a miss).
fn class_indices(y: &[f64], classes: &[f64]) -> Vec<usize> {
    y.iter()
        .map(|v| classes.iter().position(|c| c == v).unwrap_or(classes.len()))
        .collect()
}

fn solver_name(model: GlmModel, solver: SolverArg, l1: bool) -> &'static str {
    match (solver, model) {
        (SolverArg::Ipm, _) => "interior point (Clarabel)",
        (_, GlmModel::Ridge | GlmModel::Lasso | GlmModel::ElasticNet) => "coordinate descent",
        (_, GlmModel::Svm) => "dual accelerated projected gradient",
        (_, GlmModel::Logistic) if l1 => "FISTA",
        _ => "L-BFGS",
    }
}

pub fn run(a: GlmArgs, _matches: &clap::ArgMatches) -> Result<super::Outcome> {
    let targets = match &a.target {
        Some(t) => Targets::Names(vec![t.clone()]),
        None => Targets::Last(1),
    };
    let ds = Dataset::load(&a.data, &targets)?;
    let (train, test) = match a.test_fraction {
        Some(f) => {
            let (tr, te) = ds.split(f, a.split_seed)?;
            (tr, Some(te))
        }
        None => (ds, None),
    };
    let (train, test) = if a.standardize {
        let (z, st) = train.standardized()?;
        let te = test.map(|t| st.apply(&t)).transpose()?;
        (z, te)
    } else {
        (train, test)
    };
    let l1 = a.penalty == PenaltyArg::L1;
    let settings = FirstOrderSettings {
        tol: a.tol,
        max_iter: a.max_iter,
    };
    let ipm = a.solver == SolverArg::Ipm;
    let values = super::distinct(train.y.as_slice());
    let softmax = a.model == GlmModel::Logistic && a.positive_class.is_none() && values.len() > 2;
    // classifiers: labels ±1 (binary) or class indices (softmax)
    let (train, test, model_json, fit) = if softmax {
        if values.len() > MAX_CLASSES {
            bail!(
                "the target takes {} values: softmax regression needs class labels (at most \
                 {MAX_CLASSES}); for a regression target use ridge, lasso or elastic-net",
                values.len()
            );
        }
        let m = Softmax { c: a.c, l1 };
        let y = class_indices(train.y.as_slice(), &values);
        let fit = if ipm {
            softmax::fit(&train.x, &y, values.len(), m)?
        } else {
            softmax::fit_first_order(&train.x, &y, values.len(), m, &settings)?
        };
        let json = serde_json::json!({"model": "softmax", "c": a.c, "l1": l1, "classes": values});
        (train, test, json, Fitted::Softmax(fit, values))
    } else if matches!(a.model, GlmModel::Logistic | GlmModel::Svm) {
        let positive = positive_class(
            train.y.as_slice(),
            a.positive_class,
            "choose one with --positive-class (one against the rest)",
        )?;
        let relabel = |d: Dataset| -> Dataset {
            let y = d.y.map(|v| if v == positive { 1.0 } else { -1.0 });
            Dataset { y, ..d }
        };
        let (train, test) = (relabel(train), test.map(relabel));
        let y = train.y.as_slice();
        let (fit, json) = if a.model == GlmModel::Svm {
            let m = LinearSvm { c: a.c };
            let fit = if ipm {
                svm::fit(&train.x, y, m)?
            } else {
                svm::fit_first_order(&train.x, y, m, &settings)?
            };
            (fit, serde_json::json!({"model": "svm", "c": a.c}))
        } else {
            let m = Logistic { c: a.c, l1 };
            let fit = if ipm {
                cvxnn::glm::fit_logistic(&train.x, y, m)?
            } else {
                first_order::logistic(&train.x, y, m, &settings)?
            };
            (
                fit,
                serde_json::json!({"model": "logistic", "c": a.c, "l1": l1}),
            )
        };
        let mut json = json;
        json["positive_class"] = positive.into();
        (train, test, json, Fitted::Linear(fit))
    } else {
        let m = match a.model {
            GlmModel::Ridge => LeastSquares::Ridge { alpha: a.alpha },
            GlmModel::Lasso => LeastSquares::Lasso { alpha: a.alpha },
            _ => LeastSquares::ElasticNet {
                alpha: a.alpha,
                l1_ratio: a.l1_ratio,
            },
        };
        let y = train.y.as_slice();
        let fit = if ipm {
            cvxnn::glm::fit_least_squares(&train.x, y, m)?
        } else {
            first_order::least_squares(&train.x, y, m, &settings)?
        };
        let json = serde_json::to_value(m)?;
        (train, test, json, Fitted::Linear(fit))
    };
    let solver = solver_name(a.model, a.solver, l1);
    let train_m = fit.metrics(a.model, &train);
    let test_m = test.as_ref().map(|t| fit.metrics(a.model, t));
    let (objective, status, iterations, seconds) = fit.summary();
    if a.json {
        let metrics = |m: [(&str, f64); 2]| serde_json::json!({m[0].0: m[0].1, m[1].0: m[1].1});
        let mut v = serde_json::json!({
            "data": a.data.display().to_string(),
            "model": model_json,
            "n_train": train.n_samples(),
            "standardize": a.standardize,
            "solver": solver,
            "train": metrics(train_m),
        });
        v["fit"] = match &fit {
            Fitted::Linear(f) => serde_json::to_value(f)?,
            Fitted::Softmax(f, _) => serde_json::to_value(f)?,
        };
        if let (Some(m), Some(te)) = (test_m, &test) {
            v["test"] = metrics(m);
            v["test"]["n"] = te.n_samples().into();
        }
        println!("{v}");
        return Ok(super::Outcome::Done);
    }
    println!(
        "{model_json} on {} ({} training samples, {} inputs{})",
        a.data.display(),
        train.n_samples(),
        train.n_inputs(),
        if a.standardize { ", standardized" } else { "" }
    );
    println!(
        "objective {objective:.12e}  status {status}  {solver}: {iterations} iterations  \
         {seconds:.3} s"
    );
    if status == "precision_limit" {
        eprintln!(
            "note: L-BFGS stopped where no step lowers the objective in floating point, before \
             --tol was met: the objective is optimal to rounding, the gradient is not below --tol"
        );
    } else if status != "solved" && status != "converged" {
        eprintln!(
            "warning: the solver stopped with status {status}: the objective may not be optimal \
             (raise --max-iter or --tol for the first-order path)"
        );
    }
    match &fit {
        Fitted::Linear(f) => {
            let zeros = f.coef.iter().filter(|c| c.abs() <= 1e-8).count();
            println!(
                "intercept {:.6e}, {} coefficients, {zeros} of them zero (|w| ≤ 1e-8)",
                f.intercept,
                f.coef.len()
            );
            for (name, c) in train.input_names.iter().zip(&f.coef) {
                println!("  {name:<28} {c:>14.6e}");
            }
        }
        Fitted::Softmax(f, classes) => {
            print!("  {:<28}", "class");
            classes.iter().for_each(|c| print!(" {c:>12}"));
            print!("\n  {:<28}", "intercept");
            f.intercept.iter().for_each(|b| print!(" {b:>12.4e}"));
            println!();
            for (i, name) in train.input_names.iter().enumerate() {
                print!("  {name:<28}");
                f.coef.iter().for_each(|w| print!(" {:>12.4e}", w[i]));
                println!();
            }
        }
    }
    let show = |m: [(&str, f64); 2]| format!("{} {:.6}  {} {:.6e}", m[0].0, m[0].1, m[1].0, m[1].1);
    println!("train: {}", show(train_m));
    if let Some(m) = test_m {
        println!("test:  {}", show(m));
    }
    Ok(super::Outcome::Done)
}
