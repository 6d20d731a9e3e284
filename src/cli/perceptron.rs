//! `cvxnn perceptron`: a single layer of threshold units trained by linear programming, one LP per
//! output node ([`cvxnn::perceptron`]).

use anyhow::{bail, Result};
use clap::Args;
use cvxnn::data::{Dataset, Targets};
use cvxnn::linalg::Matrix;
use cvxnn::perceptron::{accuracy, robust_lp, separate, Separation};
use std::path::PathBuf;

#[derive(Args)]
pub struct PerceptronArgs {
    /// Data file (CSV or .npy) or a bundled set: iris, wine, breast_cancer, diabetes.
    #[arg(long)]
    data: PathBuf,
    /// Target column by header name (default: the last column).
    #[arg(long)]
    target: Option<String>,
    /// One node: this target value (+1) against every other (−1). Default: with two target
    /// values one node (the larger positive); with more, one node per value (one against the
    /// rest), a layer of as many threshold units.
    #[arg(long, allow_hyphen_values = true)]
    positive_class: Option<f64>,
    /// Keep only the samples whose target is one of these values, e.g. 1,2.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    classes: Option<Vec<f64>>,
    /// Print the result as JSON (hyperplanes or certificates included).
    #[arg(long)]
    json: bool,
}

/// The layer refuses targets with more values than this (a regression target).
const MAX_NODES: usize = 100;

/// One output node's LPs.
struct Node {
    positive: f64,
    y: Vec<f64>,
    separation: Separation,
    robust: Option<(Vec<f64>, f64, f64)>,
}

impl Node {
    /// The node's hyperplane: the separator if there is one, else the robust LP's.
    fn plane(&self) -> Option<(&[f64], f64)> {
        match &self.separation {
            Separation::Separable { w, b } => Some((w, *b)),
            Separation::NotSeparable { .. } => self.robust.as_ref().map(|(w, b, _)| (&w[..], *b)),
        }
    }
}

pub fn run(a: PerceptronArgs, _matches: &clap::ArgMatches) -> Result<super::Outcome> {
    let targets = match &a.target {
        Some(t) => Targets::Names(vec![t.clone()]),
        None => Targets::Last(1),
    };
    let ds = Dataset::load(&a.data, &targets)?;
    let keep: Vec<usize> = (0..ds.n_samples())
        .filter(|&j| {
            a.classes
                .as_ref()
                .is_none_or(|c| c.contains(&ds.y.get(0, j)))
        })
        .collect();
    if keep.is_empty() {
        bail!("--classes keeps no sample");
    }
    let x = Matrix::from_fn(ds.n_inputs(), keep.len(), |i, k| ds.x.get(i, keep[k]));
    let t: Vec<f64> = keep.iter().map(|&j| ds.y.get(0, j)).collect();
    let values = super::distinct(&t);
    let positives = match a.positive_class {
        Some(_) => vec![super::positive_class(&t, a.positive_class, "")?],
        None if values.len() == 2 => vec![values[1]],
        None if values.len() > MAX_NODES => bail!(
            "the target takes {} values: a layer of threshold units needs class labels (at most \
             {MAX_NODES})",
            values.len()
        ),
        None if values.len() < 2 => bail!("the target takes a single value: nothing to separate"),
        None => values.clone(),
    };
    let mut nodes = Vec::with_capacity(positives.len());
    for &positive in &positives {
        let y: Vec<f64> = t
            .iter()
            .map(|&v| if v == positive { 1.0 } else { -1.0 })
            .collect();
        let separation = separate(&x, &y)?;
        let robust = robust_lp(&x, &y).ok();
        nodes.push(Node {
            positive,
            y,
            separation,
            robust,
        });
    }
    // a sample is right when every node's sign matches its ±1 code
    let layer_accuracy = (nodes.len() > 1).then(|| {
        let right = (0..t.len())
            .filter(|&j| {
                nodes.iter().all(|n| {
                    n.plane().is_some_and(|(w, b)| {
                        let f: f64 = w.iter().zip(x.col(j)).map(|(w, x)| w * x).sum::<f64>() + b;
                        (f > 0.0) == (n.y[j] > 0.0)
                    })
                })
            })
            .count();
        right as f64 / t.len() as f64
    });
    if a.json {
        let node_json = |n: &Node| {
            let mut v = serde_json::json!({
                "positive_class": n.positive,
                "n_positive": n.y.iter().filter(|&&v| v > 0.0).count(),
                "separation": n.separation,
            });
            if let Some((w, b, obj)) = &n.robust {
                v["robust_lp"] = serde_json::json!({
                    "w": w, "b": b, "objective": obj, "accuracy": accuracy(&x, &n.y, w, *b),
                });
            }
            v
        };
        let mut v = serde_json::json!({
            "data": a.data.display().to_string(),
            "n": t.len(),
        });
        if let [only] = &nodes[..] {
            // one node: its fields at the top level
            if let serde_json::Value::Object(m) = node_json(only) {
                m.into_iter().for_each(|(k, val)| v[k] = val);
            }
        } else {
            v["nodes"] = nodes.iter().map(node_json).collect();
            v["layer_accuracy"] = layer_accuracy.into();
        }
        println!("{v}");
        return Ok(super::Outcome::Done);
    }
    println!(
        "{}: {} samples, {} inputs, {}",
        a.data.display(),
        t.len(),
        x.rows(),
        if nodes.len() == 1 {
            "one output node".to_string()
        } else {
            format!(
                "{} output nodes (one per class against the rest)",
                nodes.len()
            )
        }
    );
    for n in &nodes {
        let n_pos = n.y.iter().filter(|&&v| v > 0.0).count();
        println!(
            "node: target {} (+1, {n_pos} samples) against the {} others (−1)",
            n.positive,
            t.len() - n_pos
        );
        match &n.separation {
            Separation::Separable { w, b } => {
                println!("  linearly separable: y_i (wᵀx_i + b) ≥ 1 for every sample");
                println!(
                    "  w = {:?}, b = {b:.6e}, training accuracy {:.4}",
                    w.iter().map(|v| format!("{v:.4e}")).collect::<Vec<_>>(),
                    accuracy(&x, &n.y, w, *b)
                );
            }
            Separation::NotSeparable { lambda, residual } => {
                let support = lambda.iter().filter(|&&l| l > 1e-9).count();
                println!(
                    "  NOT linearly separable: Farkas certificate λ ≥ 0, Σλ = 1, on {support} \
                     samples, with |Σ λ_i y_i [x_i; 1]|_∞ = {residual:.2e}"
                );
                println!(
                    "  (a separator would give 0 ≈ Σ λ_i y_i (wᵀx_i + b) ≥ 1; --json prints λ)"
                );
            }
        }
        if let Some((w, b, obj)) = &n.robust {
            println!(
                "  robust LP (Bennett & Mangasarian 1992): mean violation per class {obj:.6e}, \
                 training accuracy {:.4}",
                accuracy(&x, &n.y, w, *b)
            );
        }
    }
    if let Some(acc) = layer_accuracy {
        println!(
            "layer: every node right (separator, or robust-LP plane where there is none) on \
             {:.4} of the samples",
            acc
        );
    }
    Ok(super::Outcome::Done)
}
